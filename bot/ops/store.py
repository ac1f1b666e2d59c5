"""What agents asked that the bot could not answer, and their 👍/👎 on its replies.

One SQLite file in the data directory (``ops.sqlite3``), WAL, one connection, used from
the event loop thread only. The file and its ``-wal`` and ``-shm`` companions (which
hold the most recent rows until a checkpoint) are mode 600 whatever the umask.

Why plain synchronous calls rather than ``asyncio.to_thread``: every call is a single
indexed statement on a small table, and in WAL mode with ``synchronous=NORMAL`` a commit
does not wait for fsync (only checkpoints do), so a call takes tens of microseconds — less
than the thread hop itself. Staying on one thread also keeps the single connection safe
without a lock (``check_same_thread`` stays on to catch misuse). The purge is one indexed
DELETE, run at start and daily.

Privacy: no Matrix user id is stored unless ``store_user_ids`` is true — not even a
hash. Matrix ids, e-mail addresses and phone numbers typed inside a question are masked
before it is stored. Everything is deleted after ``retention_days``.

Feedback is one vote per reply event (and per voter when ids are stored): a repeated
reaction changes nothing and a changed vote replaces the previous one. Without user ids
the Matrix layer should count only the reactions of the agent who asked (it knows who),
so "one vote per reply" is exact.

Turning ``store_user_ids`` off keeps every vote already cast: at the next start each
stored Matrix id is replaced by a random key of its own (``#`` and 16 hex digits), so
the counts do not change and no vote can be traced to anyone. Such a vote can still be
withdrawn (its reaction redacted) but no longer changed: the Matrix layer only counts
reactions to replies sent since it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.config import StoreSettings

log = logging.getLogger(__name__)

FILENAME = "ops.sqlite3"
DAY = 86400.0
MAX_QUESTION_CHARS = 500
UNANSWERED_REASONS = frozenset({"none", "clarify", "low_confidence"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS unanswered (
    text TEXT PRIMARY KEY,        -- normalised question, identifiers masked
    reason TEXT NOT NULL,         -- none | clarify | low_confidence (the latest)
    count INTEGER NOT NULL,
    first_seen REAL NOT NULL,     -- Unix time
    last_seen REAL NOT NULL,
    user_id TEXT                  -- latest asker, only with store_user_ids
);
CREATE INDEX IF NOT EXISTS unanswered_last_seen ON unanswered (last_seen);
CREATE TABLE IF NOT EXISTS feedback (
    reply_event_id TEXT NOT NULL,
    voter TEXT NOT NULL DEFAULT '', -- Matrix id with store_user_ids, else ''; '#' and a
                                    -- random key once the id is forgotten (one per vote)
    subject TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    reaction_event_id TEXT,         -- to forget the vote when the reaction is redacted
    updated_at REAL NOT NULL,
    PRIMARY KEY (reply_event_id, voter)
);
CREATE INDEX IF NOT EXISTS feedback_updated_at ON feedback (updated_at);
CREATE INDEX IF NOT EXISTS feedback_reaction ON feedback (reaction_event_id);
PRAGMA user_version = 1;
"""

# -- text normalisation ------------------------------------------------------------------

_MATRIX_ID = re.compile(r"@[\w.=\-/+]+:[\w\-]+(?:\.[\w\-]+)+(?::\d+)?")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+33[\s.\-]?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)")
_SPACES = re.compile(r"\s+")


def normalise_question(text: str) -> str:
    """The form questions are grouped and stored by: identifiers masked, case folded,
    spaces collapsed, trailing punctuation dropped. Accents are kept (it is shown)."""
    text = unicodedata.normalize("NFKC", text)
    text = _MATRIX_ID.sub("<identifiant>", text)
    text = _EMAIL.sub("<courriel>", text)
    text = _PHONE.sub("<téléphone>", text)
    text = _SPACES.sub(" ", text).strip().casefold()
    text = text.rstrip(" ?!.…").strip()
    return text[:MAX_QUESTION_CHARS]


