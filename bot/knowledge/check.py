"""``tchap-bot check [DIR]``: every problem of the knowledge files, errors and warnings.

The loader's findings, plus any violation ``jsonschema`` sees that the loader's own schema
interpreter missed (a bug to fix there). ``jsonschema`` is imported here only, never at start-up.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bot.knowledge.loader import load_with_problems
from bot.knowledge.model import Knowledge
from bot.knowledge.problems import Problem
from bot.knowledge.schema_check import load_schema, schema_checker

__all__ = ["check_knowledge", "jsonschema_paths"]


def jsonschema_paths(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """(data path, message) of every violation ``jsonschema`` finds in one file's data."""
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    return [(tuple(e.absolute_path), e.message) for e in validator.iter_errors(data)]


def check_knowledge(
    directory: Path, today: date, warn_days: int = 30
) -> tuple[Knowledge | None, list[Problem]]:
    """(knowledge or None if any error, every problem found, sorted by file and line)."""
    result = load_with_problems(directory, today=today, warn_days=warn_days)
    problems = list(result.problems)
    checker = schema_checker()
    for f in result.files:
        if f.data is None:
            continue
        ours = [issue.path for issue in checker.errors(f.data)]
        for path, message in jsonschema_paths(f.data):
            if not any(p[: len(path)] == path for p in ours):
                problems.append(
                    Problem(
                        f.name,
                        f.line_of(path),
                        f.entry_of(path),
                        f"non conforme au schéma (jsonschema) : {message}",
                    )
                )
    knowledge = result.knowledge
    if any(p.severity == "error" for p in problems):
        knowledge = None
    return knowledge, problems
