"""Hot reload of the knowledge: validate first, swap whole, keep the old one on any error.

Three triggers share one :class:`Reloader`: the ``recharger`` admin command, SIGHUP
(:func:`install_sighup`) and, optionally, :class:`KnowledgeWatcher`. Reloads run one at a
time; the files are read and validated in a worker thread, so the event loop keeps
answering; the swap is one reference assignment in :class:`KnowledgeHolder`, so a
question (which takes ``holder.current`` once) sees the old or the new knowledge, never a
mix.

The outcome carries every problem (file, line, entry) on failure, or on success a
:class:`KnowledgeDiff` and the dated entries about to expire, rendered in French for the
admin (``text()`` / ``html()``) and for the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from bot.knowledge import load_knowledge
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.model import Knowledge
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

Loader = Callable[[Path], Knowledge]

_MAX_IDS_SHOWN = 12


# -- problems ----------------------------------------------------------------------------


class ProblemLike(Protocol):
    """The shape of ``bot.knowledge``'s ``Problem`` (what ``KnowledgeError.problems`` holds)."""

    @property
    def file(self) -> Any: ...
    @property
    def line(self) -> Any: ...
    @property
    def entry(self) -> Any: ...
    @property
    def message(self) -> Any: ...
    @property
    def severity(self) -> Any: ...


@dataclass(frozen=True)
class ReportedProblem:
    """One problem of a refused reload, located as precisely as the loader could."""

    message: str
    file: str | None = None
    line: int | None = None
    entry: str | None = None
    severity: str = "error"

    @classmethod
    def from_problem(cls, problem: ProblemLike) -> ReportedProblem:
        severity = getattr(problem, "severity", "error")
        severity = getattr(severity, "value", severity)  # an enum or a plain string
        line = getattr(problem, "line", None)
        file = getattr(problem, "file", None)
        entry = getattr(problem, "entry", None)
        return cls(
            message=str(getattr(problem, "message", problem)),
            file=str(file) if file else None,
            line=line if isinstance(line, int) else None,
            entry=str(entry) if entry else None,
            severity=str(severity or "error").lower(),
        )

    @property
    def is_error(self) -> bool:
        return self.severity not in ("warning", "warn", "avertissement")

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f", ligne {self.line}" if self.line else ""))
        if self.entry:
            parts.append(self.entry)
        return " — ".join(parts)

    def text(self) -> str:
        where = self.location()
        label = "" if self.is_error else "avertissement : "
        return f"{where} : {label}{self.message}" if where else f"{label}{self.message}"


def _problems_from(exc: BaseException) -> tuple[ReportedProblem, ...]:
    problems = getattr(exc, "problems", None)
    if problems:
        reported = [ReportedProblem.from_problem(p) for p in problems]
        # Errors first; among them, file-level ones (a YAML syntax error, a missing
        # section) first, as they usually cause the others. Otherwise the loader's order.
        return tuple(sorted(reported, key=lambda p: (not p.is_error, p.entry is not None)))
    if isinstance(exc, OSError):
        return (ReportedProblem(f"lecture impossible : {exc.strerror or exc}", exc.filename),)
    return (ReportedProblem(f"erreur inattendue du chargement : {type(exc).__name__}: {exc}"),)


# -- diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeSet:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class PhrasingChange:
    subject: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeDiff:
    """What a reload changed, by id. An entry whose only change is its phrasings is listed
    under ``phrasings``, not under ``changed``."""

    needs: ChangeSet
    tools: ChangeSet
    tips: ChangeSet
    outside_apps: ChangeSet
    phrasings: tuple[PhrasingChange, ...]
    lexicon_changed: bool = False
    conversation_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.needs
            or self.tools
            or self.tips
            or self.outside_apps
            or self.phrasings
            or self.lexicon_changed
            or self.conversation_changed
        )

    def sections(self) -> list[tuple[str, ChangeSet]]:
        return [
            ("Besoins", self.needs),
            ("Outils", self.tools),
            ("Astuces", self.tips),
            ("Applications hors offre", self.outside_apps),
        ]


def _subject(kind: str, entry_id: str) -> str:
    return f"{kind}:{entry_id}"


def _without_phrasings(entry: Any) -> Any:
    return dataclasses.replace(entry, phrasings=())


def _diff_section(
    kind: str, old: Mapping[str, Any], new: Mapping[str, Any], phrasings: list[PhrasingChange]
) -> ChangeSet:
    added = tuple(_subject(kind, i) for i in sorted(new.keys() - old.keys()))
    removed = tuple(_subject(kind, i) for i in sorted(old.keys() - new.keys()))
    changed = []
    for i in sorted(old.keys() & new.keys()):
        a, b = old[i], new[i]
        if a == b:
            continue
        if _without_phrasings(a) != _without_phrasings(b):
            changed.append(_subject(kind, i))
        before, after = set(a.phrasings), set(b.phrasings)
        if before != after:
            phrasings.append(
                PhrasingChange(
                    _subject(kind, i),
                    added=tuple(p for p in b.phrasings if p not in before),
                    removed=tuple(p for p in a.phrasings if p not in after),
                )
            )
    return ChangeSet(added, removed, tuple(changed))


