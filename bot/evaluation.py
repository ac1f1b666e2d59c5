"""Answer-quality measurement on a question set or a conversation set (format:
shared/eval/README.md, "Conversations" included)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.normalize import fold
from bot.core.reply import Reply
from bot.knowledge.subject import CLARIFY

CHOICE = "@choice"  # in expect: the subject the agent picked from the previous clarify


@dataclass(frozen=True)
class Case:
    q: str
    expect: tuple[str, ...]
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dialogue:
    """A conversation: turns answered in order, each with the context of those before."""

    name: str
    turns: tuple[Case, ...]


@dataclass
class Result:
    passed: int = 0
    failures: list[tuple[Case, Reply, list[str]]] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)  # plain-text length of every reply

    @property
    def total(self) -> int:
        return self.passed + len(self.failures)


@dataclass
class DialogueResult:
    passed: int = 0  # whole conversations
    total: int = 0
    turns: Result = field(default_factory=Result)
    failed: list[tuple[str, int, Case, Reply, list[str]]] = field(default_factory=list)


def _case(item: Any) -> Case:
    return Case(
        str(item["q"]),
        tuple(item.get("expect", ())),
        tuple(item.get("must_include", ())),
        tuple(item.get("must_not_include", ())),
    )


def load_set(path: Path) -> tuple[list[Case], list[Dialogue]]:
    """The single questions and the conversations of a set file (either or both)."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of cases")
    cases: list[Case] = []
    dialogues: list[Dialogue] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: item {i + 1} is not a mapping")
        if "turns" in item:
            name = str(item.get("name") or f"conversation-{i + 1}")
            dialogues.append(Dialogue(name, tuple(_case(t) for t in item["turns"])))
        else:
            cases.append(_case(item))
    return cases, dialogues


def load_cases(path: Path) -> list[Case]:
    return load_set(path)[0]


def comparable(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form, as the README's checks demand."""
    return re.sub(r"\s+", " ", fold(text)).strip()


# How the README's picks are said: "2", "le premier", "la deuxième", "le 2e". Read here on
# their own, not with the bot's understanding, so the measure does not grade itself.
_ORDINALS = {
    "premier": 1,
    "premiere": 1,
    "1er": 1,
    "1ere": 1,
    "deuxieme": 2,
    "second": 2,
    "seconde": 2,
    "troisieme": 3,
    "quatrieme": 4,
    "cinquieme": 5,
}
_PICK = re.compile(r"\b(\d{1,2})(?:e|eme|ieme)?\b")


def picked(question: str, previous: Reply | None) -> str | None:
    """The subject a turn picks from the previous reply's clarification, if any."""
    if previous is None or previous.subject != CLARIFY or not previous.candidates:
        return None
    words = comparable(question)
    n = next((v for w, v in _ORDINALS.items() if re.search(rf"\b{w}\b", words)), None)
    if re.search(r"\bderni[e]re?\b", words):
        n = len(previous.candidates)
    found = _PICK.search(words)
    if n is None and found:
        n = int(found.group(1))
    if n is None or not 1 <= n <= len(previous.candidates):
        return None
    return str(previous.candidates[n - 1].subject)


def judge(case: Case, reply: Reply, previous: Reply | None = None) -> list[str]:
    """The reasons a reply fails a case; empty when it passes. Subjects compare as the
    contract's strings: a set names them so (shared/eval/README.md)."""
    problems = []
    expect = set(case.expect)
    if CHOICE in expect:
        choice = picked(case.q, previous)
        expect.discard(CHOICE)
        if choice is None:
            problems.append("no clarification to pick from in the previous reply")
        else:
            expect.add(choice)
    subject = str(reply.subject)
    if subject not in expect:
        problems.append(f"subject {subject}, expected one of {', '.join(sorted(expect))}")
    text = comparable(reply.text)
    problems += [f"missing « {s} »" for s in case.must_include if comparable(s) not in text]
    problems += [f"contains « {s} »" for s in case.must_not_include if comparable(s) in text]
    return problems


def evaluate(cases: list[Case], ask: Callable[[str], Reply]) -> Result:
    result = Result()
    for case in cases:
        reply = ask(case.q)
        result.lengths.append(len(reply.text))
        problems = judge(case, reply)
        if problems:
            result.failures.append((case, reply, problems))
        else:
            result.passed += 1
    return result


def evaluate_dialogues(
    dialogues: list[Dialogue], start: Callable[[], Callable[[str], Reply]]
) -> DialogueResult:
    """``start`` opens a fresh conversation and returns its ``ask``, which keeps the
    context from one turn to the next."""
    result = DialogueResult()
    for dialogue in dialogues:
        ask = start()
        previous: Reply | None = None
        whole = True
        for n, case in enumerate(dialogue.turns, 1):
            reply = ask(case.q)
            result.turns.lengths.append(len(reply.text))
            problems = judge(case, reply, previous)
            if problems:
                whole = False
                result.turns.failures.append((case, reply, problems))
                result.failed.append((dialogue.name, n, case, reply, problems))
            else:
                result.turns.passed += 1
            previous = reply
        result.total += 1
        result.passed += whole
    return result


@dataclass(frozen=True)
class Lengths:
    n: int
    median: float
    p90: int
    longest: int

    def line(self) -> str:
        return (
            f"lengths: {self.n} replies, median {self.median:.0f}, p90 {self.p90}, "
            f"max {self.longest} characters"
        )


def lengths(values: list[int]) -> Lengths | None:
    """Median and 90th percentile (nearest rank) of plain-text reply lengths."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, -(-9 * len(ordered) // 10) - 1)  # ceil(0.9 n) - 1
    return Lengths(len(ordered), statistics.median(ordered), ordered[rank], ordered[-1])
