"""Hot reload of the knowledge: validate first, swap whole, keep the old one on any error.

The ``recharger`` admin command, SIGHUP (:func:`install_sighup`) and the file watcher
share one :class:`Reloader`. Reloads run one at a time; the files are read in a worker
thread so the event loop keeps answering; the swap is one reference assignment, so a
question sees the old or the new knowledge, never a mix.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.config import KnowledgeOpsSettings
from bot.core import prepare
from bot.knowledge.expiries import Expiry, upcoming_expiries
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.problems import KnowledgeError, Problem
from bot.ops.knowledge_diff import diff_knowledge
from bot.ops.metrics import Metrics
from bot.ops.reload_outcome import ReloadOutcome, problems_from

log = logging.getLogger(__name__)

Loader = Callable[[Path], Knowledge]


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
        warn_days: int = KnowledgeOpsSettings.warn_days,
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
                new = await asyncio.to_thread(_load_prepared, self._loader, self.directory)
                problems = _sanity_problems(new, self.directory)
            except Exception as exc:  # any failure keeps the knowledge in service
                if not isinstance(exc, KnowledgeError | OSError):
                    log.exception("Unexpected error while loading %s", self.directory)
                new, problems = None, problems_from(exc, self.directory)
            duration = time.monotonic() - started
            if new is None or any(p.severity == "error" for p in problems):
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


def _load_prepared(loader: Loader, directory: Path) -> Knowledge:
    """Load, and build the core's index in the same worker thread: the first question after
    the swap finds it ready instead of building it on the event loop."""
    return prepare(loader(directory))


def _sanity_problems(knowledge: Knowledge, directory: Path) -> tuple[Problem, ...]:
    """Refuse what the loader may accept but would leave agents with nothing."""
    if not knowledge.needs:
        return (Problem(str(directory), None, None, "les fichiers ne décrivent aucun besoin"),)
    return ()


def _log_outcome(outcome: ReloadOutcome) -> None:
    level = logging.INFO if outcome.ok else logging.ERROR
    if outcome.ok and outcome.expiries:
        level = logging.WARNING
    log.log(level, "Reload (%s): %s", outcome.trigger, outcome.text())


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
