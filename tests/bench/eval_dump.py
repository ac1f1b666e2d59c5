"""Every reply of every evaluation set, as JSON lines, to diff before and after a change
meant to leave answers as they are (a speed-up): subject, candidates, text and HTML of each
question and of each conversation turn, on the shipped knowledge and, for the development
questions, on the 100 times larger one of the core benchmark.

    python -m tests.bench.eval_dump > before.jsonl   # ... change ...
    python -m tests.bench.eval_dump > after.jsonl && diff before.jsonl after.jsonl
"""

from __future__ import annotations

import json
import sys
from datetime import date

from bot.core import Context, answer
from bot.evaluation import load_set
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from tests.bench.core_bench import ROOT, scaled

TODAY = date(2026, 12, 1)  # fixed, so that dated offers end on the same day in both runs
SETS = sorted((ROOT.parent / "shared" / "eval").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "eval").glob("*.yaml")
)


def _line(name: str, q: str, knowledge: Knowledge, context: Context | None) -> Context:
    reply, after = answer(q, knowledge, context, today=TODAY)
    row = {"set": name, "q": q, **reply.to_json()}
    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return after


def main() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", today=TODAY)
    for path in SETS:
        cases, dialogues = load_set(path)
        for case in cases:
            _line(path.name, case.q, knowledge, None)
        for dialogue in dialogues:
            context = Context()
            for turn in dialogue.turns:
                context = _line(f"{path.name}:{dialogue.name}", turn.q, knowledge, context)
    big = scaled(knowledge, 100)
    for path in (p for p in SETS if p.name in ("dev.yaml", "dev2.yaml")):
        for case in load_set(path)[0]:
            _line(f"x100:{path.name}", case.q, big, None)


if __name__ == "__main__":
    main()
