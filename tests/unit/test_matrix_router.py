"""The router, fed real nio sync responses, with a real (offline) nio client.

Nothing is sent: a recording sender stands in for the queue, so these tests check what
would be sent, for which event, and when the sync position may be saved.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from nio import (
    AsyncClient,
    EncryptionError,
    JoinError,
    JoinResponse,
    MatrixRoom,
    RoomMessagesResponse,
    RoomMessageText,
    SyncResponse,
)

from bot.config import Config, parse_config
from bot.core import Candidate, Context, Reply
from bot.knowledge.subject import HELP, need_subject
from bot.matrix.callbacks import Router
from bot.matrix.conversations import Conversations
from bot.matrix.questions import Question, guarded
from bot.matrix.sender import Outgoing, Sender, reply_txn_id
from bot.matrix.state import Checkpoint, StateStore

BOT = "@outils:hs.test"
AGENT = "@jeanne:hs.test"
DM = "!dm:hs.test"
GROUP = "!group:hs.test"
KEY = "0123456789abcdef0123456789abcdef"


class RecordingSender:
    def __init__(self) -> None:
        self.items: list[Outgoing] = []

    def submit(self, item: Outgoing) -> None:
        self.items.append(item)

    def queued_for(self, agent: str) -> int:
        return sum(1 for item in self.items if item.agent == agent)

    def deliver_all(self) -> None:
        """What the Sender does once each is sent: the callback, then the place released."""
        for item in self.items:
            assert item.on_sent is not None
            item.on_sent("$reply")
            if item.place is not None:
                item.place.release()
        self.items.clear()


def config(**behaviour: Any) -> Config:
    raw = {
        "matrix": {"homeserver": "https://hs.test", "user_id": BOT},
        "data_dir": "data",
        "behaviour": {"greet_on_join": True, **behaviour},
    }
    return parse_config(
        raw,
        base_dir=Path("/tmp"),
        environ={"TCHAP_BOT_ACCESS_TOKEN": "t", "TCHAP_BOT_PICKLE_KEY": KEY},
    )


def message(
    event_id: str, body: str, *, sender: str = AGENT, age_ms: int = 1000, **content: Any
) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": int(time.time() * 1000) - age_ms,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


def sync(
    room_id: str,
    *events: dict[str, Any],
    token: str = "s1",
    limited: bool = False,
    invite: dict[str, Any] | None = None,
    to_device: tuple[dict[str, Any], ...] = (),
) -> SyncResponse:
    response = SyncResponse.from_dict(
        {
            "next_batch": token,
            "to_device": {"events": list(to_device)},
            "rooms": {
                "join": {
                    room_id: {
                        "timeline": {
                            "events": list(events),
                            "limited": limited,
                            "prev_batch": "p0",
                        },
                        "state": {"events": []},
                    }
                }
                if events
                else {},
                "invite": invite or {},
            },
        }
    )
    assert isinstance(response, SyncResponse), response
    return response


class Harness:
    def __init__(
        self,
        tmp_path: Path,
        respond: Any = None,
        undecryptable_delay: bool = False,
        observer: Any = None,
        **behaviour: Any,
    ) -> None:
        self.client = AsyncClient("https://hs.test", BOT)
        self.client.user_id = BOT
        for room_id, members in ((DM, [AGENT]), (GROUP, [AGENT, "@paul:hs.test"])):
            room = MatrixRoom(room_id, BOT)
            room.add_member(BOT, "Outils numériques [Intérieur]", None)
            for member in members:
                room.add_member(member, None, None)
            self.client.rooms[room_id] = room
        self.state = StateStore(tmp_path / "state.db")
        self.saved: list[str] = []
        self.checkpoint = Checkpoint(self.saved.append)
        self.sender = RecordingSender()
        self.questions: list[Question] = []

        def default_respond(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
            self.questions.append(q)
            visio = need_subject("visio")
            return Reply(visio, (Candidate(visio, 1.0),), "Réponse", "<p>Réponse</p>"), Context()

        self.router = Router(
            self.client,
            config(**behaviour),
            state=self.state,
            checkpoint=self.checkpoint,
            sender=cast(Sender, self.sender),
            conversations=Conversations(600),
            respond=respond or default_respond,
            greeting=lambda: Reply(HELP, (), "Bonjour", "<p>Bonjour</p>"),
            observer=observer,
        )
        for room_id in (DM, GROUP):
            self.state.set_room_since(room_id, 0)

    async def feed(self, response: SyncResponse, *, since: str = "s0") -> None:
        batch = self.checkpoint.open(response.next_batch)
        await self.router.handle_sync(response, batch, initial=False, since=since)
        self.checkpoint.seal(batch)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


async def test_dm_question_is_answered_once_and_position_saved_after_sending(h: Harness) -> None:
    await h.feed(sync(DM, message("$q1", "visio ?")))
    [item] = h.sender.items
    assert item.room_id == DM
    assert item.txn_id == reply_txn_id("$q1")
    assert item.content["msgtype"] == "m.notice"
    assert item.content["format"] == "org.matrix.custom.html"
    assert item.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q1"}}
    assert h.saved == []  # the reply is not sent yet: the position must not move
    h.sender.deliver_all()
    assert h.saved == ["s1"]
    assert h.state.is_answered("$q1")
    # The same event again (e.g. replayed after a restart): not answered twice.
    await h.feed(sync(DM, message("$q1", "visio ?"), token="s2"))
    assert h.sender.items == []
    assert h.saved == ["s1", "s2"]


async def test_an_answer_notifies_from_notify_after_counted_from_the_servers_age(
    h: Harness,
) -> None:
    """The question's age is the homeserver's (unsigned.age), not the local clock's."""
    old = {**message("$old", "visio ?", age_ms=0), "unsigned": {"age": 45_000}}
    fresh = {**message("$new", "audio ?", age_ms=3_600_000), "unsigned": {"age": 1_000}}
    before = time.monotonic()
    await h.feed(sync(DM, old, fresh))
    late, on_time = h.sender.items
    assert late.notify_at is not None and late.notify_at <= before  # 45 s > 30 s: late now
    assert on_time.notify_at is not None and on_time.notify_at >= before + 28


