"""The one way out: every message the bot sends leaves through this queue, one at a time.

Why one queue: nio retries a 429 by sleeping inside the request, so replies sent from many
tasks retry together and storm the homeserver (see the notes). Here a single worker sends,
and after a 429 it paces itself at the interval the homeserver asked for until the backlog
is gone, so a burst under Synapse's default limits meets about one 429, not one per reply.

Fairness: the agents whose questions are answered take turns (round robin), whatever
room they asked in, so one agent flooding from several direct chats or a shared room does
not delay the others; a room's own messages (a greeting, a flood notice) take a turn of
their own. ``queued_for`` tells how many replies to one agent are waiting (the router
caps it: ``behaviour.max_queued_per_agent``).

Failures: network errors, 5xx, 408, 429 and any answer without a Matrix error code (a
proxy's page) are retried with backoff, for at most ``GIVE_UP_AFTER``; ``retry_after`` is
honoured up to ``max_retry_after``. A message too large for the homeserver is cut
(``bot.matrix.replies.fit``) and tried again. Only a real refusal (``M_FORBIDDEN``: not in
the room), a message still too large once cut, or the time bound gives a message up:
logged and reported to ``on_gave_up`` (metrics).

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
from bot.matrix.errors import http_status, is_matrix_error, retry_wait
from bot.matrix.replies import MIN_CUT, fit, notifying
from bot.matrix.state import Place

log = logging.getLogger(__name__)

PACING_MARGIN = 1.02  # wait a little longer than the homeserver asked
PACING_RESET_IDLE = 60.0  # seconds without sending after which the pacing is dropped
MAX_PACING_INTERVAL = 30.0
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 60.0
GIVE_UP_AFTER = 30 * 60.0  # seconds of failures after which one message is given up
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
        max_retry_after: float = 60.0,
        on_gave_up: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._trust = trust
        self._crypto_lock = crypto_lock
        self._max_retry_after = max_retry_after
        self._on_gave_up = on_gave_up
        self._sleep = sleep
        self._clock = clock
        # turn (an agent, or a room's own messages) -> its messages in order; round robin.
        self._turns: OrderedDict[str, deque[Outgoing]] = OrderedDict()
        self._per_agent: Counter[str] = Counter()  # queued or being sent, by agent
        self._per_room: Counter[str] = Counter()  # queued, by room (typing notifications)
        self._progress = self._clock()  # last send, or when the queue was last empty
        self._queued = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self._interval = 0.0
        self._last_send = -float("inf")
        self._last_accepted = -float("inf")  # when the last send the homeserver took began
        self._typing: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.stats = SenderStats()

    # -- producers ------------------------------------------------------------------

    def submit(self, item: Outgoing) -> None:
        if not self._queued and not self._in_flight:
            self._progress = self._clock()
        turn = item.agent or f"room {item.room_id}"
        self._turns.setdefault(turn, deque()).append(item)
        self._per_room[item.room_id] += 1
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

    def stalled_since(self) -> float | None:
        """While messages wait: the clock time of the last progress (a message sent, or
        the queue starting to fill); None when nothing waits. For /healthz: a bot whose
        replies no longer leave is not alive, even if it syncs."""
        if not self._queued and not self._in_flight:
            return None
        return self._progress

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
                    self._give_up(item, "bug", "unexpected error")
                finally:
                    self._in_flight -= 1
                    if item.agent:
                        self._per_agent[item.agent] -= 1
                        if self._per_agent[item.agent] <= 0:
                            del self._per_agent[item.agent]
                if item.room_id in self._typing and not self._per_room.get(item.room_id):
                    self._set_typing(item.room_id, False)
        finally:
            for task in list(self._background):
                task.cancel()

    def _next(self) -> Outgoing | None:
        if not self._turns:
            return None
        turn, queue = next(iter(self._turns.items()))
        item = queue.popleft()
        if queue:
            self._turns.move_to_end(turn)  # the others first
        else:
            del self._turns[turn]
        self._queued -= 1
        self._per_room[item.room_id] -= 1
        if self._per_room[item.room_id] <= 0:
            del self._per_room[item.room_id]
        return item

    async def _deliver(self, item: Outgoing) -> None:
        backoff = BACKOFF_INITIAL
        began = self._clock()
        blacklisted = False
        content = fit(item.content)
        cut = content is not item.content
        while True:
            await self._pace()
            try:
                async with self._crypto_lock:
                    self._last_send = self._clock()
                    late = item.notify_at is not None and self._last_send >= item.notify_at
                    response = await self._client.room_send(
                        item.room_id,
                        item.event_type,
                        notifying(content) if late else content,
                        tx_id=item.txn_id,
                        ignore_unverified_devices=self._trust is TrustPolicy.ACCEPT_UNVERIFIED,
                    )
            except OlmUnverifiedDeviceError as exc:
                if blacklisted:  # still unverified devices (e.g. one just appeared)
                    self._give_up(item, "unverified", f"unverified device {exc.device.id}")
                    return
                # verified_only: withhold the room key from unverified devices, retry once.
                blacklisted = True
                async with self._crypto_lock:
                    blacklist_unverified(self._client, item.room_id)
                continue
            except LocalProtocolError as exc:
                self._give_up(item, "refused", str(exc))
                return
            except (ClientError, TimeoutError, OSError) as exc:
                response = None
                reason = f"{type(exc).__name__}: {exc}"
            if isinstance(response, RoomSendResponse):
                self._last_accepted = self._last_send
                self.stats.sent += 1
                self._progress = self._clock()
                _notify("on_sent", item.on_sent, response.event_id)
                if item.place is not None:
                    item.place.release()
                return
            if isinstance(response, ErrorResponse):
                status = http_status(response)
                if response.status_code == "M_TOO_LARGE" or (
                    status == 413 and is_matrix_error(response)
                ):
                    if cut and len(str(content.get("body", ""))) < MIN_CUT:
                        self._give_up(item, "too_large", str(response))
                        return
                    content, cut = fit(content, fraction=0.5), True  # cut harder, once more
                    log.warning("message to %s too large for the homeserver: cut", item.room_id)
                    continue
                wait = retry_wait(response, self._max_retry_after)
                if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
                    self.stats.rate_limited += 1
                    wait = wait or 5.0
                    # Already paced: the interval was too short by ``wait``. And the
                    # homeserver decided when this send began: the next one it takes is
                    # ``wait`` after that, so the rate it allows is one message per
                    # (since the last accepted + wait). Synapse pauses 0.5 s before its 429,
                    # so ``wait`` alone is often near 0 and would never converge.
                    paced = self._interval + wait if self._interval else wait
                    since_accepted = self._last_send - self._last_accepted
                    if since_accepted <= MAX_PACING_INTERVAL:
                        paced = max(paced, since_accepted + wait)
                    self._interval = min(paced, MAX_PACING_INTERVAL)
                    log.info(
                        "rate limited: waiting %.1f s, then one message every %.1f s",
                        wait,
                        self._interval * PACING_MARGIN,
                    )
                    await self._sleep(wait * PACING_MARGIN)
                    continue
                if response.status_code == "M_FORBIDDEN":  # not in the room, not allowed
                    self._give_up(item, "forbidden", str(response))
                    return
                reason = str(response)
            if self._clock() - began >= GIVE_UP_AFTER:
                self._give_up(item, "failures", f"failing for {GIVE_UP_AFTER:.0f} s: {reason}")
                return
            self.stats.retries += 1
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

    def _give_up(self, item: Outgoing, kind: str, reason: str) -> None:
        log.warning("gave up a message to %s (%s): %s", item.room_id, kind, reason)
        if self._on_gave_up is not None:
            try:
                self._on_gave_up(kind)
            except Exception:
                log.exception("recording a message given up failed")
        self._drop(item)

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
