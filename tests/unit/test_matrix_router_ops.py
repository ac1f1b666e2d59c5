"""The Router's seams used by the operations: async responders, reply ids, reactions."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.core import Context, Reply
from bot.knowledge.subject import ADMIN
from bot.matrix.questions import Question
from tests.unit.test_matrix_router import AGENT, BOT, DM, Harness, message, sync


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, *args))


def reaction(event_id: str, reacts_to: str, key: str, sender: str = AGENT) -> dict[str, Any]:
    return {
        "type": "m.reaction",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": int(time.time() * 1000),
        "content": {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": reacts_to, "key": key}
        },
    }


def harness(tmp_path: Path, respond: Any = None) -> tuple[Harness, RecordingObserver]:
    observer = RecordingObserver()
    h = Harness(tmp_path, respond=respond, observer=observer)
    return h, observer


async def test_an_async_responder_answers_without_holding_the_sync(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def slow(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
        await release.wait()
        return Reply(ADMIN, (), f"fait : {q.text}", "<p>fait</p>"), Context()

    h, observer = harness(tmp_path, respond=slow)
    await h.feed(sync(DM, message("$q", "!outils recharger"), token="s1"))
    assert h.sender.items == [] and h.saved == []  # not answered yet, position held
    await h.feed(sync(DM, message("$q", "!outils recharger"), token="s2"))  # no duplicate
    release.set()
    for _ in range(10):
        await asyncio.sleep(0)
    [item] = h.sender.items
    assert item.content["body"] == "fait : recharger"
    h.sender.deliver_all()
    assert h.saved == ["s2"]
    assert ("reply_sent", DM, "$reply", AGENT, "admin") in observer.calls


async def test_a_failing_async_responder_answers_with_a_notice(tmp_path: Path) -> None:
    async def failing(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
        raise RuntimeError("reload crashed")

    h, _ = harness(tmp_path, respond=failing)
    await h.feed(sync(DM, message("$q", "!outils recharger"), token="s1"))
    for _ in range(10):
        await asyncio.sleep(0)
    [item] = h.sender.items
    assert "une erreur est survenue" in item.content["body"]
    assert h.saved == []
    h.sender.deliver_all()
    assert h.saved == ["s1"] and h.state.is_answered("$q")


async def test_a_reload_cancelled_at_shutdown_is_not_taken_as_answered(tmp_path: Path) -> None:
    async def never(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    h, _ = harness(tmp_path, respond=never)
    await h.feed(sync(DM, message("$q", "!outils recharger"), token="s1"))
    await asyncio.sleep(0)
    await h.router.close()  # what Bot.run does at shutdown
    assert h.sender.items == []
    assert h.saved == []  # the position stays before the question: handled after restart
    assert not h.state.is_answered("$q")


async def test_reactions_and_redactions_reach_the_observer(tmp_path: Path) -> None:
    h, observer = harness(tmp_path)
    redaction = {
        "type": "m.room.redaction",
        "event_id": "$red",
        "sender": AGENT,
        "redacts": "$up",
        "origin_server_ts": int(time.time() * 1000),
        "content": {},
    }
    await h.feed(
        sync(DM, reaction("$up", "$answer", "👍"), reaction("$own", "$x", "👍", BOT), redaction)
    )
    assert ("reaction", DM, AGENT, "$answer", "👍", "$up") in observer.calls
    assert not any(c[0] == "reaction" and c[2] == BOT for c in observer.calls)
    assert ("redaction", DM, "$up") in observer.calls
