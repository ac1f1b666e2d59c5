"""Hostile and absurd input through the core: never a crash, replies bounded, HTML safe.

Generated cases (at least 200) plus hypothesis properties for normalisation and replies.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Context, answer
from bot.core.normalize import normalize
from bot.core.render import Bold, Link, bullets, para, to_html, to_text
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge

KNOWLEDGE = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
TODAY = date(2026, 11, 28)
MAX_REPLY = 6000  # characters: the longest overview is well under this
ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "a", "ul", "ol", "li", "code"}
NASTY = [
    "\u202e",  # right-to-left override
    "\u200b\u200c\u200d\ufeff",  # zero-width
    "\x00\x07\x1b[31m",  # control, terminal escape
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[lien](javascript:alert(1))",
    "**gras** _it_ `code` # titre",
    "@room @bot:localhost",
    "😀🎉🔥👍🏽",
    "à 99999999999 personnes",
    "-1 participants",
    "0 personne",
    "é" * 500,
    "%s %n {0} ${x} {{7*7}}",
    "'; DROP TABLE questions; --",
]
SEEDS = ["visio", "zoom", "tchap", "audio a 12", "fusionner appels", "sharepoint", "", "aide"]


def generated_messages(count: int = 240) -> list[str]:
    rng = random.Random(20261128)
    messages = ["x" * 100_000, "visio " * 20_000, "🙂" * 30_000, "\u202e" * 5000 + "zoom"]
    while len(messages) < count:
        parts = [rng.choice(NASTY), rng.choice(SEEDS), rng.choice(NASTY)]
        rng.shuffle(parts)
        messages.append(" ".join(parts))
    return messages


def check_reply(question: str, knowledge: Knowledge = KNOWLEDGE) -> None:
    reply, context = answer(question, knowledge, Context(), today=TODAY)
    assert reply.subject
    assert 0 < len(reply.text) <= MAX_REPLY
    assert len(reply.html) <= 2 * MAX_REPLY
    assert set(re.findall(r"</?([a-zA-Z0-9]+)", reply.html)) <= ALLOWED_TAGS
    assert "<script" not in reply.html and "onerror" not in reply.html
    # Links come from the knowledge only: the question's text never becomes a link.
    hrefs = re.findall(r"""href\s*=\s*["']?([^"'\s>]*)""", reply.html, flags=re.IGNORECASE)
    assert all(re.match(r"(https://|http://|mailto:|tel:)", h) for h in hrefs), hrefs
    assert "javascript:" not in "".join(hrefs).lower()
    # Follow-ups on a hostile context keep working.
    answer("et pour 3 personnes ?", knowledge, context, today=TODAY)


@pytest.mark.parametrize("question", generated_messages())
def test_generated_hostile_message(question: str) -> None:
    check_reply(question)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_gets_a_bounded_safe_reply(question: str) -> None:
    check_reply(question)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalisation_is_idempotent_and_plain(text: str) -> None:
    lexicon = KNOWLEDGE.lexicon
    stopwords = frozenset(lexicon.stopwords)
    once = normalize(text, lexicon.abbreviations, stopwords)
    assert re.fullmatch(r"[a-z0-9@.+ ]*", once.plain)
    again = normalize(once.plain, lexicon.abbreviations, stopwords)
    assert (again.plain, again.words, again.tokens) == (once.plain, once.words, once.tokens)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_rendering_escapes_every_string(label: str, target: str) -> None:
    html = to_html([para(label, Bold(label)), bullets([[Link(label, target)]])])
    assert "<" not in re.sub(r"</?(p|strong|ul|li|a)( href=\"[^\"]*\")?>", "", html)
    assert to_text([para(label)]) == label
