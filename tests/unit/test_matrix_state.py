"""Persistent state and the checkpoint that decides when the sync position is saved."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core import Context
from bot.knowledge.subject import need_subject
from bot.matrix.conversations import Conversations
from bot.matrix.state import Checkpoint, StateStore


def test_checkpoint_waits_for_every_earlier_reply() -> None:
    saved: list[str] = []
    cp = Checkpoint(saved.append)
    first = cp.open("s1")
    cp.hold(first)
    cp.seal(first)
    second = cp.open("s2")
    cp.seal(second)
    assert saved == []  # s2 would skip the reply still pending in s1
    cp.release(first)
    assert saved == ["s2"]
    third = cp.open("s3")
    cp.seal(third)
    assert saved == ["s2", "s3"]
    assert cp.pending == 0


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state = StateStore(path)
    state.save_sync_token("s42")
    state.mark_answered("$q", "!r")
    state.set_room_since("!r", 123)
    state.mark_greeted("!r")
    state.close()
    again = StateStore(path)
    assert again.sync_token == "s42"
    assert again.is_answered("$q") and not again.is_answered("$other")
    assert again.room_since("!r") == 123 and again.greeted("!r")
    again.forget_room("!r")
    assert again.room_since("!r") is None


def test_conversations_expire_after_idle_time() -> None:
    now = [0.0]
    conversations = Conversations(60, clock=lambda: now[0])
    context = Context(subject=need_subject("web_conference"))
    conversations.put("!r", "@a:hs", context)
    assert conversations.get("!r", "@a:hs") == context
    assert conversations.get("!r", "@b:hs") is None  # per agent
    assert conversations.get("!other", "@a:hs") is None  # per room
    now[0] = 61
    assert conversations.get("!r", "@a:hs") is None


def test_a_failed_write_is_reported_once_and_nothing_is_marked(tmp_path: Path) -> None:
    errors: list[sqlite3.Error] = []
    store = StateStore(tmp_path / "state.db", on_write_error=errors.append)
    store.save_sync_token("s1")
    store._db.execute("PRAGMA query_only = ON")  # every write now fails, as on a full disk
    store.mark_answered("$q", "!r")
    store.save_sync_token("s2")
    assert len(errors) == 1 and "readonly" in str(errors[0])
    assert not store.is_answered("$q")
    assert store.sync_token == "s1"


def test_a_place_counts_once_however_many_paths_release_it() -> None:
    saved: list[str] = []
    checkpoint = Checkpoint(saved.append)
    first, second = checkpoint.open("s1"), checkpoint.open("s2")
    a, b = checkpoint.place(first), checkpoint.place(second)
    checkpoint.seal(first)
    checkpoint.seal(second)
    b.release()
    b.release()  # a sent callback and a failure path: still one
    assert saved == []  # s1's place is still taken: nothing may be saved past it
    a.release()
    a.release()
    assert saved == ["s2"] and checkpoint.pending == 0
