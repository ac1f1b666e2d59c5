"""Answer-quality measurement on a question set (format: shared/eval/README.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.normalize import fold
from bot.core.reply import Reply


@dataclass(frozen=True)
class Case:
    q: str
    expect: tuple[str, ...]
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()


@dataclass
class Result:
    passed: int = 0
    failures: list[tuple[Case, Reply, list[str]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failures)


def load_cases(path: Path) -> list[Case]:
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of cases")
    return [
        Case(
            str(item["q"]),
            tuple(item.get("expect", ())),
            tuple(item.get("must_include", ())),
            tuple(item.get("must_not_include", ())),
        )
        for item in raw
    ]


def comparable(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form, as the README's checks demand."""
    return re.sub(r"\s+", " ", fold(text)).strip()


def judge(case: Case, reply: Reply) -> list[str]:
    """The reasons a reply fails a case; empty when it passes."""
    problems = []
    if reply.subject not in case.expect:
        problems.append(f"subject {reply.subject}, expected one of {', '.join(case.expect)}")
    text = comparable(reply.text)
    problems += [f"missing « {s} »" for s in case.must_include if comparable(s) not in text]
    problems += [f"contains « {s} »" for s in case.must_not_include if comparable(s) in text]
    return problems


def evaluate(cases: list[Case], ask: Callable[[str], Reply]) -> Result:
    result = Result()
    for case in cases:
        reply = ask(case.q)
        problems = judge(case, reply)
        if problems:
            result.failures.append((case, reply, problems))
        else:
            result.passed += 1
    return result
