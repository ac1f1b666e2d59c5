"""The measurement of conversations: picks read from the turn, whole conversations counted."""

from __future__ import annotations

from bot.core.reply import Candidate, Reply
from bot.evaluation import Case, Dialogue, evaluate_dialogues, judge, lengths, picked
from bot.knowledge.subject import Subject

CLARIFY = Reply(
    Subject.parse("clarify"),
    (
        Candidate(Subject.parse("need:audio_conference"), 1.0),
        Candidate(Subject.parse("need:web_conference"), 0.5),
    ),
    "1. Audio 2. Web",
    "",
)


def reply(subject: str, text: str = "") -> Reply:
    return Reply(Subject.parse(subject), (), text, "")


def test_picks_are_read_from_the_turn() -> None:
    assert picked("2", CLARIFY) == "need:web_conference"
    assert picked("le premier", CLARIFY) == "need:audio_conference"
    assert picked("la deuxième svp", CLARIFY) == "need:web_conference"
    assert picked("la 2e", CLARIFY) == "need:web_conference"
    assert picked("la dernière", CLARIFY) == "need:web_conference"
    assert picked("3", CLARIFY) is None
    assert picked("2", reply("need:web_conference")) is None  # no clarification before


def test_choice_expectation() -> None:
    case = Case("2", ("@choice",), (), ("2 participants",))
    assert judge(case, reply("need:web_conference"), CLARIFY) == []
    assert judge(case, reply("need:audio_conference"), CLARIFY)
    assert judge(case, reply("need:web_conference", "Pour 2 participants"), CLARIFY)


def test_a_conversation_passes_only_whole() -> None:
    talks = [
        Dialogue("ok", (Case("a", ("help",)), Case("b", ("none",)))),
        Dialogue("half", (Case("a", ("help",)), Case("b", ("help",)))),
    ]
    answers = {"a": reply("help"), "b": reply("none")}
    result = evaluate_dialogues(talks, lambda: answers.__getitem__)
    assert (result.passed, result.total) == (1, 2)
    assert (result.turns.passed, result.turns.total) == (3, 4)
    assert [(name, n) for name, n, *_ in result.failed] == [("half", 2)]


def test_lengths_are_median_and_nearest_rank_p90() -> None:
    figures = lengths(list(range(1, 11)))
    assert figures is not None
    assert (figures.median, figures.p90, figures.longest) == (5.5, 9, 10)
    assert lengths([]) is None
