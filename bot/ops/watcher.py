"""Polling file watcher: reloads the knowledge once its files have changed and settled.

No dependency (``os.stat`` every few seconds); editors' temporary files are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.ops.reload import Reloader

log = logging.getLogger(__name__)

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
    change again. No dependency: ``os.stat`` every ``interval`` seconds. ``poll`` is one
    step of that loop (tests drive it with their own clock).
    """

    def __init__(
        self,
        reloader: Reloader,
        *,
        interval: float = 5.0,
        debounce: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reloader = reloader
        self._interval = interval
        self._debounce = debounce
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._seen: Snapshot | None = None
        self._pending: Snapshot | None = None
        self._pending_since = 0.0
        self.reloads = 0  # reloads this watcher triggered

    async def start(self) -> None:
        if self._task is None:
            await self.take_baseline()
            self._task = asyncio.create_task(self._run(), name="knowledge-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def take_baseline(self) -> None:
        """What is on disk now counts as loaded: only later changes reload."""
        self._seen = await asyncio.to_thread(scan, self._reloader.directory)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.poll()

    async def poll(self) -> bool:
        """Scan once; reload if the files changed and have settled. True if it reloaded."""
        try:
            current = await asyncio.to_thread(scan, self._reloader.directory)
        except OSError as exc:
            log.warning("Cannot scan %s: %s", self._reloader.directory, exc)
            return False
        if current == self._seen:
            self._pending = None
            return False
        if current != self._pending:
            self._pending, self._pending_since = current, self._clock()
            return False
        if self._clock() - self._pending_since < self._debounce:
            return False
        self._seen, self._pending = current, None
        self.reloads += 1
        try:
            await self._reloader.reload("watch")
        except Exception:  # the watcher must outlive any bug
            log.exception("Reload triggered by a file change failed")
        return True
