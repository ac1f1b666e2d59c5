"""Conversation context per (room, agent), forgotten after an idle time.

The core's ``Context`` is what makes "2" pick an option or "et sur iPhone ?" refine the
previous answer; it belongs to one agent in one room.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core import Context

MAX_CONVERSATIONS = 10_000  # memory bound: the oldest are dropped beyond this


class Conversations:
    def __init__(self, idle_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self._idle = idle_seconds
        self._clock = clock
        self._contexts: dict[tuple[str, str], tuple[float, Context]] = {}

    def get(self, room_id: str, user_id: str) -> Context | None:
        key = (room_id, user_id)
        found = self._contexts.get(key)
        if found is None:
            return None
        at, context = found
        if self._clock() - at > self._idle:
            del self._contexts[key]
            return None
        return context

    def put(self, room_id: str, user_id: str, context: Context) -> None:
        key = (room_id, user_id)
        self._contexts.pop(key, None)  # re-insert: dict order is recency order
        self._contexts[key] = (self._clock(), context)
        if len(self._contexts) > MAX_CONVERSATIONS:
            self._expire()
            while len(self._contexts) > MAX_CONVERSATIONS:
                del self._contexts[next(iter(self._contexts))]

    def forget_room(self, room_id: str) -> None:
        for key in [k for k in self._contexts if k[0] == room_id]:
            del self._contexts[key]

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (at, _) in self._contexts.items() if now - at > self._idle]:
            del self._contexts[key]

    def __len__(self) -> int:
        return len(self._contexts)
