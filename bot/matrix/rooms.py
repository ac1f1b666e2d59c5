"""The bot's rooms: invitations, joins, the greeting, leaving when alone.

An invitation is accepted from the users the invitation rules allow (``bot.matrix.invites``)
and declined otherwise; the join is retried while the homeserver cannot take it (the
shared ``Retry``) and given up on a refusal. After its own join the bot greets once, in
the same outgoing queue as the answers, holding the sync position until the greeting
is sent. A room where the bot is left alone is left and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase
from typing import Any

from nio import AsyncClient, InviteMemberEvent, JoinResponse, MatrixRoom, RoomMemberEvent

from bot.config import Config
from bot.core import Reply
from bot.matrix.backoff import Backoff
from bot.matrix.conversations import Conversations
from bot.matrix.filters import event_age_ms
from bot.matrix.invites import invite_allowed
from bot.matrix.replies import greeting_content
from bot.matrix.retry import Retry
from bot.matrix.sender import Outgoing, Sender
from bot.matrix.state import Place, StateStore

log = logging.getLogger(__name__)

JOIN_BACKOFF_MAX = 60.0  # seconds between two join attempts, at most


class Rooms:
    def __init__(
        self,
        client: AsyncClient,
        config: Config,
        *,
        state: StateStore,
        sender: Sender,
        conversations: Conversations,
        greeting: Callable[[], Reply],
        spawn: Callable[[Awaitable[Any]], None],
        now_ms: Callable[[], int],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._state = state
        self._sender = sender
        self._conversations = conversations
        self._greeting = greeting
        self._spawn = spawn
        self._now_ms = now_ms
        self._sleep = sleep
        self._invites_seen: set[str] = set()

    @property
    def _own(self) -> str:
        return str(self._client.user_id)

    def allowed(self, user_id: str | None) -> bool:
        """Whether the invitation rules (and ``ignored_users``) accept ``user_id``."""
        if user_id is not None and any(
            fnmatchcase(user_id, p) for p in self._config.behaviour.ignored_users
        ):
            return False
        return invite_allowed(user_id, self._config.invites, self._config.server_name)

    async def on_invite(self, room_id: str, invite: Any) -> None:
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
        if not self.allowed(inviter):
            log.info("declining invitation to %s from %s (not allowed)", room_id, inviter)
            self._spawn(self._client.room_leave(room_id))
            return
        log.info("accepting invitation to %s from %s", room_id, inviter)
        self._spawn(self._join(room_id))

    async def _join(self, room_id: str) -> None:
        """Join, retrying what may pass until it does or the bot stops; a refusal
        (M_FORBIDDEN, M_NOT_FOUND...) is logged once and the invitation given up."""
        retry = Retry(
            Backoff(1.0, JOIN_BACKOFF_MAX), self._sleep, self._config.matrix.max_retry_after
        )
        response = await retry(lambda: self._client.join(room_id), f"joining {room_id}")
        if isinstance(response, JoinResponse):
            log.info("joined %s", room_id)
        else:  # stays in _invites_seen: not tried again for this invitation
            log.warning("cannot join %s: %s; invitation given up", room_id, response)

    def on_member(
        self, room: MatrixRoom, event: RoomMemberEvent, place: Callable[[], Place], initial: bool
    ) -> None:
        """Our own join: from now on the room's messages count; greet once."""
        if event.state_key != self._own:
            return
        prev = (event.prev_content or {}).get("membership")
        if event.membership != "join" or prev == "join" or initial:
            return
        self._state.set_room_since(room.room_id, int(event.server_timestamp or 0))
        max_age_ms = self._config.behaviour.catch_up_max_age * 1000
        too_old = event_age_ms(event.source, self._now_ms()) > max_age_ms
        if not self._config.behaviour.greet_on_join or too_old or self._state.greeted(room.room_id):
            return
        self._state.mark_greeted(room.room_id)
        content = greeting_content(self._greeting())
        self._sender.submit(Outgoing(room.room_id, content, place=place()))

    async def leave_if_alone(self, room: MatrixRoom) -> None:
        if not self._config.behaviour.leave_when_alone:
            return
        if any(u != self._own for u in room.users):
            return
        log.info("alone in %s: leaving", room.room_id)
        await self._client.room_leave(room.room_id)
        await self._client.room_forget(room.room_id)
        self.forget(room.room_id)

    def forget(self, room_id: str) -> None:
        self._state.forget_room(room_id)
        self._conversations.forget_room(room_id)
        self._invites_seen.discard(room_id)
