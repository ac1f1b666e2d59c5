"""The rest of a message reuses the message's scores only when scoring it again would give
the same ones (decision.score_rest): checked on every question of every evaluation set, on
the shipped knowledge and on the 100 times larger one of the benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.decision import read_question, rest_of, score_rest, score_text
from bot.evaluation import load_set
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from tests.bench.core_bench import scaled

ROOT = Path(__file__).resolve().parents[2]
SETS = sorted((ROOT.parent / "shared" / "eval").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "eval").glob("*.yaml")
)
EXTRA = [
    "tixeo c'est gratuit ?",
    "c'est quoi le lien de la webconf",
    "je suis en DDT, comment réserver une audio conférence",
    "combien de personnes max sur scaleway pour 12 personnes",
    "le lien de la visio chez eux",  # a concept beside the cue
    "comment installer tchap sur mon iphone",
]


def _questions() -> list[str]:
    out = list(EXTRA)
    for path in SETS:
        cases, dialogues = load_set(path)
        out += [c.q for c in cases] + [t.q for d in dialogues for t in d.turns]
    return out


@pytest.fixture(scope="module")
def shipped() -> Knowledge:
    return load_knowledge(ROOT / "knowledge")


def _ranking(scored: tuple) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    return [(str(s.subject), round(s.score, 9)) for s in scored]


def _check(knowledge: Knowledge) -> int:
    reused = 0
    for question in _questions():
        q = read_question(question, knowledge)
        rest = rest_of(q, knowledge)
        fast = score_rest(q, rest, knowledge)
        if fast is q.scored:
            reused += 1
            assert _ranking(fast) == _ranking(score_text(rest, knowledge)), question
    return reused


def test_the_rest_reuses_the_messages_scores_only_when_they_agree(shipped: Knowledge) -> None:
    assert _check(shipped) > 50  # the shortcut is taken, and is right each time


def test_the_same_on_a_knowledge_100_times_larger(shipped: Knowledge) -> None:
    assert _check(scaled(shipped, 100)) > 50