async def test_group_room_needs_a_mention_or_the_prefix(h: Harness) -> None:
    await h.feed(
        sync(
            GROUP,
            message("$a", "quelqu'un a une idée ?"),
            message("$b", "!outils visio"),
            message("$c", "et l'audio ?", **{"m.mentions": {"user_ids": [BOT]}}),
            message("$d", "Outils numériques, un partage de fichiers ?"),
        )
    )
    assert [q.event_id for q in h.questions] == ["$b", "$c", "$d"]
    assert [q.text for q in h.questions] == ["visio", "et l'audio ?", "un partage de fichiers ?"]
    assert all(not q.direct for q in h.questions)


async def test_ignored_events(h: Harness) -> None:
    await h.feed(
        sync(
            DM,
            message("$own", "visio", sender=BOT),
            message("$notice", "visio", msgtype="m.notice"),
            message(
                "$edit", "* visio", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}
            ),
            message("$old", "visio", age_ms=2 * 3600 * 1000),
        )
    )
    assert h.sender.items == []


def edit_of(event_id: str, original: str, body: str) -> dict[str, Any]:
    new = {"msgtype": "m.text", "body": body}
    rel = {"rel_type": "m.replace", "event_id": original}
    return message(event_id, "* " + body, **{"m.relates_to": rel, "m.new_content": new})


async def test_an_edited_question_is_answered_again_under_it_once(h: Harness) -> None:
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}
    await h.feed(sync(DM, message("$q", "visio a 60", **thread)))
    h.sender.deliver_all()
    # The agent corrects the typo: answered on the new text, under the message, in its thread.
    await h.feed(sync(DM, edit_of("$e1", "$q", "visio à 60 ?"), token="s2"))
    [item] = h.sender.items
    assert [q.text for q in h.questions] == ["visio a 60", "visio à 60 ?"]
    assert item.content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$q"},
    }
    h.sender.deliver_all()
    # The same edit again, and an edit that changes nothing the bot reads: no new answer.
    await h.feed(
        sync(DM, edit_of("$e1", "$q", "visio à 60 ?"), edit_of("$e2", "$q", "visio à 60 ?"))
    )
    assert h.sender.items == [] and len(h.questions) == 2


