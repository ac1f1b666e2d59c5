"""Core benchmark: per-question latency on the shipped knowledge and on one 100 times
larger, the marginal cost per question through `tchap-bot ask --json`, and its cold start.

Run with `make bench` (or `python -m tests.bench.core_bench`). Prints figures; asserts nothing.
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bot.core import answer, matcher
from bot.core.index import index_for
from bot.evaluation import load_cases
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge, Option

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"
TCHAP_BOT = Path(sys.executable).parent / "tchap-bot"
FALLBACK_QUESTIONS = ["visio a 60", "zoom c'est autorisé ?", "fusionner appels iphone"]


def questions() -> list[str]:
    if DEV_SET.exists():
        return [case.q for case in load_cases(DEV_SET)]
    return FALLBACK_QUESTIONS


def scaled(knowledge: Knowledge, factor: int) -> Knowledge:
    """The knowledge plus factor-1 synthetic copies of every need and tool, with their own
    invented words, so the vocabulary and the phrasings grow as a real knowledge would."""
    needs = dict(knowledge.needs)
    tools = dict(knowledge.tools)
    for copy in range(1, factor):
        suffix = f"x{copy}"
        for tool in knowledge.tools.values():
            tools[tool.id + suffix] = dataclasses.replace(
                tool,
                id=tool.id + suffix,
                name=f"{tool.name} {suffix}",
                phrasings=tuple(f"{p} {suffix}outil{copy % 97}" for p in tool.phrasings),
                situations=tuple(f"{p} {suffix}outil{copy % 97}" for p in tool.situations),
            )
        for need in knowledge.needs.values():
            needs[need.id + suffix] = dataclasses.replace(
                need,
                id=need.id + suffix,
                phrasings=tuple(f"{p} {suffix}besoin" for p in need.phrasings),
                situations=tuple(f"{p} {suffix}besoin" for p in need.situations),
                options=tuple(
                    Option(o.category, o.tool + suffix if o.tool else None, o.text, o.participants)
                    for o in need.options
                ),
                tips=(),
            )
    return dataclasses.replace(knowledge, needs=needs, tools=tools)


def latency(knowledge: Knowledge, qs: list[str], rounds: int) -> tuple[float, float, float]:
    today = date.today()
    started = time.perf_counter()
    index_for(knowledge)
    build = time.perf_counter() - started
    for q in qs:  # warm caches
        answer(q, knowledge, today=today)
    samples = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter_ns()
            answer(q, knowledge, today=today)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99, build


def run_ask(stdin_lines: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(TCHAP_BOT), "ask", "--json"],
        input="\n".join(stdin_lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    qs = questions()
    knowledge = load_knowledge(ROOT / "knowledge")
    big = scaled(knowledge, 100)
    source = Path(matcher.__file__ or "")
    build = "Python sources" if source.suffix == ".py" else "compiled by mypyc"
    print(f"core benchmark — {len(qs)} questions, python {sys.version.split()[0]}, core {build}")
    print(f"  ({source.parent})")
    for name, k, rounds in (("shipped", knowledge, 20), ("x100", big, 10)):
        p50, p99, build = latency(k, qs, rounds)
        print(
            f"  {name:8s} {len(k.tools):5d} tools {len(k.needs):4d} needs: "
            f"p50 {p50:.3f} ms  p99 {p99:.3f} ms  (index built in {build * 1000:.0f} ms)"
        )
    colds = sorted(run_ask([qs[0]]) for _ in range(7))
    many = [qs[i % len(qs)] for i in range(1000)]
    bulk = min(run_ask(many) for _ in range(3))
    cold = statistics.median(colds)
    print(
        f"  ask --json cold start (1 question): median {cold * 1000:.0f} ms, "
        f"min {colds[0] * 1000:.0f} ms"
    )
    print(
        f"  ask --json marginal cost: {(bulk - colds[0]) / (len(many) - 1) * 1000:.3f} ms/question "
        f"({len(many)} questions in {bulk * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
