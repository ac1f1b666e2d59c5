"""Exactly-once by construction: whatever path a question's answer takes, its place in the
sync position is released once, by the real Sender, and only once the answer is sent or
given up. The router is fed real nio sync responses; the homeserver is a fake client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from nio import AsyncClient, RoomSendError, RoomSendResponse

from bot.config import TrustPolicy
from bot.core import Context, Reply
from bot.matrix.questions import Question
from bot.matrix.sender import Sender
from tests.unit.test_matrix_router import DM, Harness, message, sync


class Homeserver:
    """room_send answers from a script: "ok", "forbidden" or "hang"."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []

    async def room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], **_: Any
    ) -> Any:
        answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "hang":
            await asyncio.Event().wait()
        if answer == "forbidden":
            return RoomSendError.from_dict(
                {"errcode": "M_FORBIDDEN", "error": "not in room"}, room_id
            )
        self.sent.append(content["body"])
        return RoomSendResponse.from_dict({"event_id": f"$r{len(self.sent)}"}, room_id)

    async def room_typing(self, *args: Any, **kwargs: Any) -> None:
        pass


def real_sender(h: Harness, server: Homeserver) -> Sender:
    sender = Sender(
        cast(AsyncClient, server), trust=TrustPolicy.ACCEPT_UNVERIFIED, crypto_lock=asyncio.Lock()
    )
    h.router.messages._sender = sender
    return sender


async def run_until_idle(sender: Sender) -> None:
    worker = asyncio.create_task(sender.run())
    assert await sender.drain(5)
    worker.cancel()


async def test_sent_answer_releases_once_and_marks_answered(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    sender = real_sender(h, server := Homeserver("ok"))
    await h.feed(sync(DM, message("$q", "visio ?")))
    assert h.saved == [] and h.checkpoint.pending == 1
    await run_until_idle(sender)
    assert server.sent == ["Réponse"] and h.saved == ["s1"] and h.checkpoint.pending == 0
    assert h.state.is_answered("$q")


async def test_a_refused_answer_is_given_up_deliberately_and_not_marked(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    sender = real_sender(h, Homeserver("forbidden"))
    await h.feed(sync(DM, message("$q", "visio ?")))
    await run_until_idle(sender)
    assert h.saved == ["s1"] and h.checkpoint.pending == 0
    assert not h.state.is_answered("$q")


async def test_a_failing_handler_is_answered_by_a_notice_holding_the_same_place(
    tmp_path: Path,
) -> None:
    def broken(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
        raise RuntimeError("bug")

    h = Harness(tmp_path, respond=broken)
    sender = real_sender(h, server := Homeserver("ok"))
    await h.feed(sync(DM, message("$q", "visio ?")))
    assert h.checkpoint.pending == 1
    await run_until_idle(sender)
    assert "erreur" in server.sent[0] and h.saved == ["s1"] and h.checkpoint.pending == 0


async def test_a_reply_still_queued_at_shutdown_keeps_its_place(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    sender = real_sender(h, Homeserver("hang"))
    await h.feed(sync(DM, message("$q", "visio ?")))
    worker = asyncio.create_task(sender.run())
    for _ in range(5):
        await asyncio.sleep(0)
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    assert h.saved == [] and h.checkpoint.pending == 1  # answered again at the next start
    assert not h.state.is_answered("$q")


async def test_a_message_not_for_the_bot_takes_no_place(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.feed(sync(DM, message("$n", "info", msgtype="m.notice")))
    assert h.saved == ["s1"] and h.checkpoint.pending == 0
