"""``tchap-bot check [DIR]``: every problem of the knowledge files, errors and warnings.

Runs the loader (the same code ``ask`` and the bot use), then validates each file with
``jsonschema`` as well: the loader's own schema interpreter is fast but partial, so any
violation ``jsonschema`` sees that the loader missed is reported too (and is a bug to fix in
the loader). ``jsonschema`` is imported here only, never on the bot's start-up path.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bot.knowledge.loader import (
    Problem,
    format_problem,
    load_schema,
    load_with_problems,
    schema_checker,
)
from bot.knowledge.model import Knowledge

__all__ = ["check_knowledge", "format_problem", "jsonschema_paths"]


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
