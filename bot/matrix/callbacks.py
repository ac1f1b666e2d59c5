"""Routing what a sync brings: invitations, memberships, messages, undecryptable messages.

The supervisor hands each sync response to ``Router.handle_sync`` after nio has updated
its state and decrypted what it could. Every event is handled under ``guarded``: an
exception is logged and the next event goes on (in nio an exception in a callback ends
the sync loop). Replies go to the sender queue; the question's batch stays held in the
checkpoint until its reply is sent, so the saved sync position never skips a question.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    Event,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessage,
    RoomMessagesResponse,
    SyncResponse,
)
from nio.responses import RoomInfo

from bot.config import Config
from bot.core import Context, Reply
from bot.matrix.backoff import Backoff
from bot.matrix.conversations import Conversations
from bot.matrix.crypto import UndecryptableMessages, Withheld
from bot.matrix.errors import http_status
from bot.matrix.filters import (
    Decision,
    Incoming,
    Policy,
    RoomFacts,
    decide,
    event_age_ms,
    is_direct,
)
from bot.matrix.invites import invite_allowed
from bot.matrix.mentions import name_variants
from bot.matrix.observer import NullObserver, Observer
from bot.matrix.replies import (
    error_notice,
    flood_notice,
    greeting_content,
    reply_content,
    undecryptable_notice,
)
from bot.matrix.sender import Outgoing, Sender, reply_txn_id
from bot.matrix.state import Checkpoint, StateStore

log = logging.getLogger(__name__)

GAP_PAGE = 100
GAP_MAX_EVENTS = 2000  # a gap larger than this (after a very long downtime) is cut
JOIN_BACKOFF_MAX = 60.0  # seconds between two join attempts, at most


@dataclass(frozen=True)
class Question:
    """One message the bot will answer, mention or prefix removed."""

    room_id: str
    event_id: str
    sender: str
    text: str
    direct: bool
    via: str = ""  # how it was addressed: "direct", "prefix" or "mention"
    asked_at: float | None = None  # time.monotonic() when it was sent, by the server's age
    sender_key: str | None = None  # Curve25519 key of the sending device, when encrypted


Answer = tuple[Reply, Context]
# (question, the agent's context in this room) -> (reply, next context), or an awaitable
# of it for slow work (an admin reload): the Router then answers from a task, without
# holding up the sync loop. The default is the pure core; ``bot.matrix.ops`` wraps it.
Responder = Callable[[Question, Context | None], Answer | Awaitable[Answer]]


async def guarded(what: str, work: Awaitable[Any]) -> None:
    """Await ``work``; log any exception instead of letting it stop the caller."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("handling %s failed; going on", what)


