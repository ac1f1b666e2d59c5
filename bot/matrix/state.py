"""What the bot must remember across restarts, in SQLite in the data directory.

- the sync position, saved only once every reply due for the events before it is sent
  (``Checkpoint``), so a crash or a stop never skips a question;
- the ids of the events answered, so a question is never answered twice;
- per room, the time from which messages count (the bot's join), and whether it greeted.

A write that fails (disk full, read-only file system, permissions) is reported once to
``on_write_error`` (the bot stops) and nothing more is written: nothing is ever marked
answered or skipped that was not, so the next start handles again what was not recorded
(replies already sent are de-duplicated by the homeserver through their transaction ids).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ANSWERED_RETENTION_S = 30 * 86400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answered (
    event_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rooms (
    room_id TEXT PRIMARY KEY, since_ts INTEGER NOT NULL, greeted INTEGER NOT NULL DEFAULT 0
);
"""


class StateStore:
    """Small synchronous SQLite store: each call is one short local transaction."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        on_write_error: Callable[[sqlite3.Error], None] | None = None,
    ) -> None:
        self.path = path
        self._clock = clock
        self._on_write_error = on_write_error
        self.write_failed: sqlite3.Error | None = None
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "DELETE FROM answered WHERE at < ?", (self._clock() - ANSWERED_RETENTION_S,)
        )

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        if self.write_failed is not None:
            return  # reported once; the bot is stopping
        try:
            self._db.execute(sql, params)
        except sqlite3.Error as exc:
            self.write_failed = exc
            log.error("cannot write the state database %s: %s", self.path, exc)
            if self._on_write_error is not None:
                self._on_write_error(exc)

    # -- sync position ---------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO kv (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def sync_token(self) -> str | None:
        return self._get("sync_token")

    def save_sync_token(self, token: str) -> None:
        self._set("sync_token", token)

    # -- answered events -----------------------------------------------------------------

    def is_answered(self, event_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM answered WHERE event_id = ?", (event_id,))
        return row.fetchone() is not None

    def mark_answered(self, event_id: str, room_id: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO answered (event_id, room_id, at) VALUES (?, ?, ?)",
            (event_id, room_id, self._clock()),
        )

    # -- rooms ------------------------------------------------------------------------

    def room_since(self, room_id: str) -> int | None:
        row = self._db.execute("SELECT since_ts FROM rooms WHERE room_id = ?", (room_id,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def set_room_since(self, room_id: str, since_ts: int) -> None:
        self._write(
            "INSERT INTO rooms (room_id, since_ts) VALUES (?, ?) "
            "ON CONFLICT(room_id) DO UPDATE SET since_ts = excluded.since_ts",
            (room_id, since_ts),
        )

    def greeted(self, room_id: str) -> bool:
        row = self._db.execute("SELECT greeted FROM rooms WHERE room_id = ?", (room_id,))
        found = row.fetchone()
        return bool(found and found[0])

    def mark_greeted(self, room_id: str) -> None:
        self._write("UPDATE rooms SET greeted = 1 WHERE room_id = ?", (room_id,))

    def forget_room(self, room_id: str) -> None:
        self._write("DELETE FROM rooms WHERE room_id = ?", (room_id,))


@dataclass
class _Batch:
    token: str
    outstanding: int = 0
    sealed: bool = False


class Place:
    """One piece of work's place in the sync position (a question being answered, an event
    waiting for its room key, a greeting): its batch is not saved past until ``release``.

    Whoever holds the place hands it on (to the reply, to the sender) and whatever path the
    work takes ends with one ``release``: it may be called again from another path (a sent
    callback and a failure handler) and only the first counts. Never released (shutdown
    in the middle): the position stays before the work, done again at the next start.
    """

    __slots__ = ("_batch", "_checkpoint", "released")

    def __init__(self, checkpoint: Checkpoint, batch: int) -> None:
        self._checkpoint = checkpoint
        self._batch = batch
        self.released = False
        checkpoint.hold(batch)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._checkpoint.release(self._batch)


class Checkpoint:
    """Saves a sync token once all the work of its batch and of the batches before is done.

    A batch is the handling of one sync response. Each piece of work takes a ``place`` in
    its batch and releases it when done; the supervisor ``seal``s the batch after handling
    the whole response.
    """

    def __init__(self, save: Callable[[str], None]) -> None:
        self._save = save
        self._batches: OrderedDict[int, _Batch] = OrderedDict()
        self._next_id = 0
        self.saved: str | None = None

    def open(self, token: str) -> int:
        batch_id = self._next_id
        self._next_id += 1
        self._batches[batch_id] = _Batch(token)
        return batch_id

    def place(self, batch_id: int) -> Place:
        """A place in ``batch_id``, held until released (see ``Place``)."""
        return Place(self, batch_id)

    def hold(self, batch_id: int) -> None:
        self._batches[batch_id].outstanding += 1

    def release(self, batch_id: int) -> None:
        batch = self._batches.get(batch_id)
        if batch is not None:
            batch.outstanding -= 1
            self._advance()

    def seal(self, batch_id: int) -> None:
        self._batches[batch_id].sealed = True
        self._advance()

    @property
    def pending(self) -> int:
        return sum(b.outstanding for b in self._batches.values())

    def _advance(self) -> None:
        token = None
        while self._batches:
            first_id = next(iter(self._batches))
            batch = self._batches[first_id]
            if not batch.sealed or batch.outstanding > 0:
                break
            token = batch.token
            del self._batches[first_id]
        if token is not None and token != self.saved:
            self._save(token)
            self.saved = token
