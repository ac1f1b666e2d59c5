"""Reply rendering: plain text and the safe HTML subset, with everything escaped."""

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.core.render import Bold, Link, bullets, escape, para, to_html, to_text

ALLOWED = {"p", "br", "b", "strong", "i", "em", "a", "ul", "ol", "li", "code"}


def test_text_and_html_carry_the_same_content() -> None:
    blocks = [
        para(Bold("Zoom"), " — à éviter"),
        bullets([[Link("", "https://webconf.numerique.gouv.fr")], [Link("Écrire", "a@b.fr")]]),
    ]
    assert to_text(blocks) == ("Zoom — à éviter\n\n- webconf.numerique.gouv.fr\n- Écrire : a@b.fr")
    assert to_html(blocks) == (
        "<p><strong>Zoom</strong> — à éviter</p><ul>"
        '<li><a href="https://webconf.numerique.gouv.fr">webconf.numerique.gouv.fr</a></li>'
        '<li>Écrire : <a href="mailto:a@b.fr">a@b.fr</a></li></ul>'
    )


def test_markup_in_any_string_is_escaped() -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="y">'
    html = to_html([para(hostile, Bold(hostile)), bullets([[Link(hostile, 'x" onclick="z')]])])
    assert "<script" not in html and "<img" not in html
    assert '" onclick' not in html
    assert set(re.findall(r"</?([a-z0-9]+)", html)) <= ALLOWED


def test_links_only_point_to_web_or_mail() -> None:
    html = to_html([para(Link("x", "javascript:alert(1)"))])
    assert "href" not in html and "javascript:alert(1)" in html


@given(st.text(alphabet=st.sampled_from("a<>&\"' é\n"), max_size=40))
def test_the_cores_escape_is_the_standard_one(text: str) -> None:
    assert escape(text) == html.escape(text)
    assert escape(text, quote=False) == html.escape(text, quote=False)
