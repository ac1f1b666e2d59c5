"""Waiting out a homeserver that cannot answer yet: one policy for every request that must
eventually go through (login at start, joins).

Network errors, timeouts, 5xx, 408, 429, and any answer without a Matrix error code (an
HTML page from a proxy or a load balancer, whatever its status) are retried with
exponential backoff and jitter; ``retry_after_ms`` is honoured up to ``max_retry_after``
(a homeserver or proxy asking for an hour must not freeze the bot). An answer with a
Matrix error code (``M_FORBIDDEN``, ``M_UNKNOWN_TOKEN``...) is a refusal: it is returned
for the caller to explain.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import ClientError
from nio import ErrorResponse

from bot.matrix.backoff import Backoff
from bot.matrix.errors import retry_wait

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_RETRY_AFTER = 60.0


class Retry:
    """Calls a request until the homeserver answers it (module docstring), for as long as
    it takes: the caller stops the wait by cancelling."""

    def __init__(
        self,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]],
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        self._backoff = backoff
        self._sleep = sleep
        self._max_retry_after = max_retry_after

    async def __call__(self, call: Callable[[], Awaitable[T]], what: str) -> T | ErrorResponse:
        while True:
            try:
                response = await call()
            except (ClientError, TimeoutError, OSError) as exc:
                delay = self._backoff.next()
                reason = f"homeserver unreachable ({type(exc).__name__}: {exc})"
            else:
                if not isinstance(response, ErrorResponse):
                    return response
                wait = retry_wait(response, self._max_retry_after)
                if wait is None:
                    return response  # refused: the caller says why
                delay = self._backoff.at_least(wait)
                reason = str(response)
            log.warning("%s: %s; retrying in %.1f s", what, reason, delay)
            await self._sleep(delay)
