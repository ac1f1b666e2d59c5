"""Subjects: the typed value inside the bot, the contract's strings at its edges."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.knowledge.subject import (
    CLARIFY,
    HELP,
    NONE,
    THANKS,
    Subject,
    SubjectKind,
    app_subject,
    need_subject,
)

KNOWLEDGE = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
ENTRIES = [
    *(n.subject for n in KNOWLEDGE.needs.values()),
    *(t.subject for t in KNOWLEDGE.tools.values()),
    *(t.subject for t in KNOWLEDGE.tips.values()),
    *(app_subject(a) for a in KNOWLEDGE.outside_apps),
]


def test_every_subject_reads_back_from_its_contract_string() -> None:
    for subject in [*ENTRIES, HELP, NONE, THANKS, CLARIFY]:
        assert Subject.parse(str(subject)) == subject
    assert str(need_subject("email")) == "need:email"
    assert str(Subject.parse("tool:zoom")) == "tool:zoom"
    assert Subject.parse("tip:merge_calls_iphone").kind is SubjectKind.TIP
    assert (str(CLARIFY), str(NONE), str(HELP)) == ("clarify", "none", "help")


@pytest.mark.parametrize(
    "text", ["", "need:", "tool", "need", "help:x", "clarify:", "outil:zoom", "Tool:zoom"]
)
def test_what_is_no_subject_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a subject"):
        Subject.parse(text)


def test_subjects_order_as_their_strings() -> None:
    """Equal scores are ranked by subject (matcher.ranked): the typed order must be the one
    the strings had, or ties would break differently and replies change."""
    subjects = [*ENTRIES, HELP, NONE, THANKS, CLARIFY]
    for a, b in itertools.combinations(subjects, 2):
        assert (a < b) == (str(a) < str(b)), (a, b)
