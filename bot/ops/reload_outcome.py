"""The result of one reload and its French rendering for the admin (text, HTML) and the log.

A refused reload carries every problem; an accepted one its :class:`KnowledgeDiff`, its
sanity warnings and the dated entries about to expire. Each problem and expiry is the
knowledge's own :class:`~bot.knowledge.problems.Problem`, worded by ``format_problem``
as ``tchap-bot check`` words it, so the admin, the log and the check say the same line.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.expiries import Expiry
from bot.knowledge.problems import KnowledgeError, Problem, format_problem
from bot.ops.knowledge_diff import ChangeSet, KnowledgeDiff, PhrasingChange

_MAX_IDS_SHOWN = 12  # per line of the diff: a chat message must stay readable


def problems_from(exc: BaseException, directory: Path) -> tuple[Problem, ...]:
    """The problems of a failed load, the root causes first."""
    if isinstance(exc, KnowledgeError) and exc.problems:
        # Errors first; among them, file-level ones (a YAML syntax error, a missing
        # section) first, as they usually cause the others. Otherwise the loader's order.
        return tuple(
            sorted(exc.problems, key=lambda p: (p.severity != "error", p.entry is not None))
        )
    if isinstance(exc, OSError):
        where = str(exc.filename or directory)
        return (Problem(where, None, None, f"lecture impossible : {exc.strerror or exc}"),)
    message = f"erreur inattendue du chargement : {type(exc).__name__}: {exc}"
    return (Problem(str(directory), None, None, message),)


@dataclass(frozen=True)
class ReloadOutcome:
    ok: bool
    trigger: str  # "admin", "sighup", "watch"...
    problems: tuple[Problem, ...] = ()
    diff: KnowledgeDiff | None = None
    expiries: tuple[Expiry, ...] = ()
    duration: float = 0.0
    generation: int = 0  # the holder's generation after the reload

    def lines(self, max_problems: int | None = None) -> list[tuple[str, list[str]]]:
        """(heading, items) blocks, shared by the text and HTML renderings. Unescaped.

        ``max_problems`` caps the problems listed (a chat message must stay readable);
        the log gets them all."""
        blocks: list[tuple[str, list[str]]] = []
        if not self.ok:
            errors = sum(p.severity == "error" for p in self.problems)
            noun = "erreur" if errors == 1 else "erreurs"
            blocks.append(
                (
                    f"Rechargement refusé ({errors} {noun}) : les connaissances en service "
                    "restent celles d'avant. Corrigez puis relancez.",
                    _capped([format_problem(p) for p in self.problems], max_problems),
                )
            )
            return blocks
        seconds = f"{self.duration:.1f}".replace(".", ",")
        head = f"Connaissances rechargées (version {self.generation}, en {seconds} s)."
        if self.diff is None or self.diff.empty:
            blocks.append((head + " Aucun changement.", []))
        else:
            blocks.append((head, []))
            for title, changes in self.diff.sections():
                if changes:
                    blocks.append((title, _changeset_items(changes)))
            if self.diff.phrasings:
                items = [_phrasing_item(c) for c in self.diff.phrasings]
                blocks.append(("Formulations", _capped(items, _MAX_PHRASING_SUBJECTS)))
            others = []
            if self.diff.lexicon_changed:
                others.append("lexique modifié")
            if self.diff.conversation_changed:
                others.append("textes de conversation modifiés")
            if others:
                blocks.append(("Autres", others))
        warnings = [format_problem(p) for p in self.problems]
        if warnings:
            blocks.append(("Avertissements du chargement", warnings))
        if self.expiries:
            blocks.append(("Validité", [format_problem(e.problem()) for e in self.expiries]))
        return blocks

    def text(self, max_problems: int | None = None) -> str:
        out = []
        for heading, items in self.lines(max_problems):
            out.append(heading if not items or heading.endswith(".") else heading + " :")
            out.extend(f"- {item}" for item in items)
        return "\n".join(out)

    def html(self, max_problems: int | None = None) -> str:
        out = []
        for i, (heading, items) in enumerate(self.lines(max_problems)):
            title = html.escape(heading)
            out.append(f"<p>{title}</p>" if i == 0 else f"<p><strong>{title}</strong></p>")
            if items:
                lis = "".join(f"<li>{html.escape(item)}</li>" for item in items)
                out.append(f"<ul>{lis}</ul>")
        return "".join(out)


_MAX_PHRASINGS_SHOWN = 5
_MAX_PHRASING_SUBJECTS = 15


def _capped(items: list[str], limit: int | None) -> list[str]:
    if limit is None or len(items) <= limit:
        return items
    return [*items[:limit], f"… et {len(items) - limit} autres (liste complète dans le journal)"]


def _ids(ids: tuple[str, ...]) -> str:
    shown = ", ".join(ids[:_MAX_IDS_SHOWN])
    rest = len(ids) - _MAX_IDS_SHOWN
    return shown + (f" et {rest} autres" if rest > 0 else "")


def _changeset_items(changes: ChangeSet) -> list[str]:
    items = []
    for label, ids in (
        ("ajouté", changes.added),
        ("retiré", changes.removed),
        ("modifié", changes.changed),
    ):
        if ids:
            items.append(f"{label}{'s' if len(ids) > 1 else ''} : {_ids(ids)}")
    return items


def _phrasing_item(change: PhrasingChange) -> str:
    """Counts first, then the first phrasings: 1,500 phrasings added stay one short line."""
    parts = []
    for sign, phrasings in (("+", change.added), ("−", change.removed)):
        if phrasings:
            shown = ", ".join(f"« {p[:60]} »" for p in phrasings[:_MAX_PHRASINGS_SHOWN])
            rest = len(phrasings) - _MAX_PHRASINGS_SHOWN
            if rest > 0:
                parts.append(f"{sign}{len(phrasings)} : {shown} et {rest} autres")
            else:
                parts.append(f"{sign} {shown}")
    return f"{change.subject} : {' ; '.join(parts)}"
