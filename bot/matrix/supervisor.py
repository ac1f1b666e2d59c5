"""The supervised sync loop: the one owner of syncing.

Network errors, timeouts and 5xx: exponential backoff with jitter (``sync.backoff_*``).
``M_LIMIT_EXCEEDED``: wait ``retry_after_ms``. Refused credentials: ``FatalAuthError``
(the bot stops with a message). Anything else raised while handling a response is
logged and retried, never fatal.

The position is ours, not nio's: we start from the saved token (``full_state`` on that
first sync, since nio does not persist room state) and each response's token is saved
by the ``Checkpoint`` once the replies it caused are sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import ClientError
from nio import AsyncClient, ErrorResponse, SyncResponse

from bot.config import SyncConfig
from bot.matrix.backoff import Backoff
from bot.matrix.callbacks import Router
from bot.matrix.errors import FatalAuthError, auth_message, classify
from bot.matrix.observer import NullObserver, Observer
from bot.matrix.state import Checkpoint

log = logging.getLogger(__name__)


def sync_filter(timeline_limit: int) -> dict[str, Any]:
    """A larger timeline than nio's default 10, no presence, no typing or receipts."""
    return {
        "presence": {"not_types": ["*"]},
        "room": {
            "timeline": {"limit": timeline_limit},
            "ephemeral": {"not_types": ["*"]},
            "state": {"lazy_load_members": False},
        },
    }


class Supervisor:
    def __init__(
        self,
        client: AsyncClient,
        settings: SyncConfig,
        *,
        router: Router,
        checkpoint: Checkpoint,
        crypto_lock: asyncio.Lock,
        start_token: str | None,
        observer: Observer | None = None,
        log_in_again: Callable[[], Awaitable[None]] | None = None,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._settings = settings
        self._router = router
        self._checkpoint = checkpoint
        self._crypto_lock = crypto_lock
        self._token = start_token
        self._observer = observer or NullObserver()
        self._sleep = sleep
        self._log_in_again = log_in_again
        self._logged_in_again = False  # once per start: a second refusal is fatal
        self._filter = sync_filter(settings.timeline_limit)
        self._backoff = Backoff(settings.backoff_initial, settings.backoff_max)
        self._stopping = False
        self._poll: asyncio.Task[Any] | None = None
        self._ready = False
        self.to_device_events = 0  # received so far: the crypto store moved on
        self.errors = 0

    def stop(self) -> None:
        """Stop after the response being handled, if any; abandon a pending long poll."""
        self._stopping = True
        if self._poll is not None:
            self._poll.cancel()

    async def run(self) -> None:
        initial = self._token is None
        first = True
        while not self._stopping:
            try:
                await self._upkeep()
                self._poll = asyncio.create_task(
                    self._client.sync(
                        timeout=0 if first else int(self._settings.timeout * 1000),
                        sync_filter=self._filter,
                        since=self._token,
                        full_state=True if first and not initial else None,
                    )
                )
                try:
                    response = await self._poll
                finally:
                    self._poll = None
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except (ClientError, TimeoutError, OSError) as exc:
                kind = "timeout" if isinstance(exc, TimeoutError) else "network"
                await self._back_off(kind, f"{type(exc).__name__}: {exc}")
                continue
            except Exception:
                log.exception("sync failed unexpectedly")
                await self._back_off("other", "unexpected error")
                continue

            if isinstance(response, ErrorResponse):
                kind = classify(response)
                if kind == "auth":
                    self._observer.record_sync_error("auth")
                    if self._log_in_again is None or self._logged_in_again:
                        raise FatalAuthError(auth_message(response))
                    log.warning("sync refused the token (%s): logging in again", response)
                    self._logged_in_again = True
                    await self._log_in_again()  # FatalAuthError if that fails too
                    continue
                if kind == "rate_limited" and response.retry_after_ms:
                    self._observer.record_sync_error(kind)
                    wait = min(response.retry_after_ms / 1000, self._settings.backoff_max)
                    log.warning("sync rate limited: waiting %.1f s", wait)
                    await self._pause(wait)
                    continue
                await self._back_off(kind, str(response))
                continue
            if not isinstance(response, SyncResponse):
                await self._back_off("other", repr(response))
                continue

            self._logged_in_again = False
            if self.errors:
                log.info("sync recovered")
            self._backoff.reset()
            self.errors = 0
            self._observer.record_sync_ok()
            self.to_device_events += len(response.to_device_events)
            batch = self._checkpoint.open(response.next_batch)
            try:
                await self._router.handle_sync(response, batch, initial=initial, since=self._token)
            except Exception:  # Router guards each event; this is the last net
                log.exception("handling a sync response failed")
            finally:
                self._checkpoint.seal(batch)
            self._token = response.next_batch
            initial = first = False
            if not self._ready:
                log.info("ready: first sync handled")
                self._ready = True

    async def _back_off(self, kind: str, reason: str) -> None:
        self.errors += 1
        self._observer.record_sync_error(kind)
        delay = self._backoff.next()
        log.warning("sync failed (%s: %s); retrying in %.1f s", kind, reason, delay)
        await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless ``stop()`` comes first."""
        if self._stopping:
            return
        self._poll = asyncio.create_task(self._sleep(seconds))
        try:
            await self._poll
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            self._poll = None

    async def _upkeep(self) -> None:
        """What nio's sync_forever does between syncs: keys and to-device messages."""
        client = self._client
        async with self._crypto_lock:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
