"""Routing what a sync brings to the rooms (``rooms``) and the messages (``messages``).

The supervisor hands each sync response to ``Router.handle_sync`` after nio has updated
its state and decrypted what it could. Every event is handled under ``guarded``: an
exception is logged and the next event goes on (in nio an exception in a callback ends
the sync loop). Work that outlives the sync (a reply in the sender queue, a message
waiting for its room key) holds a ``Place`` in its batch, so the saved sync position
never skips a question (``bot.matrix.messages``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from nio import (
    AsyncClient,
    Event,
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
from bot.core import Reply
from bot.matrix.conversations import Conversations
from bot.matrix.crypto import UndecryptableMessages, Withheld
from bot.matrix.filters import RoomFacts
from bot.matrix.mentions import name_variants
from bot.matrix.messages import Messages
from bot.matrix.observer import NullObserver, Observer
from bot.matrix.questions import Responder, guarded
from bot.matrix.rooms import Rooms
from bot.matrix.sender import Sender
from bot.matrix.state import Checkpoint, StateStore

log = logging.getLogger(__name__)

GAP_PAGE = 100
GAP_MAX_EVENTS = 2000  # a gap larger than this (after a very long downtime) is cut


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
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._state = state
        self._checkpoint = checkpoint
        self._observer = observer or NullObserver()
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self.display_name: str | None = None
        self.rooms = Rooms(
            client,
            config,
            state=state,
            sender=sender,
            conversations=conversations,
            greeting=greeting,
            spawn=self._spawn,
            now_ms=self._now_ms,
            sleep=sleep,
        )
        self.messages = Messages(
            client,
            config,
            state=state,
            checkpoint=checkpoint,
            sender=sender,
            conversations=conversations,
            respond=respond,
            observer=self._observer,
            facts=self._facts,
            allowed=self.rooms.allowed,
            spawn=self._spawn,
            now_ms=self._now_ms,
        )

    @property
    def undecryptable(self) -> UndecryptableMessages:
        return self.messages.undecryptable

    @property
    def _own(self) -> str:
        return str(self._client.user_id)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _facts(self, room: MatrixRoom) -> RoomFacts:
        names = name_variants(self._own, (room.user_name(self._own), self.display_name))
        since = self._state.room_since(room.room_id)
        return RoomFacts(
            room_id=room.room_id,
            member_count=room.joined_count,
            own_user_id=self._own,
            own_names=names,
            since_ts=since if since is not None else self._now_ms(),
        )

    # -- one sync response ------------------------------------------------------------

    async def handle_sync(
        self, response: SyncResponse, batch: int, *, initial: bool, since: str | None
    ) -> None:
        """Handle a sync response. ``initial``: the first sync ever (no saved position):
        everything in it is history. ``since``: the token the sync was made from."""
        for event in response.to_device_events:
            notice = Withheld.parse(event)
            if notice is not None:
                self.messages.on_withheld(notice)
        for room_id, invite in response.rooms.invite.items():
            await guarded(f"invitation to {room_id}", self.rooms.on_invite(room_id, invite))
        for room_id, info in response.rooms.join.items():
            await guarded(
                f"room {room_id}", self._on_joined_room(room_id, info, batch, initial, since)
            )
        for room_id in response.rooms.leave:
            self.rooms.forget(room_id)
        if self.messages.skipped_old:
            log.info(
                "%d message(s) not answered: sent more than behaviour.catch_up_max_age "
                "(%.0f s) ago, by the homeserver's clock",
                self.messages.skipped_old,
                self.messages.policy.max_age_ms / 1000,
            )
            self.messages.skipped_old = 0
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
            await self.rooms.leave_if_alone(room)

    async def _fetch_gap(self, room_id: str, prev_batch: str | None, since: str) -> list[Event]:
        """The events a ``limited`` timeline left out, oldest first, back to ``since`` or to
        the catch-up age limit."""
        cutoff = self._now_ms() - self.messages.policy.max_age_ms
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
            self.rooms.on_member(room, event, lambda: self._checkpoint.place(batch), initial)
        elif isinstance(event, MegolmEvent):
            self.messages.on_undecryptable(room, event, batch)
        elif isinstance(event, RoomMessage):
            self.messages.on_message(room, event, batch)
        elif isinstance(event, ReactionEvent):
            if event.sender != self._own:
                self._observer.reaction(
                    room.room_id, event.sender, event.reacts_to, event.key, event.event_id
                )
        elif isinstance(event, RedactionEvent):
            self._observer.redaction(room.room_id, event.redacts)

    # -- background work ------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any] | Awaitable[Any]) -> None:
        task = asyncio.create_task(guarded("background request", work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.undecryptable.close()