# -- feedback ----------------------------------------------------------------------------

_SKIN_TONES_AND_SELECTORS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")


def vote_from_reaction(key: str) -> str | None:
    """``"up"`` for 👍, ``"down"`` for 👎 (any skin tone), ``None`` for other reactions."""
    base = _SKIN_TONES_AND_SELECTORS.sub("", key.strip())
    return {"👍": "up", "👎": "down", "+1": "up", "-1": "down"}.get(base)


class VoteChange(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class UnansweredQuestion:
    text: str
    count: int
    reason: str
    last_seen: float  # Unix time


@dataclass(frozen=True)
class Feedback:
    up: int = 0
    down: int = 0


_PRIVATE = 0o600
_WAL_SUFFIXES = ("", "-wal", "-shm")  # recent rows live in -wal until a checkpoint


def _create_private(path: Path) -> None:
    """Create the database file with mode 600 if it is missing, whatever the umask (no
    moment when it is readable by others). SQLite then creates ``-wal`` and ``-shm``
    with the mode of the database file."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))


def _make_private(path: Path) -> None:
    """Mode 600 for the database and its ``-wal`` and ``-shm`` files, including ones left
    readable by an earlier run (SQLite reuses existing files as they are)."""
    for suffix in _WAL_SUFFIXES:
        try:
            os.chmod(f"{path}{suffix}", _PRIVATE)
        except FileNotFoundError:
            pass  # not created yet: SQLite will give it the database file's mode
        except OSError as exc:  # e.g. not the owner: say so, the bot still works
            log.warning("Could not make %s%s private (mode 600): %s", path, suffix, exc)


class Store:
    def __init__(
        self,
        path: Path,
        settings: StoreSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open (or create) the database file at ``path`` and purge what is too old."""
        self.settings = settings or StoreSettings()
        self.path = Path(path)
        self._clock = clock
        self._purge_task: asyncio.Task[None] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        self._db = sqlite3.connect(self.path)  # `with self._db:` = one transaction
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.executescript(_SCHEMA)
        _make_private(self.path)
        if not self.settings.store_user_ids:
            self._forget_user_ids()
        self.purge()

    @classmethod
    def in_data_dir(cls, data_dir: Path, settings: StoreSettings | None = None) -> Store:
        return cls(Path(data_dir) / FILENAME, settings)

    def close(self) -> None:
        self._db.close()

    # -- unanswered ----------------------------------------------------------------------

    def record_unanswered(self, question: str, reason: str, *, user_id: str | None = None) -> None:
        """Count one question the bot could not answer well.

        ``reason``: ``none`` (out of scope), ``clarify`` (it asked to choose) or
        ``low_confidence``. ``user_id`` is dropped unless ``store_user_ids`` is on.
        """
        if reason not in UNANSWERED_REASONS:
            raise ValueError(f"reason must be one of {sorted(UNANSWERED_REASONS)}")
        text = normalise_question(question)
        if not text:
            return
        now = self._clock()
        uid = user_id if self.settings.store_user_ids else None
        with self._db:
            self._db.execute(
                "INSERT INTO unanswered (text, reason, count, first_seen, last_seen, user_id)"
                " VALUES (?, ?, 1, ?, ?, ?)"
                " ON CONFLICT (text) DO UPDATE SET count = count + 1, reason = excluded.reason,"
                " last_seen = excluded.last_seen, user_id = excluded.user_id",
                (text, reason, now, now, uid),
            )

    def top_unanswered(self, limit: int = 10, days: float = 30) -> list[UnansweredQuestion]:
        """The most frequent questions last seen within ``days`` days."""
        since = self._clock() - days * DAY
        rows = self._db.execute(
            "SELECT text, count, reason, last_seen FROM unanswered WHERE last_seen >= ?"
            " ORDER BY count DESC, last_seen DESC LIMIT ?",
            (since, limit),
        ).fetchall()
        return [UnansweredQuestion(*row) for row in rows]

    # -- feedback ------------------------------------------------------------------------

    def record_vote(
        self,
        reply_event_id: str,
        subject: str,
        vote: str,
        *,
        reaction_event_id: str | None = None,
        user_id: str | None = None,
    ) -> VoteChange:
        """Record a 👍 (``up``) or 👎 (``down``) on the bot's reply ``reply_event_id``.

        The caller increments the feedback metric only when the result is not
        ``UNCHANGED``.
        """
        if vote not in ("up", "down"):
            raise ValueError("vote must be 'up' or 'down'")
        voter = user_id if (self.settings.store_user_ids and user_id) else ""
        with self._db:
            row = self._db.execute(
                "SELECT vote FROM feedback WHERE reply_event_id = ? AND voter = ?",
                (reply_event_id, voter),
            ).fetchone()
            if row is not None and row[0] == vote:
                return VoteChange.UNCHANGED
            self._db.execute(
                "INSERT INTO feedback (reply_event_id, voter, subject, vote,"
                " reaction_event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (reply_event_id, voter) DO UPDATE SET vote = excluded.vote,"
                " subject = excluded.subject, reaction_event_id = excluded.reaction_event_id,"
                " updated_at = excluded.updated_at",
                (reply_event_id, voter, subject, vote, reaction_event_id, self._clock()),
            )
        return VoteChange.NEW if row is None else VoteChange.CHANGED

    def retract_vote(self, reaction_event_id: str) -> bool:
        """Forget the vote made by this reaction (the agent removed it). True if found."""
        with self._db:
            cur = self._db.execute(
                "DELETE FROM feedback WHERE reaction_event_id = ?", (reaction_event_id,)
            )
        return cur.rowcount > 0

    def feedback_summary(self, since: float | None = None) -> dict[str, Feedback]:
        """Votes per subject, those cast or changed since ``since`` (Unix time) if given."""
        rows = self._db.execute(
            "SELECT subject, SUM(vote = 'up'), SUM(vote = 'down') FROM feedback"
            " WHERE updated_at >= ? GROUP BY subject ORDER BY subject",
            (since if since is not None else 0.0,),
        ).fetchall()
        return {subject: Feedback(int(up), int(down)) for subject, up, down in rows}

    # -- retention -----------------------------------------------------------------------

    def purge(self) -> int:
        """Delete what is older than the retention period. Returns the rows deleted."""
        cutoff = self._clock() - self.settings.retention_days * DAY
        with self._db:
            a = self._db.execute("DELETE FROM unanswered WHERE last_seen < ?", (cutoff,))
            b = self._db.execute("DELETE FROM feedback WHERE updated_at < ?", (cutoff,))
        deleted = a.rowcount + b.rowcount
        if deleted:
            log.info("Purged %d rows older than %d days", deleted, self.settings.retention_days)
        return deleted

    def start_daily_purge(self, interval: float = DAY) -> None:
        """Purge every ``interval`` seconds on the running loop until :meth:`aclose`."""
        if self._purge_task is None:
            self._purge_task = asyncio.get_running_loop().create_task(
                self._purge_forever(interval), name="store-purge"
            )

    async def _purge_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.purge()
            except sqlite3.Error:
                log.exception("Purge failed; retrying at the next interval")

    async def aclose(self) -> None:
        task, self._purge_task = self._purge_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.close()

    def _forget_user_ids(self) -> None:
        """Drop ids kept while ``store_user_ids`` was on, now that it is off.

        Each vote keeps a row of its own under a random key (not ``''``, which would
        merge the votes of several agents on one reply into one): counts are unchanged.
        """
        with self._db:
            self._db.execute("UPDATE unanswered SET user_id = NULL WHERE user_id IS NOT NULL")
            self._db.execute(
                "UPDATE feedback SET voter = '#' || lower(hex(randomblob(8)))"
                " WHERE voter != '' AND voter NOT LIKE '#%'"
            )
