"""SQLite store: unanswered questions, feedback without double counting, retention, privacy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import StoreSettings
from bot.ops.store import (
    _WAL_SUFFIXES,
    DAY,
    FILENAME,
    Feedback,
    Store,
    VoteChange,
    normalise_question,
    vote_from_reaction,
)

ALICE = "@alice.martin:agent.tchap.gouv.fr"


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def open_store(tmp_path: Path, clock: Clock, **settings: object) -> Store:
    return Store(tmp_path / "data" / "ops.sqlite3", StoreSettings(**settings), clock=clock)  # type: ignore[arg-type]


def dump(path: Path) -> str:
    """Everything in the database, as text, read through a second connection."""
    db = sqlite3.connect(path)
    try:
        return repr([list(db.execute(f"SELECT * FROM {t}")) for t in ("unanswered", "feedback")])
    finally:
        db.close()


def test_unanswered_questions_are_grouped_and_ranked(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    for q in ["Comment poser un congé ?", "comment  poser un congé", "Quelle météo demain ?"]:
        store.record_unanswered(q, "none")
        clock.now += 60
    store.record_unanswered("Un outil pour dessiner ?", "low_confidence")

    top = store.top_unanswered(limit=2)

    assert [(q.text, q.count, q.reason) for q in top] == [
        ("comment poser un congé", 2, "none"),
        ("un outil pour dessiner", 1, "low_confidence"),
    ]
    with pytest.raises(ValueError):
        store.record_unanswered("x", "oops")


def test_no_user_id_is_stored_by_default(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    store.record_unanswered(
        f"Je suis {ALICE}, joignable à alice.martin@agri.gouv.fr ou 06 12 34 56 78",
        "none",
        user_id=ALICE,
    )
    store.record_vote("$reply1", "tool:zoom", "up", reaction_event_id="$r1", user_id=ALICE)
    store.close()

    content = dump(store.path)
    assert "alice" not in content.casefold()
    assert "06 12" not in content
    assert "<identifiant>" in content and "<courriel>" in content and "<téléphone>" in content


def test_user_ids_are_stored_only_when_configured_and_forgotten_after(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, store_user_ids=True)
    store.record_unanswered("une question", "clarify", user_id=ALICE)
    store.record_vote("$reply1", "tool:zoom", "up", user_id=ALICE)
    store.record_vote("$reply1", "tool:zoom", "down", user_id="@bob:agent.tchap.gouv.fr")
    store.close()
    assert ALICE in dump(store.path)

    store = open_store(tmp_path, clock)  # the option was turned off
    store.close()
    content = dump(store.path)
    assert "@" not in content
    assert content.count("$reply1") == 2  # both votes kept, neither attributable


def test_forgetting_user_ids_keeps_every_vote(tmp_path: Path) -> None:
    """Several agents voted on one reply while ids were stored: turning the option off
    must not merge their votes into one."""
    clock = Clock()
    store = open_store(tmp_path, clock, store_user_ids=True, votes_from_anyone=True)
    for voter, vote in ((ALICE, "up"), ("@bob:a.fr", "down"), ("@carole:a.fr", "up")):
        store.record_vote(
            "$reply1", "tool:zoom", vote, reaction_event_id=f"$r-{voter}", user_id=voter
        )
    store.record_vote("$reply2", "tool:zoom", "up", reaction_event_id="$r2", user_id=ALICE)
    before = store.feedback_summary()
    assert before == {"tool:zoom": Feedback(up=3, down=1)}
    store.close()

    store = open_store(tmp_path, clock, votes_from_anyone=True)  # the option was turned off
    assert store.feedback_summary() == before
    voters = [v for (v,) in store._db.execute("SELECT voter FROM feedback")]
    assert len(set(voters)) == 4 and not any("@" in v or "bob" in v for v in voters)
    assert store.retract_vote("$r-@bob:a.fr")  # removing a reaction still withdraws it
    assert store.feedback_summary() == {"tool:zoom": Feedback(up=3, down=0)}
    store.close()

    store = open_store(tmp_path, clock)  # and again: nothing changes
    assert store.feedback_summary() == {"tool:zoom": Feedback(up=3, down=0)}
    store.close()


def test_a_changed_or_repeated_vote_is_not_double_counted(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    assert store.record_vote("$a", "need:web_conference", "up", reaction_event_id="$r1") is (
        VoteChange.NEW
    )
    assert store.record_vote("$a", "need:web_conference", "up", reaction_event_id="$r2") is (
        VoteChange.UNCHANGED
    )
    assert store.record_vote("$a", "need:web_conference", "down", reaction_event_id="$r3") is (
        VoteChange.CHANGED
    )
    store.record_vote("$b", "need:web_conference", "up")
    store.record_vote("$c", "tool:zoom", "down")

    assert store.feedback_summary() == {
        "need:web_conference": Feedback(up=1, down=1),
        "tool:zoom": Feedback(up=0, down=1),
    }
    assert store.retract_vote("$r3")  # the agent removed the 👎
    assert not store.retract_vote("$unknown")
    assert store.feedback_summary()["need:web_conference"] == Feedback(up=1, down=0)


def test_with_user_ids_each_voter_counts_once(tmp_path: Path) -> None:
    store = open_store(tmp_path, Clock(), store_user_ids=True)
    store.record_vote("$a", "tool:zoom", "up", user_id=ALICE)
    store.record_vote("$a", "tool:zoom", "up", user_id="@bob:agent.tchap.gouv.fr")
    store.record_vote("$a", "tool:zoom", "up", user_id=ALICE)
    assert store.feedback_summary() == {"tool:zoom": Feedback(up=2, down=0)}


def test_feedback_since_a_time(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    store.record_vote("$old", "tool:zoom", "up")
    started = clock.now + 1
    clock.now += 10
    store.record_vote("$new", "tool:zoom", "down")
    assert store.feedback_summary(since=started) == {"tool:zoom": Feedback(up=0, down=1)}


def test_retention_purges_on_start_and_on_demand(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, retention_days=30)
    store.record_unanswered("ancienne question", "none")
    store.record_vote("$old", "tool:zoom", "up")
    clock.now += 20 * DAY
    store.record_unanswered("question récente", "none")
    store.record_vote("$recent", "tool:zoom", "down")
    store.close()

    clock.now += 11 * DAY  # the first ones are now 31 days old
    store = open_store(tmp_path, clock, retention_days=30)  # purged on start
    assert [q.text for q in store.top_unanswered(days=365)] == ["question récente"]
    assert store.feedback_summary() == {"tool:zoom": Feedback(up=0, down=1)}

    clock.now += 20 * DAY
    assert store.purge() == 2
    assert store.top_unanswered(days=365) == [] and store.feedback_summary() == {}


def test_top_unanswered_only_looks_at_recent_days(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    store.record_unanswered("vieille", "none")
    clock.now += 40 * DAY
    store.record_unanswered("récente", "clarify")
    assert [q.text for q in store.top_unanswered(days=30)] == ["récente"]


async def test_daily_purge_runs_until_closed(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, retention_days=1)
    store.record_unanswered("question", "none")
    store.start_daily_purge(interval=0.01)
    clock.now += 2 * DAY
    for _ in range(100):
        if not store.top_unanswered(days=365):
            break
        await asyncio.sleep(0.01)
    assert store.top_unanswered(days=365) == []
    await store.aclose()


def modes(path: Path) -> dict[str, int]:
    """Permission bits of the database and its WAL companions (recent rows live in -wal)."""
    return {suffix: os.stat(f"{path}{suffix}").st_mode & 0o777 for suffix in ("", "-wal", "-shm")}


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def test_database_is_wal_and_private(tmp_path: Path) -> None:
    with umask(0o000):  # the most permissive: nothing may depend on the operator's umask
        store = open_store(tmp_path, Clock())
        store.record_unanswered("une question récente", "none")
    assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert modes(store.path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    store.close()


def test_wal_files_left_readable_are_made_private(tmp_path: Path) -> None:
    """-wal and -shm left by an earlier run (a crash, an older version, a copy) are
    reused by SQLite as they are: the store tightens them too."""
    path = tmp_path / "data" / "ops.sqlite3"
    path.parent.mkdir()
    with umask(0o022):
        other = sqlite3.connect(path)  # still open: its -wal and -shm stay on disk
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE t (x)")
        other.commit()
    try:
        assert modes(path) == {"": 0o644, "-wal": 0o644, "-shm": 0o644}
        store = Store(path, StoreSettings(), clock=Clock())
        store.record_unanswered("une question récente", "none")
        assert modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        store.close()
    finally:
        other.close()


def test_the_operations_guide_names_every_private_file() -> None:
    """docs/operations.md tells operators which files hold the data and are mode 600."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    section = guide.split("## Storage and privacy", 1)[1].split("\n## ", 1)[0]
    assert [f"`{FILENAME}{suffix}`" in section for suffix in _WAL_SUFFIXES] == [True] * 3
    assert "600" in section


@pytest.mark.parametrize(
    ("key", "vote"),
    [("👍", "up"), ("👍️", "up"), ("👍🏽", "up"), ("👎", "down"), ("👎🏿", "down"), ("❤️", None)],
)
def test_vote_from_reaction(key: str, vote: str | None) -> None:
    assert vote_from_reaction(key) == vote


@pytest.mark.parametrize(
    ("question", "stored"),
    [
        ("  Quel outil pour une VISIO ?? ", "quel outil pour une visio"),
        ("Écrire à @bob:agent.tchap.gouv.fr", "écrire à <identifiant>"),
        ("mail: jean.dupont@interieur.gouv.fr!", "mail: <courriel>"),
        ("appelez le +33 6 12 34 56 78", "appelez le <téléphone>"),
        ("une visio pour 80 personnes", "une visio pour 80 personnes"),
    ],
)
def test_normalise_question(question: str, stored: str) -> None:
    assert normalise_question(question) == stored
