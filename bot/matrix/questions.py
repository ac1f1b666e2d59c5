"""What the transport hands to the answering seam: one question, and what answers it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.core import Context, Reply

log = logging.getLogger(__name__)


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
# of it for slow work (an admin reload): it is then answered from a task, without
# holding up the sync loop. The default is the pure core; ``bot.matrix.ops`` wraps it.
Responder = Callable[[Question, Context | None], Answer | Awaitable[Answer]]


async def guarded(what: str, work: Awaitable[Any]) -> None:
    """Await ``work``; log any exception instead of letting it stop the caller (in nio an
    exception in a callback ends the sync loop)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("handling %s failed; going on", what)
