"""The matcher's fast paths (candidates split by set operations, plain patterns scored from
their rows) give exactly the scores of the general rules, pattern by pattern, on every
question of the evaluation sets, for the shipped knowledge and for one five times larger."""

from pathlib import Path

import pytest

from bot.core import matcher
from bot.core.index import Index, index_for
from bot.core.normalize import normalize
from bot.evaluation import load_set
from bot.knowledge.loader import load_knowledge
from tests.bench.core_bench import scaled

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    c.q for path in sorted((ROOT / "tests" / "eval").glob("*.yaml")) for c in load_set(path)[0]
]
KNOWLEDGE = load_knowledge(ROOT / "knowledge")


def _scores(index: Index) -> list[dict[str, tuple[float, frozenset[str], bool]]]:
    out = []
    for q in QUESTIONS:
        norm = normalize(q, index.abbreviations, index.stopwords)
        spans = index.concepts.spans(norm.words)
        said = tuple(spans)
        scored = matcher.score_subjects(norm.tokens + said, index, norm.surface + said, spans)
        out.append({s.subject: (s.score, s.matched, s.anchored) for s in scored})
    return out


@pytest.mark.parametrize("factor", [1, 5])
def test_fast_paths_score_as_the_general_rules(
    factor: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_for(KNOWLEDGE if factor == 1 else scaled(KNOWLEDGE, factor))
    assert len(QUESTIONS) > 200
    default = _scores(index)
    # Every candidate read pattern by pattern, every pattern by the general rules.
    monkeypatch.setattr(matcher, "FEW", 10**9)
    monkeypatch.setattr(matcher, "FEW_IN_PART", 10**9)
    assert _scores(index) == default
    # Every candidate set split by set operations, every part through the plain rows.
    monkeypatch.setattr(matcher, "FEW", 0)
    monkeypatch.setattr(matcher, "FEW_IN_PART", 0)
    assert _scores(index) == default
    assert any(len(scores) > 1 for scores in default)
