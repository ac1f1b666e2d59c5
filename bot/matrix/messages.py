"""Messages: which to answer, the answer, and its way to the sender queue.

Each message the bot answers takes a ``Place`` in the sync position, and that place goes
with the work wherever it goes: to the responder (possibly a task, for a slow admin
command), to the reply in the sender queue, or to the undecryptable holder while its
room key is awaited. The sender releases it once the reply is sent or given up; every
other path (not addressed after all, a handler failure answered by a notice) ends in a
reply or a release. So the saved position never passes a question that was neither
answered nor deliberately given up, and no question is answered twice (``_seen``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from nio import AsyncClient, Event, MatrixRoom, MegolmEvent, RoomMessage

from bot.config import Config
from bot.matrix.conversations import Conversations
from bot.matrix.crypto import UndecryptableMessages, Withheld
from bot.matrix.filters import (
    Decision,
    Incoming,
    Policy,
    RoomFacts,
    decide,
    event_age_ms,
    is_direct,
)
from bot.matrix.observer import Observer
from bot.matrix.questions import Answer, Question, Responder
from bot.matrix.replies import (
    denied_notice,
    error_notice,
    flood_notice,
    media_notice,
    reply_content,
    undecryptable_notice,
)
from bot.matrix.sender import Outgoing, Sender, reply_txn_id
from bot.matrix.state import Checkpoint, Place, StateStore

log = logging.getLogger(__name__)


_ASKED_KEPT = 1024  # questions remembered for their edits


class Messages:
    def __init__(
        self,
        client: AsyncClient,
        config: Config,
        *,
        state: StateStore,
        checkpoint: Checkpoint,
        sender: Sender,
        conversations: Conversations,
        respond: Responder,
        observer: Observer,
        facts: Callable[[MatrixRoom], RoomFacts],
        allowed: Callable[[str], bool],
        spawn: Callable[[Awaitable[Any]], None],
        now_ms: Callable[[], int],
    ) -> None:
        self._client = client
        self._config = config
        self._state = state
        self._checkpoint = checkpoint
        self._sender = sender
        self._conversations = conversations
        self._respond = respond
        self._observer = observer
        self._facts = facts
        self._allowed = allowed if config.invites.apply_to_senders else (lambda _: True)
        self._spawn = spawn
        self._now_ms = now_ms
        self.policy = Policy(
            command_prefix=config.behaviour.command_prefix,
            ignored_users=config.behaviour.ignored_users,
            max_age_ms=int(config.behaviour.catch_up_max_age * 1000),
        )
        self._pending: set[str] = set()  # event ids with a reply on its way, not yet sent
        self._flooding: set[str] = set()  # agents told they are over the per-agent cap
        self._denied: set[str] = set()  # senders the invitation rules refuse, already told
        self._asked_at: dict[str, float] = {}  # undecryptable event id -> when it was sent
        # question event id -> (the question, its thread), the last ones answered: an edit
        # that changes nothing is not answered again, one that does goes to the same thread
        self._asked: dict[str, tuple[str, str | None]] = {}
        self.skipped_old = 0  # in the sync being handled; the router logs it once
        self.undecryptable = UndecryptableMessages(
            client,
            delay=config.encryption.undecryptable_notice_after,
            on_decrypted=self._on_decrypted,
            on_gave_up=self._on_gave_up,
        )

    @property
    def _own(self) -> str:
        return str(self._client.user_id)

    def _seen(self, event_id: str) -> bool:
        return event_id in self._pending or self._state.is_answered(event_id)

    def _sent_at(self, source: dict[str, Any]) -> float:
        """When the event was sent, on the monotonic clock, by the homeserver's age."""
        return time.monotonic() - event_age_ms(source, self._now_ms()) / 1000

    # -- a message ----------------------------------------------------------------------

    def on_message(
        self,
        room: MatrixRoom,
        event: RoomMessage,
        batch: int,
        *,
        place: Place | None = None,
        asked_at: float | None = None,
    ) -> None:
        """Answer ``event`` if it is for the bot. ``place``: the one it already holds (a
        message decrypted late); released here if it is not answered after all."""
        try:
            self._on_message(room, event, batch, place, asked_at)
        finally:
            if place is not None and event.event_id not in self._pending:
                place.release()  # not handed on to an answer

    def _on_message(
        self,
        room: MatrixRoom,
        event: RoomMessage,
        batch: int,
        place: Place | None,
        asked_at: float | None,
    ) -> None:
        content = event.source.get("content")
        if not isinstance(content, dict) or self._seen(event.event_id):
            return
        body = content.get("body")
        msg = Incoming(
            event_id=event.event_id,
            sender=event.sender,
            ts=int(event.server_timestamp or 0),
            msgtype=str(content.get("msgtype", "")),
            body=body if isinstance(body, str) else "",
            content=content,
            age_ms=event_age_ms(event.source, self._now_ms()),
        )
        facts = self._facts(room)
        decision = decide(msg, facts, self.policy, self._now_ms())

        def take_place() -> Place:
            return place if place is not None else self._checkpoint.place(batch)

        if decision.reason == "media":
            self._media_notice(room, event, take_place)
            return
        if not decision.answer:
            log.debug("not answering %s: %s", event.event_id, decision.reason)
            if decision.reason == "too_old":
                self.skipped_old += 1
            return

        if decision.edited is not None:
            before = self._asked.get(decision.edited)
            if before is not None and before[0] == decision.question:
                log.debug("not answering %s: an edit that changes nothing", event.event_id)
                return
            if before is not None and decision.thread_root is None:
                decision = replace(decision, thread_root=before[1])
        if not self._allowed(event.sender):
            self._refuse(room, event.event_id, event.sender, is_direct(facts), take_place)
            return
        if self._over_cap(room.room_id, event.event_id, event.sender, take_place):
            return
        question = Question(
            room.room_id,
            event.event_id,
            event.sender,
            decision.question,
            is_direct(facts),
            decision.reason,
            asked_at if asked_at is not None else self._sent_at(event.source),
            getattr(event, "sender_key", None) if getattr(event, "decrypted", False) else None,
        )
        self._pending.add(event.event_id)
        self._remember(decision.edited or event.event_id, decision)
        self._answer(question, decision, take_place())

    def _remember(self, event_id: str, decision: Decision) -> None:
        self._asked[event_id] = (decision.question, decision.thread_root)
        if len(self._asked) > _ASKED_KEPT:
            del self._asked[next(iter(self._asked))]  # the oldest

    def _answer(self, question: Question, decision: Decision, place: Place) -> None:
        arrived = time.monotonic()
        context = self._conversations.get(question.room_id, question.sender)
        try:
            result = self._respond(question, context)
        except Exception:
            self._answer_failed(question, decision, place, arrived)
            return
        if inspect.isawaitable(result):
            self._spawn(self._answer_later(result, question, decision, place, arrived))
            return
        self._deliver(result, question, decision, place, arrived)

    async def _answer_later(
        self,
        pending: Awaitable[Answer],
        question: Question,
        decision: Decision,
        place: Place,
        arrived: float,
    ) -> None:
        try:
            answered = await pending
        except asyncio.CancelledError:
            # Shutdown: not answered; the place stays taken, so the saved position stays
            # before this question and it is handled again at the next start.
            self._pending.discard(question.event_id)
            raise
        except Exception:
            self._answer_failed(question, decision, place, arrived)
            return
        self._deliver(answered, question, decision, place, arrived)

    def _answer_failed(
        self, question: Question, decision: Decision, place: Place, arrived: float
    ) -> None:
        """The handler raised: the agent gets a short notice as the reply, so the question
        is answered once (not retried at every restart) and the position stays right."""
        log.exception("preparing the answer to %s failed; sending a notice", question.event_id)
        target = decision.edited or question.event_id  # an edit's reply: under the message
        content = error_notice(target, question.sender, decision.thread_root)
        self._queue_reply(question, content, place, subject=None, arrived=arrived)

    def _deliver(
        self, answered: Answer, question: Question, decision: Decision, place: Place, arrived: float
    ) -> None:
        reply, next_context = answered
        self._conversations.put(question.room_id, question.sender, next_context)
        log.info(
            "answering %s in %s (%s): %s",
            question.event_id,
            question.room_id,
            decision.reason,
            reply.subject,
        )
        target = decision.edited or question.event_id  # an edit's reply: under the message
        content = reply_content(reply, target, question.sender, decision.thread_root)
        subject = str(reply.subject)  # the observer's metrics label (the contract's string)
        self._queue_reply(question, content, place, subject=subject, arrived=arrived)

    def _refuse(
        self,
        room: MatrixRoom,
        event_id: str,
        sender: str,
        direct: bool,
        take_place: Callable[[], Place],
    ) -> None:
        """A sender the invitation rules refuse: not answered in any room; told once, in a
        direct chat (in a group room the others need not hear it)."""
        if sender in self._denied or not direct:
            log.info("not answering %s from %s: sender not allowed", event_id, sender)
            return
        self._denied.add(sender)
        log.info("telling %s once that it is not allowed (%s)", sender, room.room_id)
        question = Question(room.room_id, event_id, sender, "", True)
        content = denied_notice(event_id, sender)
        self._queue_reply(question, content, take_place(), subject=None, arrived=time.monotonic())

    def _media_notice(
        self, room: MatrixRoom, event: RoomMessage, take_place: Callable[[], Place]
    ) -> None:
        """A photo, a file, a voice message in a direct chat: one notice that the bot reads
        text only, answered exactly once like a question (and within the per-agent cap)."""
        sender = event.sender
        if not self._allowed(sender):
            log.info("not answering %s from %s: sender refused", event.event_id, sender)
            return
        if self._over_cap(room.room_id, event.event_id, sender, take_place):
            return
        log.info("answering %s in %s: not a text message", event.event_id, room.room_id)
        question = Question(room.room_id, event.event_id, sender, "", True)
        content = media_notice(event.event_id, sender)
        self._queue_reply(question, content, take_place(), subject=None, arrived=time.monotonic())

    def _over_cap(
        self, room_id: str, event_id: str, sender: str, take_place: Callable[[], Place]
    ) -> bool:
        """One agent with too many replies waiting: its new question is not answered; the
        first one over the cap gets a short notice (sent as the room's, not behind the
        agent's backlog), the next ones nothing until the backlog is below the cap."""
        cap = self._config.behaviour.max_queued_per_agent
        if self._sender.queued_for(sender) < cap:
            self._flooding.discard(sender)
            return False
        if sender in self._flooding:
            log.info("not answering %s from %s: over the per-agent cap", event_id, sender)
            return True
        self._flooding.add(sender)
        log.warning("%s has %d replies waiting: asked to slow down", sender, cap)
        question = Question(room_id, event_id, "", "", False)  # to the room, not the agent
        content = flood_notice(event_id, sender)
        self._queue_reply(question, content, take_place(), subject=None, arrived=time.monotonic())
        return True

    def _queue_reply(
        self,
        question: Question,
        content: dict[str, Any],
        place: Place,
        *,
        subject: str | None,
        arrived: float,
    ) -> None:
        """``arrived``: ``time.monotonic()`` when the question came in, for the latency;
        from ``question.asked_at`` counts ``behaviour.notify_after``."""
        event_id, room_id, asker = question.event_id, question.room_id, question.sender
        self._pending.add(event_id)

        def sent(reply_id: str) -> None:
            self._state.mark_answered(event_id, room_id)
            self._pending.discard(event_id)
            if subject is not None:
                self._observer.record_reply(subject, max(0.0, time.monotonic() - arrived))
                self._observer.reply_sent(room_id, reply_id, asker, subject)

        def dropped() -> None:
            self._pending.discard(event_id)

        notify_at = question.asked_at
        self._sender.submit(
            Outgoing(
                room_id,
                content,
                txn_id=reply_txn_id(event_id),
                on_sent=sent,
                on_dropped=dropped,
                agent=asker,
                notify_at=None
                if notify_at is None
                else notify_at + self._config.behaviour.notify_after,
                place=place,
            )
        )

    # -- undecryptable ------------------------------------------------------------------

    def on_undecryptable(self, room: MatrixRoom, event: MegolmEvent, batch: int) -> None:
        facts = self._facts(room)
        if (
            event.sender == self._own
            or int(event.server_timestamp or 0) < facts.since_ts
            or event_age_ms(event.source, self._now_ms()) > self.policy.max_age_ms
            or self._seen(event.event_id)
            or event.event_id in self.undecryptable
            or not self._allowed(event.sender)
        ):
            return
        waiting = self.undecryptable.held_for(event.sender) + self._sender.queued_for(event.sender)
        if waiting >= self._config.behaviour.max_queued_per_agent:
            # Key requests and notices count like answers: 40 undecryptable messages must
            # not mean 40 requests and 40 notices.
            log.info("not holding %s from %s: over the per-agent cap", event.event_id, event.sender)
            return
        self._observer.record_undecryptable()
        self._asked_at[event.event_id] = self._sent_at(event.source)
        self.undecryptable.hold(room.room_id, event, self._checkpoint.place(batch))

    def on_withheld(self, notice: Withheld) -> None:
        self.undecryptable.withheld(notice)

    async def _on_decrypted(self, room_id: str, event: Event, place: Place) -> None:
        asked_at = self._asked_at.pop(getattr(event, "event_id", ""), None)
        room = self._client.rooms.get(room_id)
        if room is None or not isinstance(event, RoomMessage):
            place.release()
            return
        self.on_message(room, event, -1, place=place, asked_at=asked_at)

    async def _on_gave_up(
        self, room_id: str, event: MegolmEvent, place: Place, withheld: str | None
    ) -> None:
        asked_at = self._asked_at.pop(event.event_id, None)
        room = self._client.rooms.get(room_id)
        if room is None or not is_direct(self._facts(room)):
            place.release()  # in a group room it may not have been for us
            return
        question = Question(room_id, event.event_id, event.sender, "", True, asked_at=asked_at)
        content = undecryptable_notice(event.event_id, event.sender, withheld)
        self._queue_reply(question, content, place, subject=None, arrived=time.monotonic())