async def test_an_edit_that_names_the_bot_in_a_team_room_is_answered(h: Harness) -> None:
    await h.feed(sync(GROUP, message("$q", "visio à 60 ?")))
    assert h.questions == []
    await h.feed(sync(GROUP, edit_of("$e", "$q", "Outils numériques : visio à 60 ?"), token="s2"))
    assert [q.text for q in h.questions] == ["visio à 60 ?"]
    assert h.sender.items[0].content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}


async def test_thread_questions_are_answered_in_the_thread(h: Harness) -> None:
    rel = {"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}
    await h.feed(sync(DM, message("$t", "visio", **rel)))
    assert h.sender.items[0].content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,  # a real reply to the question, not a fallback
        "m.in_reply_to": {"event_id": "$t"},
    }


async def test_a_failing_handler_does_not_stop_the_others(tmp_path: Path) -> None:
    def respond(q: Question, ctx: Context | None) -> tuple[Reply, Context]:
        if q.text == "boom":
            raise RuntimeError("boom")
        return Reply(HELP, (), "ok", "<p>ok</p>"), Context()

    h = Harness(tmp_path, respond=respond)
    await h.feed(sync(DM, message("$1", "boom"), message("$2", "visio")))
    replies = {i.content["m.relates_to"]["m.in_reply_to"]["event_id"]: i for i in h.sender.items}
    assert list(replies) == ["$1", "$2"]
    # The failed question gets a short notice as its reply, not silence.
    notice = replies["$1"].content
    assert notice["msgtype"] == "m.notice" and notice["m.mentions"] == {"user_ids": [AGENT]}
    assert notice["body"].startswith("Désolé, une erreur est survenue en préparant la réponse.")
    assert replies["$1"].txn_id == reply_txn_id("$1")
    assert h.saved == []  # not past the failed question before its notice is sent
    h.sender.deliver_all()
    assert h.saved == ["s1"]
    assert h.state.is_answered("$1")  # answered once: not again after a restart
    await h.feed(sync(DM, message("$1", "boom"), token="s2"))
    assert h.sender.items == []


async def test_guarded_logs_and_swallows(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("bad event")

    await guarded("an event", fails())
    assert "handling an event failed" in caplog.text


async def test_limited_timeline_fetches_the_gap_first(h: Harness) -> None:
    calls: list[dict[str, Any]] = []

    async def room_messages(room_id: str, **kwargs: Any) -> RoomMessagesResponse:
        calls.append({"room_id": room_id, **kwargs})
        return RoomMessagesResponse.from_dict(
            {"chunk": [message("$gap2", "audio"), message("$gap1", "visio")], "start": "p0"},
            room_id,
        )

    h.client.room_messages = room_messages  # type: ignore[method-assign]
    await h.feed(sync(DM, message("$live", "fichier"), limited=True), since="s0")
    assert calls[0]["start"] == "p0" and calls[0]["end"] == "s0"
    assert [q.event_id for q in h.questions] == ["$gap1", "$gap2", "$live"]


async def test_invitations_are_joined_or_declined(h: Harness) -> None:
    joined: list[str] = []
    left: list[str] = []

    async def join(room_id: str) -> Any:
        joined.append(room_id)
        return JoinResponse(room_id)

    async def room_leave(room_id: str) -> None:
        left.append(room_id)

    h.client.join = join  # type: ignore[method-assign]
    h.client.room_leave = room_leave  # type: ignore[method-assign]

    def invite(inviter: str) -> dict[str, Any]:
        return {
            "invite_state": {
                "events": [
                    {
                        "type": "m.room.member",
                        "state_key": BOT,
                        "sender": inviter,
                        "content": {"membership": "invite"},
                    }
                ]
            }
        }

    response = sync(
        DM,
        invite={
            "!ok:hs.test": invite(AGENT),
            "!ext:hs.test": invite("@x:e.tchap.gouv.fr"),
            "!other:hs.test": invite("@x:elsewhere.fr"),
        },
    )
    await h.feed(response)
    for _ in range(5):
        await asyncio.sleep(0)  # joins and declines run as background requests
    assert joined == ["!ok:hs.test"]
    assert sorted(left) == ["!ext:hs.test", "!other:hs.test"]
    await h.feed(response, since="s1")  # the same invitations again: handled once
    await asyncio.sleep(0)
    assert joined == ["!ok:hs.test"]
    await h.router.close()


async def test_own_join_greets_once(h: Harness) -> None:
    join = {
        "type": "m.room.member",
        "event_id": "$join",
        "sender": BOT,
        "state_key": BOT,
        "origin_server_ts": int(time.time() * 1000),
        "content": {"membership": "join"},
    }
    await h.feed(sync(DM, join))
    await h.feed(sync(DM, {**join, "event_id": "$join2"}, token="s2"))
    greetings = [i for i in h.sender.items if "m.relates_to" not in i.content]
    assert len(greetings) == 1
    assert greetings[0].content["body"] == "Bonjour"


def megolm(event_id: str, age_ms: int = 1000) -> dict[str, Any]:
    return {
        "type": "m.room.encrypted",
        "event_id": event_id,
        "sender": AGENT,
        "origin_server_ts": int(time.time() * 1000) - age_ms,
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnA",
            "sender_key": "KEY",
            "session_id": f"session-{event_id}",
            "device_id": "AGENTDEV",
        },
    }