class Router:
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
        greeting: Callable[[], Reply],
        observer: Observer | None = None,
        fault_trigger: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._state = state
        self._checkpoint = checkpoint
        self._sender = sender
        self._conversations = conversations
        self._respond = respond
        self._greeting = greeting
        self._observer = observer or NullObserver()
        self._fault_trigger = fault_trigger
        self._clock = clock
        self._sleep = sleep
        self._policy = Policy(
            command_prefix=config.behaviour.command_prefix,
            ignored_users=config.behaviour.ignored_users,
            max_age_ms=int(config.behaviour.catch_up_max_age * 1000),
        )
        self._pending: set[str] = set()  # event ids with a reply queued, not yet sent
        self._invites_seen: set[str] = set()
        self._flooding: set[str] = set()  # agents told they are over the per-agent cap
        self._held_asked_at: dict[str, float] = {}  # undecryptable event id -> asked_at
        self._skipped_old = 0  # in the sync being handled, logged once at its end
        self._tasks: set[asyncio.Task[Any]] = set()
        self.display_name: str | None = None
        self.undecryptable = UndecryptableMessages(
            client,
            delay=config.encryption.undecryptable_notice_after,
            on_decrypted=self._on_decrypted,
            on_gave_up=self._on_gave_up,
        )

    @property
    def _own(self) -> str:
        return str(self._client.user_id)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- one sync response ------------------------------------------------------------

    async def handle_sync(
        self, response: SyncResponse, batch: int, *, initial: bool, since: str | None
    ) -> None:
        """Handle a sync response. ``initial``: the first sync ever (no saved position):
        everything in it is history. ``since``: the token the sync was made from."""
        for event in response.to_device_events:
            notice = Withheld.parse(event)
            if notice is not None:
                self.undecryptable.withheld(notice)
        for room_id, invite in response.rooms.invite.items():
            await guarded(f"invitation to {room_id}", self._on_invite(room_id, invite))
        for room_id, info in response.rooms.join.items():
            await guarded(
                f"room {room_id}", self._on_joined_room(room_id, info, batch, initial, since)
            )
        for room_id in response.rooms.leave:
            self._state.forget_room(room_id)
            self._conversations.forget_room(room_id)
            self._invites_seen.discard(room_id)
        if self._skipped_old:
            log.info(
                "%d message(s) not answered: sent more than behaviour.catch_up_max_age "
                "(%.0f s) ago, by the homeserver's clock",
                self._skipped_old,
                self._policy.max_age_ms / 1000,
            )
            self._skipped_old = 0
        self.undecryptable.poke()  # its task retries: keys may have come with this sync
        self._observer.set_rooms_joined(len(self._client.rooms))

    async def _on_joined_room(
        self, room_id: str, info: RoomInfo, batch: int, initial: bool, since: str | None
    ) -> None:
        room = self._client.rooms.get(room_id)
        if room is None:
            return
        new_room = initial or self._state.room_since(room_id) is None
        if new_room:
            # First sight of this room: only what happens from now on counts. Our own
            # join event, if in this timeline, refines this with the server's clock.
            self._state.set_room_since(room_id, self._now_ms())
        events: list[Event] = list(info.timeline.events)
        if info.timeline.limited and not new_room and since:
            gap = await self._fetch_gap(room_id, info.timeline.prev_batch, since)
            known = {e.event_id for e in events}
            events = [e for e in gap if e.event_id not in known] + events
        members_changed = False
        for event in events:
            if isinstance(event, RoomMemberEvent):
                members_changed = True
            await guarded(
                f"event {getattr(event, 'event_id', '?')} in {room_id}",
                self._on_event(room, event, batch, initial),
            )
        if members_changed:
            await self._leave_if_alone(room)

    async def _fetch_gap(self, room_id: str, prev_batch: str | None, since: str) -> list[Event]:
        """The events a ``limited`` timeline left out, oldest first, back to ``since`` or to
        the catch-up age limit."""
        cutoff = self._now_ms() - self._policy.max_age_ms
        collected: list[Event] = []
        start = prev_batch
        while start and len(collected) < GAP_MAX_EVENTS:
            response = await self._client.room_messages(
                room_id, start=start, end=since, direction=MessageDirection.back, limit=GAP_PAGE
            )
            if not isinstance(response, RoomMessagesResponse):
                log.warning("fetching the gap in %s failed: %s", room_id, response)
                break
            collected.extend(response.chunk)
            oldest = min((e.server_timestamp for e in response.chunk), default=0)
            if not response.chunk or not response.end or oldest < cutoff:
                break
            start = response.end
        log.info("timeline of %s was limited: %d earlier events fetched", room_id, len(collected))
        return list(reversed(collected))

    async def _on_event(self, room: MatrixRoom, event: Event, batch: int, initial: bool) -> None:
        if isinstance(event, RoomMemberEvent):
            await self._on_member(room, event, batch, initial)
        elif isinstance(event, MegolmEvent):
            await self._on_undecryptable(room, event, batch)
        elif isinstance(event, RoomMessage):
            self._on_message(room, event, batch)
        elif isinstance(event, ReactionEvent):
            if event.sender != self._own:
                self._observer.reaction(
                    room.room_id, event.sender, event.reacts_to, event.key, event.event_id
                )
        elif isinstance(event, RedactionEvent):
            self._observer.redaction(room.room_id, event.redacts)

    # -- messages -------------------------------------------------------------------

    def _facts(self, room: MatrixRoom) -> RoomFacts:
        names = name_variants(self._own, (room.user_name(self._own), self.display_name))
        since = self._state.room_since(room.room_id)
        return RoomFacts(
            room_id=room.room_id,
            member_count=room.member_count,
            own_user_id=self._own,
            own_names=names,
            since_ts=since if since is not None else self._now_ms(),
        )

    def _seen(self, event_id: str) -> bool:
        return event_id in self._pending or self._state.is_answered(event_id)

    def _asked_at(self, source: dict[str, Any]) -> float:
        return time.monotonic() - event_age_ms(source, self._now_ms()) / 1000

    def _on_message(
        self, room: MatrixRoom, event: RoomMessage, batch: int, asked_at: float | None = None
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
        decision = decide(msg, facts, self._policy, self._now_ms())
        if not decision.answer:
            log.debug("not answering %s: %s", event.event_id, decision.reason)
            if decision.reason == "too_old":
                self._skipped_old += 1
            return
        if self._over_cap(room.room_id, event.event_id, event.sender, batch):
            return
        question = Question(
            room.room_id,
            event.event_id,
            event.sender,
            decision.question,
            is_direct(facts),
            decision.reason,
            asked_at if asked_at is not None else self._asked_at(event.source),
            getattr(event, "sender_key", None) if getattr(event, "decrypted", False) else None,
        )
        arrived = time.monotonic()
        context = self._conversations.get(room.room_id, event.sender)
        try:
            if self._fault_trigger is not None and question.text == self._fault_trigger:
                raise RuntimeError("fault injected for tests (TCHAP_BOT_TEST_FAULT_TRIGGER)")
            result = self._respond(question, context)
        except Exception:
            self._answer_failed(question, decision, batch, arrived)
            return
        if inspect.isawaitable(result):
            self._pending.add(event.event_id)
            self._checkpoint.hold(batch)
            self._spawn(self._answer_later(result, question, decision, batch, arrived))
            return
        self._deliver(result, question, decision, batch, arrived)

    async def _answer_later(
        self,
        pending: Awaitable[Answer],
        question: Question,
        decision: Decision,
        batch: int,
        arrived: float,
    ) -> None:
        cancelled = False
        try:
            self._deliver(await pending, question, decision, batch, arrived)
        except asyncio.CancelledError:
            # Shutdown: not answered, so the batch stays held and the saved position
            # before this question; it is handled again at the next start.
            cancelled = True
            self._pending.discard(question.event_id)
            raise
        except Exception:
            self._answer_failed(question, decision, batch, arrived)
        finally:
            if not cancelled:
                self._checkpoint.release(batch)  # the reply holds it again until sent

    def _answer_failed(
        self, question: Question, decision: Decision, batch: int, arrived: float
    ) -> None:
        """The handler raised: the agent gets a short notice as the reply, so the question
        is answered once (not retried at every restart) and the position stays right."""
        log.exception("preparing the answer to %s failed; sending a notice", question.event_id)
        self._queue_reply(
            question.room_id,
            question.event_id,
            error_notice(question.event_id, question.sender, decision.thread_root),
            batch,
            subject=None,
            arrived=arrived,
            asker=question.sender,
            asked_at=question.asked_at,
        )

    def _deliver(
        self, answered: Answer, question: Question, decision: Decision, batch: int, arrived: float
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
        self._queue_reply(
            question.room_id,
            question.event_id,
            reply_content(reply, question.event_id, question.sender, decision.thread_root),
            batch,
            subject=reply.subject,
            arrived=arrived,
            asker=question.sender,
            asked_at=question.asked_at,
        )

    def _over_cap(self, room_id: str, event_id: str, sender: str, batch: int) -> bool:
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
        self._queue_reply(
            room_id,
            event_id,
            flood_notice(event_id, sender),
            batch,
            subject=None,
            arrived=time.monotonic(),
        )
        return True

    def _queue_reply(
        self,
        room_id: str,
        event_id: str,
        content: dict[str, Any],
        batch: int,
        *,
        subject: str | None,
        arrived: float,
        asker: str = "",
        asked_at: float | None = None,
    ) -> None:
        """``arrived``: ``time.monotonic()`` when the question came in, for the latency;
        ``asked_at``: when it was sent, from which ``behaviour.notify_after`` counts."""
        self._pending.add(event_id)
        self._checkpoint.hold(batch)

        def sent(reply_id: str) -> None:
            self._state.mark_answered(event_id, room_id)
            self._pending.discard(event_id)
            self._checkpoint.release(batch)
            if subject is not None:
                self._observer.record_reply(subject, max(0.0, time.monotonic() - arrived))
                self._observer.reply_sent(room_id, reply_id, asker, subject)

        def dropped() -> None:
            self._pending.discard(event_id)
            self._checkpoint.release(batch)

        self._sender.submit(
            Outgoing(
                room_id,
                content,
                txn_id=reply_txn_id(event_id),
                on_sent=sent,
                on_dropped=dropped,
                agent=asker,
                notify_at=None
                if asked_at is None
                else asked_at + self._config.behaviour.notify_after,
            )
        )

    # -- undecryptable ----------------------------------------------------------------

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent, batch: int) -> None:
        facts = self._facts(room)
        ts = int(event.server_timestamp or 0)
        if (
            event.sender == self._own
            or ts < facts.since_ts
            or event_age_ms(event.source, self._now_ms()) > self._policy.max_age_ms
            or self._seen(event.event_id)
            or event.event_id in self.undecryptable
        ):
            return
        self._observer.record_undecryptable()
        self._checkpoint.hold(batch)
        self._held_asked_at[event.event_id] = self._asked_at(event.source)
        self.undecryptable.hold(room.room_id, event, batch)

    async def _on_decrypted(self, room_id: str, event: Event, batch: int) -> None:
        asked_at = self._held_asked_at.pop(getattr(event, "event_id", ""), None)
        try:
            room = self._client.rooms.get(room_id)
            if room is not None and isinstance(event, RoomMessage):
                self._on_message(room, event, batch, asked_at)
        finally:
            self._checkpoint.release(batch)

    async def _on_gave_up(
        self, room_id: str, event: MegolmEvent, batch: int, withheld: str | None
    ) -> None:
        asked_at = self._held_asked_at.pop(event.event_id, None)
        room = self._client.rooms.get(room_id)
        if room is None or not is_direct(self._facts(room)):
            self._checkpoint.release(batch)  # in a group room it may not have been for us
            return
        self._queue_reply(
            room_id,
            event.event_id,
            undecryptable_notice(event.event_id, event.sender, withheld),
            batch,
            subject=None,
            arrived=time.monotonic(),
            asked_at=asked_at,
        )
        self._checkpoint.release(batch)

    # -- rooms ----------------------------------------------------------------------

    async def _on_invite(self, room_id: str, invite: Any) -> None:
        if room_id in self._invites_seen:
            return
        inviter = None
        for event in invite.invite_state:
            if (
                isinstance(event, InviteMemberEvent)
                and event.state_key == self._own
                and event.membership == "invite"
            ):
                inviter = event.sender
        self._invites_seen.add(room_id)
        ignored = inviter is not None and any(
            fnmatchcase(inviter, p) for p in self._config.behaviour.ignored_users
        )
        if ignored or not invite_allowed(inviter, self._config.invites, self._config.server_name):
            log.info("declining invitation to %s from %s (not allowed)", room_id, inviter)
            self._spawn(self._client.room_leave(room_id))
            return
        log.info("accepting invitation to %s from %s", room_id, inviter)
        self._spawn(self._join(room_id))

    async def _join(self, room_id: str) -> None:
        """Join, retrying what may pass (429, 5xx, network) until it does or the bot
        stops; a refusal (403 M_FORBIDDEN, 404...) is logged once and the invitation given
        up: retrying cannot change it."""
        backoff = Backoff(1.0, JOIN_BACKOFF_MAX)
        while True:
            wait = 0.0
            try:
                response = await self._client.join(room_id)
            except (ClientError, TimeoutError, OSError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if isinstance(response, JoinResponse):
                    log.info("joined %s", room_id)
                    return
                status = http_status(response)
                limited = response.status_code == "M_LIMIT_EXCEEDED" or status == 429
                if not limited and (status is None or status < 500):
                    log.warning("cannot join %s: %s; invitation given up", room_id, response)
                    return  # stays in _invites_seen: not tried again for this invitation
                if limited:
                    wait = (response.retry_after_ms or 0) / 1000
                reason = str(response)
            delay = backoff.at_least(wait)
            log.warning("joining %s failed (%s); retrying in %.1f s", room_id, reason, delay)
            await self._sleep(delay)

    async def _on_member(
        self, room: MatrixRoom, event: RoomMemberEvent, batch: int, initial: bool
    ) -> None:
        if event.state_key != self._own:
            return
        prev = (event.prev_content or {}).get("membership")
        if event.membership != "join" or prev == "join" or initial:
            return
        ts = int(event.server_timestamp or 0)
        self._state.set_room_since(room.room_id, ts)
        too_old = event_age_ms(event.source, self._now_ms()) > self._policy.max_age_ms
        if not self._config.behaviour.greet_on_join or too_old or self._state.greeted(room.room_id):
            return
        self._state.mark_greeted(room.room_id)
        content = greeting_content(self._greeting())
        self._checkpoint.hold(batch)
        release = lambda *_: self._checkpoint.release(batch)  # noqa: E731
        self._sender.submit(Outgoing(room.room_id, content, on_sent=release, on_dropped=release))

    async def _leave_if_alone(self, room: MatrixRoom) -> None:
        if not self._config.behaviour.leave_when_alone:
            return
        others = [u for u in room.users if u != self._own]
        if others:
            return
        log.info("alone in %s: leaving", room.room_id)
        await self._client.room_leave(room.room_id)
        await self._client.room_forget(room.room_id)
        self._state.forget_room(room.room_id)
        self._conversations.forget_room(room.room_id)

    # -- background work ------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(guarded("background request", work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.undecryptable.close()
