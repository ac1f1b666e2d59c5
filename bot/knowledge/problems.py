"""What can be wrong in the knowledge files, and how it is said to their maintainers.

:class:`Problem` is one located finding (file, line, entry), :class:`Issue` the same before
it is located; :func:`format_problem` writes it in French, one ``file:line:`` line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
PathKey = str | int
DataPath = tuple[PathKey, ...]

# Sections holding lists of entries: subject prefix and French name (for messages).
LIST_SECTIONS: dict[str, tuple[str, str]] = {
    "needs": ("need", "besoin"),
    "tools": ("tool", "outil"),
    "tips": ("tip", "astuce"),
    "outside_apps": ("outside_app", "application hors offre"),
}
SINGLE_SECTIONS: dict[str, str] = {"lexicon": "lexique", "conversation": "conversation"}
ENTRY_LABELS: dict[str, str] = {
    **{prefix: label for prefix, label in LIST_SECTIONS.values()},
    **{name: label for name, label in SINGLE_SECTIONS.items()},
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in the knowledge files.

    ``file`` is a file name, or the directory for a problem of the whole (``""``: unknown).
    ``entry`` is the subject-like name of the entry concerned (``tool:zoom``,
    ``need#3`` when it has no usable id, ``lexicon``, ``conversation``) or ``None``.
    """

    file: str
    line: int | None
    entry: str | None
    message: str
    severity: Severity = "error"


@dataclass
class Issue:
    """A problem before its entry and line are resolved: located by a data path."""

    path: DataPath
    message: str
    severity: Severity = "error"
    at_key: bool = False  # locate at the key ``path[-1]`` rather than at its value
    line: int | None = None  # known line, overriding the path


class KnowledgeError(Exception):
    """The knowledge cannot be loaded: ``problems`` lists every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(
            f"{len(errors)} erreur(s) dans la base de connaissances :\n"
            + "\n".join(format_problem(p) for p in problems)
        )


def entry_label(entry: str) -> str:
    """`tool:zoom` -> `outil « zoom »`, `tool#3` -> `outil n° 3`, `lexicon` -> `lexique`."""
    if ":" in entry:
        kind, name = entry.split(":", 1)
        return f"{ENTRY_LABELS.get(kind, kind)} « {name} »"
    if "#" in entry:
        kind, number = entry.split("#", 1)
        return f"{ENTRY_LABELS.get(kind, kind)} n° {number}"
    return ENTRY_LABELS.get(entry, entry)


def format_problem(p: Problem) -> str:
    """One line per problem, ``file:line: entry : message`` (editors can jump to it).

    The one wording of a problem: ``tchap-bot check``, the reload reply and the log use it.
    """
    where = p.file if p.line is None else f"{p.file}:{p.line}"
    parts = [f"{where}:"] if where else []
    if p.severity == "warning":
        parts.append("avertissement :")
    if p.entry:
        parts.append(f"{entry_label(p.entry)} :")
    parts.append(p.message)
    return " ".join(parts)