async def test_undecryptable_message_is_answered_when_its_key_arrives(h: Harness) -> None:
    keys: set[str] = set()
    requested: list[str] = []

    def decrypt_event(event: Any) -> Any:
        if event.session_id not in keys:
            raise EncryptionError("no session")
        return RoomMessageText.from_dict(message(event.event_id, "visio"))

    async def request_room_key(event: Any) -> None:
        requested.append(event.session_id)

    async def to_device(message: Any) -> None:
        requested.append(f"to {message.recipient}")

    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    h.client.request_room_key = request_room_key  # type: ignore[method-assign]
    h.client.to_device = to_device  # type: ignore[method-assign]
    h.client.device_id = "BOTDEV"
    await h.feed(sync(DM, megolm("$enc")))
    for _ in range(5):
        await asyncio.sleep(0)  # the key requests run as background tasks
    assert requested == ["session-$enc", f"to {AGENT}"]
    assert h.sender.items == [] and h.saved == []  # held: the position waits for it
    keys.add("session-$enc")
    await h.router.undecryptable.retry()
    [item] = h.sender.items
    assert item.content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$enc"
    h.sender.deliver_all()
    assert h.saved == ["s1"]


async def test_undecryptable_message_gets_one_notice_after_the_delay(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.router.undecryptable._delay = 0  # give up at the first retry

    def decrypt_event(event: Any) -> Any:
        raise EncryptionError("no session")

    async def ignore(*args: Any) -> None:
        pass

    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    h.client.request_room_key = ignore  # type: ignore[method-assign]
    h.client.to_device = ignore  # type: ignore[method-assign]
    h.client.device_id = "BOTDEV"
    await h.feed(sync(DM, megolm("$enc")))
    assert h.sender.items == []  # the sync itself never retries: the retry task does
    await h.router.undecryptable.retry()
    [notice] = h.sender.items
    assert notice.content["msgtype"] == "m.notice"
    assert "renvoyer" in notice.content["body"]
    # Like every reply: to the message, mentioning its sender.
    assert notice.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$enc"}}
    assert notice.content["m.mentions"] == {"user_ids": [AGENT]}
    await h.router.undecryptable.retry()
    assert len(h.sender.items) == 1  # only one notice


def withheld(session_id: str | None, code: str = "m.unverified") -> dict[str, Any]:
    """As a Rust-crypto client in "exclude insecure devices" mode sends it."""
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "code": code,
        "reason": "The sender has disabled encrypting to unverified devices.",
        "room_id": DM,
        "sender_key": "KEY",
    }
    if session_id is not None:
        content["session_id"] = session_id
    return {"type": "m.room_key.withheld", "sender": AGENT, "content": content}


