"""The one way out: every message the bot sends leaves through this queue, one at a time.

Why one queue: nio retries a 429 by sleeping inside the request, so replies sent from many
tasks retry together and storm the homeserver (see the notes). Here a single worker sends,
and after a 429 it paces itself at the interval the homeserver asked for until the backlog
is gone, so a burst under Synapse's default limits meets about one 429, not one per reply.

Fairness: rooms take turns (round robin, so one busy room does not hold the others back)
and, inside a room, the agents whose questions are answered take turns too, so one agent
flooding a shared room does not delay the others. ``queued_for`` tells how many replies to
one agent are waiting (the router caps it: ``behaviour.max_queued_per_agent``).

Typing notifications are sent only for replies that cannot leave at once (backlog or
pacing): an immediate reply needs none.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    ErrorResponse,
    LocalProtocolError,
    OlmUnverifiedDeviceError,
    RoomSendResponse,
)

from bot.config import TrustPolicy
from bot.matrix.crypto import blacklist_unverified
from bot.matrix.replies import notifying
from bot.matrix.state import Place

log = logging.getLogger(__name__)

PACING_MARGIN = 1.02  # wait a little longer than the homeserver asked
PACING_RESET_IDLE = 60.0  # seconds without sending after which the pacing is dropped
MAX_PACING_INTERVAL = 30.0
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 60.0
MAX_ATTEMPTS = 50  # network or 5xx failures of one message before it is dropped
TYPING_TIMEOUT_MS = 30_000


def reply_txn_id(event_id: str) -> str:
    """A transaction id derived from the question: a resend after a crash is deduplicated
    by the homeserver instead of posting a second answer."""
    return "tchapbot-" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


@dataclass
class Outgoing:
    room_id: str
    content: dict[str, Any]
    event_type: str = "m.room.message"
    txn_id: str | None = None
    on_sent: Callable[[str], None] | None = None  # with the event id of the sent message
    on_dropped: Callable[[], None] | None = None  # given up (room left, forbidden...)
    # The question's place in the sync position: released once the message is sent or
    # given up, after the callbacks (never when the bot stops with it still queued).
    place: Place | None = None
    agent: str = ""  # whose question this answers ("": the room's, e.g. a greeting)
    # From this time.monotonic() on, the reply is late: sent so that it notifies the agent
    # (bot.matrix.replies.notifying). None: never.
    notify_at: float | None = None


def _notify(what: str, callback: Callable[..., None] | None, *args: str) -> None:
    """Run a producer's callback; its failure is logged, never taken for a failed send
    (after ``on_sent`` the item must not be dropped: its batch was already released)."""
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("the %s callback of a message failed", what)


@dataclass
class SenderStats:
    sent: int = 0
    rate_limited: int = 0  # 429 / M_LIMIT_EXCEEDED responses met
    retries: int = 0  # network or 5xx failures retried
    dropped: int = 0


class Sender:
    def __init__(
        self,
        client: AsyncClient,
        *,
        trust: TrustPolicy,
        crypto_lock: asyncio.Lock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._trust = trust
        self._crypto_lock = crypto_lock
        self._sleep = sleep
        self._clock = clock
        # room -> agent -> that agent's replies in order; both levels in round robin.
        self._rooms: OrderedDict[str, OrderedDict[str, deque[Outgoing]]] = OrderedDict()
        self._per_agent: Counter[str] = Counter()  # queued or being sent, by agent
        self._queued = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self._interval = 0.0
        self._last_send = -float("inf")
        self._typing: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.stats = SenderStats()

    # -- producers ------------------------------------------------------------------

    def submit(self, item: Outgoing) -> None:
        agents = self._rooms.setdefault(item.room_id, OrderedDict())
        agents.setdefault(item.agent, deque()).append(item)
        self._queued += 1
        if item.agent:
            self._per_agent[item.agent] += 1
        self._idle.clear()
        self._wakeup.set()
        if self._in_flight or self._interval or self.queued > 1:
            self._set_typing(item.room_id, True)

    @property
    def queued(self) -> int:
        """Replies waiting (not counting the one being sent)."""
        return self._queued

    def queued_for(self, agent: str) -> int:
        """Replies to ``agent``'s questions waiting or being sent."""
        return self._per_agent.get(agent, 0)

    async def drain(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until everything submitted is sent or dropped; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False

    # -- the worker -----------------------------------------------------------------

    async def run(self) -> None:
        """The worker loop; its owner starts it in a task and cancels it to stop."""
        try:
            while True:
                item = self._next()
                if item is None:
                    if not self._in_flight:
                        self._idle.set()
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                self._in_flight += 1
                try:
                    await self._deliver(item)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("sending to %s failed unexpectedly; dropped", item.room_id)
                    self._drop(item)
                finally:
                    self._in_flight -= 1
                    if item.agent:
                        self._per_agent[item.agent] -= 1
                        if self._per_agent[item.agent] <= 0:
                            del self._per_agent[item.agent]
                if item.room_id in self._typing and not self._rooms.get(item.room_id):
                    self._set_typing(item.room_id, False)
        finally:
            for task in list(self._background):
                task.cancel()

    def _next(self) -> Outgoing | None:
        while self._rooms:
            room_id, agents = next(iter(self._rooms.items()))
            if not agents:
                del self._rooms[room_id]
                continue
            agent, queue = next(iter(agents.items()))
            item = queue.popleft()
            self._queued -= 1
            if queue:
                agents.move_to_end(agent)  # agents of one room in turn
            else:
                del agents[agent]
            if agents:
                self._rooms.move_to_end(room_id)  # rooms in turn
            else:
                del self._rooms[room_id]
            return item
        return None

    async def _deliver(self, item: Outgoing) -> None:
        backoff = BACKOFF_INITIAL
        failures = 0
        blacklisted = False
        while True:
            await self._pace()
            try:
                async with self._crypto_lock:
                    self._last_send = self._clock()
                    late = item.notify_at is not None and self._last_send >= item.notify_at
                    response = await self._client.room_send(
                        item.room_id,
                        item.event_type,
                        notifying(item.content) if late else item.content,
                        tx_id=item.txn_id,
                        ignore_unverified_devices=self._trust is TrustPolicy.ACCEPT_UNVERIFIED,
                    )
            except OlmUnverifiedDeviceError as exc:
                if blacklisted:  # still unverified devices (e.g. one just appeared)
                    log.warning(
                        "cannot send to %s: unverified device %s after blacklisting; dropped",
                        item.room_id,
                        exc.device.id,
                    )
                    self._drop(item)
                    return
                # verified_only: withhold the room key from unverified devices, retry once.
                blacklisted = True
                async with self._crypto_lock:
                    blacklist_unverified(self._client, item.room_id)
                continue
            except LocalProtocolError as exc:
                log.warning("cannot send to %s: %s; dropped", item.room_id, exc)
                self._drop(item)
                return
            except (ClientError, TimeoutError, OSError) as exc:
                response = None
                reason = f"{type(exc).__name__}: {exc}"
            if isinstance(response, RoomSendResponse):
                self.stats.sent += 1
                _notify("on_sent", item.on_sent, response.event_id)
                if item.place is not None:
                    item.place.release()
                return
            if isinstance(response, ErrorResponse):
                status = getattr(response.transport_response, "status", None)
                if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
                    self.stats.rate_limited += 1
                    wait = (response.retry_after_ms or 5000) / 1000
                    # Already paced: the interval was too short by ``wait``.
                    paced = self._interval + wait if self._interval else wait
                    self._interval = min(paced, MAX_PACING_INTERVAL)
                    log.info(
                        "rate limited: waiting %.1f s, then one message every %.1f s",
                        wait,
                        self._interval * PACING_MARGIN,
                    )
                    await self._sleep(wait * PACING_MARGIN)
                    continue
                if (status is not None and status < 500) or (
                    status is None and response.status_code
                ):
                    log.warning(
                        "homeserver refused a message to %s: %s; dropped", item.room_id, response
                    )
                    self._drop(item)
                    return
                reason = str(response)
            failures += 1
            self.stats.retries += 1
            if failures >= MAX_ATTEMPTS:
                log.error("giving up a message to %s after %d failures", item.room_id, failures)
                self._drop(item)
                return
            delay = backoff * random.uniform(0.5, 1.0)
            log.warning(
                "sending to %s failed (%s); retrying in %.1f s", item.room_id, reason, delay
            )
            await self._sleep(delay)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _pace(self) -> None:
        if not self._interval:
            return
        since = self._clock() - self._last_send
        if since > PACING_RESET_IDLE:
            self._interval = 0.0
            return
        wait = self._interval * PACING_MARGIN - since
        if wait > 0:
            await self._sleep(wait)

    def _drop(self, item: Outgoing) -> None:
        self.stats.dropped += 1
        _notify("on_dropped", item.on_dropped)
        if item.place is not None:
            item.place.release()

    # -- typing -------------------------------------------------------------------------

    def _set_typing(self, room_id: str, typing: bool) -> None:
        if typing == (room_id in self._typing):
            return
        if typing:
            self._typing.add(room_id)
        else:
            self._typing.discard(room_id)
        task = asyncio.create_task(self._typing_request(room_id, typing))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _typing_request(self, room_id: str, typing: bool) -> None:
        try:
            await self._client.room_typing(room_id, typing, timeout=TYPING_TIMEOUT_MS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # typing is cosmetic: never let it fail anything
            log.debug("typing notification in %s failed: %s", room_id, exc)