def diff_knowledge(old: Knowledge, new: Knowledge) -> KnowledgeDiff:
    phrasings: list[PhrasingChange] = []
    return KnowledgeDiff(
        needs=_diff_section("need", old.needs, new.needs, phrasings),
        tools=_diff_section("tool", old.tools, new.tools, phrasings),
        tips=_diff_section("tip", old.tips, new.tips, phrasings),
        outside_apps=_diff_section("app", old.outside_apps, new.outside_apps, phrasings),
        phrasings=tuple(phrasings),
        lexicon_changed=old.lexicon != new.lexicon,
        conversation_changed=old.conversation != new.conversation,
    )


# -- dated knowledge ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expiry:
    """A dated entry that has ended or ends within the warning window."""

    subject: str  # tool:...
    what: str  # French label: "l'outil Zoom", "une condition de l'outil ..."
    valid_until: date
    days_left: int  # negative once past
    origin: tuple[str, int] | None = None

    caveat: bool = False  # a dated mention of the tool rather than the tool itself

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def _consequence(self) -> str:
        return "" if self.caveat else ", l'outil n'est plus recommandé"

    def text(self) -> str:
        day = self.valid_until.strftime("%d/%m/%Y")
        where = f" ({self.origin[0]}, ligne {self.origin[1]})" if self.origin else ""
        if self.expired:
            return (
                f"{self.what} ({self.subject}) a expiré le {day}{self._consequence()} : "
                f"à mettre à jour ou retirer{where}."
            )
        when = (
            "aujourd'hui (dernier jour)"
            if self.days_left == 0
            else "demain"
            if self.days_left == 1
            else f"dans {self.days_left} jours"
        )
        return f"{self.what} ({self.subject}) expire le {day}, {when}{where}."


def upcoming_expiries(knowledge: Knowledge, today: date, warn_days: int) -> list[Expiry]:
    """Dated entries already expired or ending within ``warn_days`` days, soonest first.

    The last valid day is ``valid_until`` itself: 0 days left means it ends tonight.
    """
    found: list[Expiry] = []
    for tool in knowledge.tools.values():
        origin = knowledge.origins.get(tool.subject)
        if tool.valid_until is not None:
            found.append(
                Expiry(
                    tool.subject,
                    f"L'outil « {tool.name} »",
                    tool.valid_until,
                    (tool.valid_until - today).days,
                    origin,
                )
            )
        for caveat in tool.caveats:
            if caveat.valid_until is not None:
                snippet = caveat.text if len(caveat.text) <= 60 else caveat.text[:57] + "…"
                found.append(
                    Expiry(
                        tool.subject,
                        f"La mention « {snippet} » de l'outil « {tool.name} »",
                        caveat.valid_until,
                        (caveat.valid_until - today).days,
                        origin,
                        caveat=True,
                    )
                )
    return sorted(
        (e for e in found if e.days_left <= warn_days), key=lambda e: (e.days_left, e.subject)
    )