@pytest.mark.parametrize("before", [True, False], ids=["withheld-first", "message-first"])
async def test_a_withheld_key_settles_the_message_at_once_with_what_to_do(
    tmp_path: Path, before: bool
) -> None:
    h = Harness(tmp_path)  # the delay is the configured one: far away

    def decrypt_event(event: Any) -> Any:
        raise EncryptionError("no session")

    async def ignore(*args: Any) -> None:
        pass

    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    h.client.request_room_key = ignore  # type: ignore[method-assign]
    h.client.to_device = ignore  # type: ignore[method-assign]
    notice = withheld("session-$enc")
    if before:
        await h.feed(sync(DM, message("$x", "bonjour"), to_device=(notice,)))
        await h.feed(sync(DM, megolm("$enc"), token="s2"))
    else:
        await h.feed(sync(DM, megolm("$enc")))
        await h.feed(sync(DM, token="s2", to_device=(notice,)))
    h.sender.items.clear()
    await h.router.undecryptable.retry()
    [reply] = h.sender.items
    assert "ne reconnaît pas encore mon appareil comme vérifié" in reply.content["body"]
    assert reply.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$enc"}}
    assert len(h.router.undecryptable) == 0


async def test_a_withheld_key_of_another_session_or_sender_settles_nothing(h: Harness) -> None:
    def decrypt_event(event: Any) -> Any:
        raise EncryptionError("no session")

    async def ignore(*args: Any) -> None:
        pass

    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    h.client.request_room_key = ignore  # type: ignore[method-assign]
    h.client.to_device = ignore  # type: ignore[method-assign]
    other_sender = {**withheld("session-$enc"), "sender": "@paul:hs.test"}
    await h.feed(sync(DM, megolm("$enc"), to_device=(withheld("session-other"), other_sender)))
    await h.router.undecryptable.retry()
    assert h.sender.items == [] and len(h.router.undecryptable) == 1
    # A device-wide refusal (no Olm channel) from the sender's device settles it.
    await h.feed(sync(DM, token="s2", to_device=(withheld(None, "m.no_olm"),)))
    await h.router.undecryptable.retry()
    [reply] = h.sender.items
    assert "canal chiffré" in reply.content["body"]


async def test_an_agent_over_the_cap_gets_one_notice_then_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_queued_per_agent=2)
    await h.feed(sync(DM, *(message(f"$q{i}", f"visio {i}") for i in range(5))))
    bodies = [item.content["body"] for item in h.sender.items]
    assert len(bodies) == 3 and bodies[:2] == ["Réponse", "Réponse"]
    assert "beaucoup de questions" in bodies[2]
    assert h.sender.items[2].agent == ""  # not queued behind the agent's own backlog
    assert [q.event_id for q in h.questions] == ["$q0", "$q1"]
    h.sender.deliver_all()
    assert h.state.is_answered("$q2") and not h.state.is_answered("$q3")
    # Once the backlog is gone, questions are answered again.
    await h.feed(sync(DM, message("$q9", "visio"), token="s2"))
    assert [item.content["body"] for item in h.sender.items] == ["Réponse"]


async def test_key_requests_never_hold_the_sync_and_stop_at_close(h: Harness) -> None:
    """A slow homeserver on the key requests: the sync goes on; close cancels them."""
    started: list[str] = []
    blocked = asyncio.Event()

    async def request_room_key(event: Any) -> None:
        started.append(event.session_id)
        await blocked.wait()

    def decrypt_event(event: Any) -> Any:
        raise EncryptionError("no session")

    h.client.request_room_key = request_room_key  # type: ignore[method-assign]
    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    await asyncio.wait_for(h.feed(sync(DM, megolm("$enc"))), timeout=1)
    await asyncio.sleep(0)
    assert started == ["session-$enc"]
    [task] = h.router.undecryptable._requests
    await h.router.close()
    assert task.cancelled() and not h.router.undecryptable._requests


async def test_the_retry_task_is_the_one_owner_and_a_sync_wakes_it(h: Harness) -> None:
    keys: set[str] = set()
    decrypts: list[str] = []

    def decrypt_event(event: Any) -> Any:
        decrypts.append(event.event_id)
        if event.session_id not in keys:
            raise EncryptionError("no session")
        return RoomMessageText.from_dict(message(event.event_id, "visio"))

    async def ignore(*args: Any) -> None:
        pass

    h.client.decrypt_event = decrypt_event  # type: ignore[method-assign]
    h.client.request_room_key = ignore  # type: ignore[method-assign]
    h.client.to_device = ignore  # type: ignore[method-assign]
    await h.feed(sync(DM, megolm("$enc")))
    await h.feed(sync(DM, message("$other", "audio"), token="s2"))
    assert decrypts == []  # handling syncs does not retry
    retries = asyncio.create_task(h.router.undecryptable.run())
    try:
        await asyncio.sleep(0)
        keys.add("session-$enc")
        began = time.monotonic()
        await h.feed(sync(DM, message("$x", "fichier"), token="s3"))  # the key came with it
        while not any(i.txn_id == reply_txn_id("$enc") for i in h.sender.items):
            assert time.monotonic() - began < 0.5, "the sync did not wake the retry task"
            await asyncio.sleep(0.01)
    finally:
        retries.cancel()
        await asyncio.gather(retries, return_exceptions=True)


