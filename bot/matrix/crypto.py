"""End-to-end encryption: the nio client's crypto settings, the trust policy, and the
messages that arrive before their room key.

nio keeps the Olm account and Megolm sessions in an SQLite store under the data
directory, one file per (user, device), encrypted with the pickle key from the config
(never nio's default key).

An undecryptable message (``MegolmEvent``) is held: the bot asks for the key (its own
devices, as nio does, and the sender's device) from background tasks, so the sync loop
never waits on those requests; answers once the key arrives; after
``undecryptable_notice_after`` it gives up and, in a direct chat only (in a group room it
cannot know the message was for it), posts one short notice. One task owns the retries
(``run``): every ``RETRY_PERIOD``, and at once when a sync may have brought keys
(``poke``).

A sender's client may say it will not send the key (``m.room_key.withheld``: the bot's
device is not trusted, blocked, joined too late, or no encrypted channel could be made).
That settles the message at once: no point waiting, and the notice can say what the
agent can do. nio does not know this event (an ``UnknownToDeviceEvent``); it is read here,
and kept a while, since it may come before the message it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    Event,
    LocalProtocolError,
    MegolmEvent,
    UnknownToDeviceEvent,
)
from nio.store import DefaultStore
from peewee import PeeweeException

from bot.config import Config
from bot.matrix.state import Place

log = logging.getLogger(__name__)

RETRY_PERIOD = 1.0  # seconds between two checks of the held messages
WITHHELD_TYPES = ("m.room_key.withheld", "org.matrix.room_key.withheld")
WITHHELD_KEPT = 1000  # withheld notices remembered for messages not seen yet


def client_config(config: Config) -> AsyncClientConfig:
    """nio settings: encryption on, our pickle key, and no retry hidden inside requests
    (429 and network errors come back to the supervisor and the sender, which decide)."""
    return AsyncClientConfig(
        store=DefaultStore,
        encryption_enabled=True,
        pickle_key=config.secrets.pickle_key,
        store_sync_tokens=False,  # the bot saves its position itself, after handling
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=config.matrix.request_timeout,
    )


def store_dir(config: Config) -> Path:
    return config.data_dir / "crypto"


# What loading the store raises when the pickle key is not the one it was written with
# (vodozemac's pickle error is a ValueError) or when its SQLite file is damaged.
STORE_ERRORS = (ValueError, PeeweeException)


def store_problem(config: Config, exc: BaseException) -> str:
    """For the operator (exit 2: a restart cannot fix it), without a traceback."""
    cause = (
        "the pickle key is not the one it was written with"
        if isinstance(exc, ValueError)
        else f"it is damaged ({type(exc).__name__}: {exc})"
    )
    return (
        f"the encryption store {store_dir(config)} cannot be read: {cause}. Check "
        "TCHAP_BOT_PICKLE_KEY (or secrets.pickle_key_file). If the key or the store is lost: "
        f"move {store_dir(config)} and {config.data_dir / 'session.json'} aside and give "
        "the bot a new access token (a new device, signed at start with the kept identity)"
    )


def blacklist_unverified(client: AsyncClient, room_id: str) -> None:
    """For the ``verified_only`` trust policy: unverified devices get no room key."""
    room = client.rooms.get(room_id)
    if room is None:
        return
    for user_id in room.users:
        for device in client.device_store.active_user_devices(user_id):
            if not device.verified and not device.blacklisted:
                client.blacklist_device(device)


@dataclass(frozen=True)
class Withheld:
    """A sender's client refusing to send the bot a room key (Matrix spec,
    ``m.room_key.withheld``). ``m.no_olm`` is about a device, not a session: no
    ``session_id`` then."""

    sender: str
    code: str
    reason: str
    room_id: str | None
    session_id: str | None
    sender_key: str | None

    @classmethod
    def parse(cls, event: object) -> Withheld | None:
        if not isinstance(event, UnknownToDeviceEvent) or event.type not in WITHHELD_TYPES:
            return None
        content = event.source.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("code"), str):
            return None

        def text(key: str) -> str | None:
            value = content.get(key)
            return value if isinstance(value, str) else None

        return cls(
            str(event.sender),
            content["code"],
            (text("reason") or "")[:200],
            text("room_id"),
            text("session_id"),
            text("sender_key"),
        )

    def settles(self, event: MegolmEvent, room_id: str) -> bool:
        """Whether this notice is about ``event``: the same sender and session (or, for a
        device-wide code, the sender's device)."""
        if self.sender != event.sender or (self.room_id and self.room_id != room_id):
            return False
        if self.sender_key and event.sender_key and self.sender_key != event.sender_key:
            return False
        if self.session_id is None:
            return self.code == "m.no_olm"
        return bool(self.session_id == event.session_id)


@dataclass
class _Held:
    room_id: str
    event: MegolmEvent
    place: Place  # handed to the callback, which answers or releases it
    deadline: float


Decrypted = Callable[[str, Event, Place], Awaitable[None]]
# (room, message, its place, the withheld code if the sender refused the key, else None)
GaveUp = Callable[[str, MegolmEvent, Place, str | None], Awaitable[None]]


class UndecryptableMessages:
    """Holds messages waiting for their room key (see the module docstring)."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        delay: float,
        on_decrypted: Decrypted,
        on_gave_up: GaveUp,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._delay = delay
        self._on_decrypted = on_decrypted
        self._on_gave_up = on_gave_up
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._withheld: OrderedDict[tuple[str, str | None, str | None], Withheld] = OrderedDict()
        self._changed = asyncio.Event()  # something to hold: the retry loop wakes up
        self._wake = asyncio.Event()  # a sync came: retry now rather than at the period
        self._requests: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._held

    def held_for(self, sender: str) -> int:
        """Messages of ``sender`` waiting for their key."""
        return sum(1 for held in self._held.values() if held.event.sender == sender)

    def hold(self, room_id: str, event: MegolmEvent, place: Place) -> None:
        """Keep ``event`` (and its place) until its key comes; the key requests go out in
        the background."""
        if event.event_id in self._held:
            place.release()
            return
        event.room_id = room_id
        self._held[event.event_id] = _Held(room_id, event, place, self._clock() + self._delay)
        self._changed.set()
        if self._withheld:
            self._wake.set()  # its key may already be known to be withheld
        log.info(
            "message %s in %s cannot be decrypted yet; requesting its key", event.event_id, room_id
        )
        self._spawn(self._request_key(event))

    def withheld(self, notice: Withheld) -> None:
        """Remember a refused key; the retry task settles the messages it is about."""
        key = (notice.sender, notice.session_id, notice.sender_key)
        self._withheld[key] = notice
        self._withheld.move_to_end(key)
        while len(self._withheld) > WITHHELD_KEPT:
            self._withheld.popitem(last=False)
        log.info(
            "%s withholds a room key from the bot: %s (%s)",
            notice.sender,
            notice.code,
            notice.reason or "no reason given",
        )
        if self._held:
            self._wake.set()

    def _withheld_code(self, held: _Held) -> str | None:
        for notice in reversed(self._withheld.values()):
            if notice.settles(held.event, held.room_id):
                return notice.code
        return None

    def poke(self) -> None:
        """A sync was handled (it may have brought room keys): retry without waiting."""
        if self._held:
            self._wake.set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def close(self) -> None:
        """Cancel the key requests still in flight."""
        for task in list(self._requests):
            task.cancel()
        await asyncio.gather(*self._requests, return_exceptions=True)

    async def _request_key(self, event: MegolmEvent) -> None:
        client = self._client
        try:
            await client.request_room_key(event)  # our own devices; registers the request
        except LocalProtocolError:
            pass  # already requested for this session
        except Exception as exc:
            log.warning("room key request to own devices failed: %s", exc)
        if event.sender and event.device_id and client.device_id:
            try:
                message = event.as_key_request(
                    event.sender, client.device_id, event.session_id, event.device_id
                )
                await client.to_device(message)
            except Exception as exc:
                log.warning("room key request to %s failed: %s", event.sender, exc)

    async def retry(self) -> None:
        """Decrypt what can be now; give up on what waited too long."""
        now = self._clock()
        for event_id, held in list(self._held.items()):
            try:
                decrypted = self._client.decrypt_event(held.event)
            except EncryptionError:
                code = self._withheld_code(held)
                if code is not None:
                    del self._held[event_id]
                    log.warning("no room key for %s: withheld by its sender (%s)", event_id, code)
                    await self._on_gave_up(held.room_id, held.event, held.place, code)
                elif now >= held.deadline:
                    del self._held[event_id]
                    log.warning("no room key for %s after %.0f s", event_id, self._delay)
                    await self._on_gave_up(held.room_id, held.event, held.place, None)
                continue
            del self._held[event_id]
            log.info("message %s decrypted after its key arrived", event_id)
            await self._on_decrypted(held.room_id, decrypted, held.place)

    async def run(self) -> None:
        """The retries while messages are held; its owner runs it in a task, the only
        caller of ``retry``."""
        while True:
            if not self._held:
                self._changed.clear()
                await self._changed.wait()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RETRY_PERIOD):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.retry()
            except Exception:
                log.exception("retrying undecryptable messages failed")