# -- outcome -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReloadOutcome:
    ok: bool
    trigger: str  # "admin", "sighup", "watch"...
    problems: tuple[ReportedProblem, ...] = ()
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
            errors = sum(p.is_error for p in self.problems)
            noun = "erreur" if errors == 1 else "erreurs"
            blocks.append(
                (
                    f"Rechargement refusé ({errors} {noun}) : les connaissances en service "
                    "restent celles d'avant. Corrigez puis relancez.",
                    _capped([p.text() for p in self.problems], max_problems),
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
                blocks.append(("Formulations", [_phrasing_item(c) for c in self.diff.phrasings]))
            others = []
            if self.diff.lexicon_changed:
                others.append("lexique modifié")
            if self.diff.conversation_changed:
                others.append("textes de conversation modifiés")
            if others:
                blocks.append(("Autres", others))
        warnings = [p.text() for p in self.problems]
        if warnings:
            blocks.append(("Avertissements du chargement", warnings))
        if self.expiries:
            blocks.append(("Validité", [e.text() for e in self.expiries]))
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
    parts = []
    if change.added:
        parts.append("+ " + ", ".join(f"« {p} »" for p in change.added))
    if change.removed:
        parts.append("− " + ", ".join(f"« {p} »" for p in change.removed))
    return f"{change.subject} : {' ; '.join(parts)}"


# -- the reloader ------------------------------------------------------------------------


def default_loader(directory: Path) -> Knowledge:
    """``bot.knowledge.load_knowledge``: raises ``KnowledgeError`` listing every problem."""
    return load_knowledge(directory)


class Reloader:
    """Reloads the knowledge directory into the holder, one reload at a time."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        directory: Path,
        *,
        loader: Loader = default_loader,
        metrics: Metrics | None = None,
        warn_days: int = 30,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.holder = holder
        self.directory = Path(directory)
        self._loader = loader
        self._metrics = metrics
        self._warn_days = warn_days
        self._today = today
        self._lock = asyncio.Lock()
        self.last_outcome: ReloadOutcome | None = None

    @property
    def reloading(self) -> bool:
        return self._lock.locked()

    def expiries(self) -> list[Expiry]:
        return upcoming_expiries(self.holder.current, self._today(), self._warn_days)

    async def reload(self, trigger: str = "admin") -> ReloadOutcome:
        """Load, validate and swap in the knowledge; keep the old one on any error.

        Never raises for a problem in the files; the outcome says what happened and the
        log gets the same French summary.
        """
        async with self._lock:
            started = time.monotonic()
            try:
                new = await asyncio.to_thread(self._loader, self.directory)
                problems = _sanity_problems(new)
            except Exception as exc:  # any failure keeps the knowledge in service
                if not getattr(exc, "problems", None) and not isinstance(exc, OSError):
                    log.exception("Unexpected error while loading %s", self.directory)
                new, problems = None, _problems_from(exc)
            duration = time.monotonic() - started
            if new is None or any(p.is_error for p in problems):
                outcome = ReloadOutcome(
                    False,
                    trigger,
                    problems=problems,
                    duration=duration,
                    generation=self.holder.generation,
                )
            else:
                old = self.holder.swap(new)
                outcome = ReloadOutcome(
                    True,
                    trigger,
                    problems=problems,
                    diff=diff_knowledge(old, new),
                    expiries=tuple(upcoming_expiries(new, self._today(), self._warn_days)),
                    duration=duration,
                    generation=self.holder.generation,
                )
            self.last_outcome = outcome
            if self._metrics is not None:
                self._metrics.record_reload(outcome.ok)
            _log_outcome(outcome)
            return outcome


def _sanity_problems(knowledge: Knowledge) -> tuple[ReportedProblem, ...]:
    """Refuse what the loader may accept but would leave agents with nothing."""
    if not knowledge.needs:
        return (ReportedProblem("les fichiers ne décrivent aucun besoin"),)
    return ()


def _log_outcome(outcome: ReloadOutcome) -> None:
    level = logging.INFO if outcome.ok else logging.ERROR
    if outcome.ok and outcome.expiries:
        level = logging.WARNING
    log.log(level, "Reload (%s): %s", outcome.trigger, outcome.text())


# -- file watching -----------------------------------------------------------------------

Snapshot = dict[str, tuple[int, int]]


def scan(directory: Path) -> Snapshot:
    """(mtime_ns, size) of every file under ``directory``, editors' temporary files aside."""
    found: Snapshot = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if _ignored(name):
                continue
            path = os.path.join(root, name)
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(path)
                found[path] = (st.st_mtime_ns, st.st_size)
    return found


def _ignored(name: str) -> bool:
    return (
        name.startswith((".", "#"))
        or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak"))
        or name == "4913"  # vim's write test
    )


class KnowledgeWatcher:
    """Polls the knowledge directory and reloads once the files have settled.

    A change is acted on after the snapshot stays identical for ``debounce`` seconds (at
    least one more poll), so a maintainer saving several files, or an editor writing in
    steps, causes one reload. A failed reload is logged and not retried until the files
    change again. No dependency: ``os.stat`` every ``interval`` seconds.
    """

    def __init__(self, reloader: Reloader, *, interval: float = 5.0, debounce: float = 2.0) -> None:
        self._reloader = reloader
        self._interval = interval
        self._debounce = debounce
        self._task: asyncio.Task[None] | None = None
        self.reloads = 0  # reloads this watcher triggered

    async def start(self) -> None:
        if self._task is None:
            baseline = await asyncio.to_thread(scan, self._reloader.directory)
            self._task = asyncio.create_task(self._run(baseline), name="knowledge-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, seen: Snapshot) -> None:
        pending: Snapshot | None = None
        pending_since = 0.0
        while True:
            await asyncio.sleep(self._interval)
            try:
                current = await asyncio.to_thread(scan, self._reloader.directory)
            except OSError as exc:
                log.warning("Cannot scan %s: %s", self._reloader.directory, exc)
                continue
            if current == seen:
                pending = None
                continue
            if current != pending:
                pending, pending_since = current, time.monotonic()
                continue
            if time.monotonic() - pending_since < self._debounce:
                continue
            seen, pending = current, None
            self.reloads += 1
            try:
                await self._reloader.reload("watch")
            except Exception:  # the watcher must outlive any bug
                log.exception("Reload triggered by a file change failed")


# -- SIGHUP ------------------------------------------------------------------------------


def install_sighup(loop: asyncio.AbstractEventLoop, reloader: Reloader) -> Callable[[], None]:
    """Reload on SIGHUP (outcome logged by the reloader). Returns the uninstaller.

    Signals arriving while a reload runs queue behind it (the reloader's lock).
    """
    tasks: set[asyncio.Task[ReloadOutcome]] = set()

    def on_sighup() -> None:
        log.info("SIGHUP received: reloading %s", reloader.directory)
        task = loop.create_task(reloader.reload("sighup"), name="reload-sighup")
        tasks.add(task)  # keep a reference until done
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGHUP, on_sighup)

    def uninstall() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return uninstall


def describe_problems(problems: Iterable[ReportedProblem]) -> str:
    """One problem per line, for ``tchap-bot check`` or a log."""
    return "\n".join(p.text() for p in problems)