def invite_from(inviter: str) -> dict[str, Any]:
    return {
        "invite_state": {
            "events": [
                {
                    "type": "m.room.member",
                    "state_key": BOT,
                    "sender": inviter,
                    "content": {"membership": "invite"},
                }
            ]
        }
    }


def join_error(errcode: str, status: int) -> JoinError:
    error = JoinError.from_dict({"errcode": errcode, "error": errcode})
    error.transport_response = SimpleNamespace(status=status)
    return error


async def test_a_refused_join_is_given_up_at_once_not_retried(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[str] = []
    sleeps: list[float] = []

    async def join(room_id: str) -> Any:
        attempts.append(room_id)
        return join_error("M_FORBIDDEN", 403)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    h.client.join = join  # type: ignore[method-assign]
    h.router.rooms._sleep = sleep
    response = sync(DM, invite={"!closed:hs.test": invite_from(AGENT)})
    await h.feed(response)
    for _ in range(5):
        await asyncio.sleep(0)
    assert attempts == ["!closed:hs.test"] and sleeps == []
    assert caplog.text.count("invitation given up") == 1
    await h.feed(response, since="s1")  # the same invitation in a later sync
    await asyncio.sleep(0)
    assert attempts == ["!closed:hs.test"]
    await h.router.close()


async def test_a_join_is_retried_through_429_5xx_and_network_errors(h: Harness) -> None:
    answers: list[Any] = [
        join_error("M_LIMIT_EXCEEDED", 429),
        join_error("M_UNKNOWN", 502),
        TimeoutError("slow"),
        JoinResponse("!busy:hs.test"),
    ]
    sleeps: list[float] = []

    async def join(room_id: str) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    h.client.join = join  # type: ignore[method-assign]
    h.router.rooms._sleep = sleep
    await h.feed(sync(DM, invite={"!busy:hs.test": invite_from(AGENT)}))
    for _ in range(20):
        await asyncio.sleep(0)
    assert answers == [] and len(sleeps) == 3
    await h.router.close()


async def test_room_facts_are_built_once_per_message(h: Harness) -> None:
    built: list[str] = []
    facts = h.router.messages._facts

    def counting(room: MatrixRoom) -> Any:
        built.append(room.room_id)
        return facts(room)

    h.router.messages._facts = counting
    await h.feed(sync(DM, message("$q", "visio ?")))
    assert built == [DM] and len(h.sender.items) == 1


async def test_a_photo_in_a_direct_chat_gets_one_text_only_notice(h: Harness) -> None:
    photo = message("$photo", "IMG_0042.jpg", msgtype="m.image", url="mxc://hs.test/x")
    await h.feed(sync(DM, photo, message("$emote", "salue", msgtype="m.emote")))
    [item] = h.sender.items  # the photo's notice; an emote is no question
    assert item.txn_id == reply_txn_id("$photo")
    assert item.content["msgtype"] == "m.notice"
    assert item.content["body"].startswith("Je ne lis que les messages écrits")
    assert item.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$photo"}}
    assert h.questions == []  # the core never saw it
    assert h.saved == []
    h.sender.deliver_all()
    assert h.saved == ["s1"] and h.state.is_answered("$photo")
    await h.feed(sync(DM, photo, token="s2"))  # replayed: not noticed twice
    assert h.sender.items == []


async def test_a_file_in_a_group_room_gets_nothing(h: Harness) -> None:
    await h.feed(sync(GROUP, message("$file", "cr.pdf", msgtype="m.file", url="mxc://hs.test/y")))
    assert h.sender.items == []
    assert h.saved == ["s1"]
