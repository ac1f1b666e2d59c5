"""The cue phrases' first-word gate (cues.Phrases) finds exactly what the regular
expression alone finds, on the lexicon's own cues, for texts made of their words, of
pieces of them glued to other characters, and of words of the evaluation questions."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.cues import Phrases, _regex, cues_for, text_words
from bot.knowledge.loader import load_knowledge

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_knowledge(ROOT / "knowledge")
CUES = cues_for(KNOWLEDGE)
_D = KNOWLEDGE.lexicon.dialogue
_TEXTS = [*CUES.attribute_kinds, *_D.corrections, *_D.topic_switches, *_D.details, *_D.yes_no]
FIELDS = ("attributes", "corrections", "switches", "details", "yes_no", "needed")
ALL: list[Phrases] = [getattr(CUES, name) for name in FIELDS]
PIECES = [*sorted({w for p in [*_TEXTS, *_D.needed] for w in p.split()}), "a", "2", "vpn"]
GLUE = st.sampled_from([" ", " ", " ", "", "-", "'", ".", "@", "é", "  "])


def _same(phrases: Phrases, plain: str) -> None:
    gated = [m.span() for m in phrases.finditer(plain, text_words(plain))]
    assert gated == [m.span() for m in phrases.pattern.finditer(plain)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), GLUE), max_size=12))
def test_the_gate_finds_what_the_expression_finds(parts: list[tuple[str, str]]) -> None:
    plain = "".join(word + glue for word, glue in parts)
    for phrases in ALL:
        _same(phrases, plain)


def test_the_gate_is_on_for_the_lexicon_and_off_when_a_phrase_starts_with_a_sign() -> None:
    assert all(p.firsts for p in ALL)
    assert "lien" in CUES.attributes.firsts  # type: ignore[operator]
    signed = _regex(["lien", "?? merci"])
    assert signed.firsts is None
    assert [m.group(0) for m in signed.finditer("bon ?? merci", text_words("bon ?? merci"))] == [
        "?? merci"
    ]


def test_a_text_without_any_first_word_is_not_scanned() -> None:
    phrases = _regex(["lien de connexion", "adresse"])
    assert phrases.finditer("visio a 60", text_words("visio a 60")) == []
    assert [
        m.group(0)
        for m in phrases.finditer("le lien de connexion ?", text_words("le lien de connexion ?"))
    ] == ["lien de connexion"]
