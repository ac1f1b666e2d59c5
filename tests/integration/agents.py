"""Test users ("agents") driving real matrix-nio clients with end-to-end encryption.

Sync model: each `Agent` owns exactly one background task that long-polls `/sync` for
the agent's whole life. After every sync it does the crypto upkeep nio's `sync_forever`
would do (outgoing to-device messages, key upload, key query, key claim), retries
decryption of events that arrived before their room key, appends every timeline event
to a per-room log, then wakes whoever waits on the agent. Helpers never sync
themselves: they wait on that wake-up with a deadline. So there is never a concurrent
`/sync` on one client, and nothing received between two helper calls is missed
(`collect_replies` reads the log, it does not race the sync).

While the homeserver is down (e.g. `Homeserver.arestart()`), nio retries the sync
request itself with a backoff capped at `max_timeout_retry_wait_time` (1 s here), so an
agent resumes about a second after the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    Event,
    JoinResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    ToDeviceEvent,
)

from .homeserver import Account

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0
SYNC_POLL_MS = 5_000
# A large timeline limit: the default (10) silently drops messages of a busy room.
SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": 200}}}
MEGOLM = "m.megolm.v1.aes-sha2"
ENCRYPTION_STATE: dict[str, Any] = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": MEGOLM},
}

Message: TypeAlias = RoomMessageText | RoomMessageNotice
MessagePredicate = Callable[[Message], bool]


def agent_client_config() -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,
        max_timeout_retry_wait_time=1.0,
        request_timeout=30.0,
    )


class Agent:
    """One user, one device, one crypto store, one background sync (module docstring)."""

    def __init__(self, client: AsyncClient, account: Account) -> None:
        self.client = client
        self.account = account
        self.sync_errors = 0
        self._timelines: dict[str, list[Event]] = {}
        # Every to-device event the syncs delivered, as nio parsed it (e.g. the
        # `m.room_key.withheld` an Element-family sender answers an unsigned device with).
        self.to_device_events: list[ToDeviceEvent] = []
        self._undecrypted: list[tuple[str, int]] = []
        self._changed = asyncio.Condition()
        # Serialises nio's crypto requests (key query/claim, group session sharing) between
        # the sync task and the helpers' sends.
        self.crypto_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        homeserver_url: str,
        account: Account,
        store_dir: Path,
        *,
        config: AsyncClientConfig | None = None,
    ) -> Agent:
        """Log in with the account's token, upload device keys, sync once, start syncing."""
        await asyncio.to_thread(store_dir.mkdir, parents=True, exist_ok=True)
        client = AsyncClient(
            homeserver_url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store_dir),
            config=config or agent_client_config(),
        )
        # Loads the crypto store as well (one store per user and device: reusing a device
        # id with an empty store breaks E2EE, see the notes).
        client.restore_login(account.user_id, account.device_id, account.access_token)
        agent = cls(client, account)
        try:
            await agent._upkeep()
            first = await client.sync(timeout=0, sync_filter=SYNC_FILTER, full_state=True)
            if not isinstance(first, SyncResponse):
                raise RuntimeError(f"{account.user_id}: first sync failed: {first}")
            agent._ingest(first)
            await agent._upkeep()
        except BaseException:
            await client.close()
            raise
        agent._task = asyncio.create_task(agent._sync_loop(), name=f"sync {account.user_id}")
        return agent

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.close()

    # -- what was received --------------------------------------------------------

    def timeline(self, room_id: str) -> list[Event]:
        """Every timeline event of the room seen so far, in order, decrypted if possible."""
        return list(self._timelines.get(room_id, ()))

    def undecrypted(self, room_id: str) -> list[MegolmEvent]:
        """Events still waiting for their room key (useful in failure messages)."""
        return [e for e in self._timelines.get(room_id, ()) if isinstance(e, MegolmEvent)]

    def is_joined(self, room_id: str, user_id: str | None = None) -> bool:
        """Whether `user_id` (default: this agent) is joined, as far as this agent knows."""
        room = self.client.rooms.get(room_id)
        user_id = user_id or self.user_id
        return room is not None and user_id in room.users and user_id not in room.invited_users

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Wait until `condition()` holds; it is checked now and after every sync."""

        def check() -> bool:
            if self._task is not None and self._task.done():
                raise RuntimeError(f"{self.user_id}: the sync task has stopped")
            return condition()

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(check)
        except TimeoutError:
            raise TimeoutError(
                f"{self.user_id}: {what} not reached within {timeout:.1f} s"
            ) from None

    async def wait_for_devices(
        self,
        room_id: str,
        user_ids: Iterable[str],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until each user is joined and at least one of its devices is known.

        Sending before that encrypts without a key for them: the message is lost to them.
        """
        wanted = set(user_ids)

        def missing() -> list[str]:
            return sorted(
                user
                for user in wanted
                if not self.is_joined(room_id, user)
                or not list(self.client.device_store.active_user_devices(user))
            )

        await self.wait_until(
            lambda: not missing(), timeout, f"joined members with known devices ({missing()})"
        )

    # -- the sync task --------------------------------------------------------------

    async def _sync_loop(self) -> None:
        pause = 0.5
        while True:
            try:
                response = await self.client.sync(timeout=SYNC_POLL_MS, sync_filter=SYNC_FILTER)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s: sync raised", self.user_id)
                response = None
            if isinstance(response, SyncResponse):
                self._ingest(response)
                pause = 0.5
            else:
                self.sync_errors += 1
                logger.warning("%s: sync failed: %s", self.user_id, response)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
            await self._upkeep()
            self._retry_decryption()
            async with self._changed:
                self._changed.notify_all()

    def _ingest(self, response: SyncResponse) -> None:
        self.to_device_events.extend(response.to_device_events)
        # nio has already replaced the Megolm events it could decrypt in the response.
        for room_id, info in response.rooms.join.items():
            log = self._timelines.setdefault(room_id, [])
            for event in info.timeline.events:
                if isinstance(event, MegolmEvent):
                    self._undecrypted.append((room_id, len(log)))
                log.append(event)

    def _retry_decryption(self) -> None:
        still: list[tuple[str, int]] = []
        for room_id, index in self._undecrypted:
            event = self._timelines[room_id][index]
            assert isinstance(event, MegolmEvent)
            try:
                self._timelines[room_id][index] = self.client.decrypt_event(event)
            except EncryptionError:
                still.append((room_id, index))
        self._undecrypted = still

    async def _upkeep(self) -> None:
        """What `sync_forever` does between syncs; failures are logged, never fatal."""
        client = self.client
        async with self.crypto_lock:
            steps: list[tuple[str, Callable[[], bool], Callable[[], Any]]] = [
                ("to-device", lambda: True, client.send_to_device_messages),
                ("keys upload", lambda: client.should_upload_keys, client.keys_upload),
                ("keys query", lambda: client.should_query_keys, client.keys_query),
                (
                    "keys claim",
                    lambda: client.should_claim_keys,
                    lambda: client.keys_claim(client.get_users_for_key_claiming()),
                ),
            ]
            for name, needed, run in steps:
                if not needed():
                    continue
                try:
                    await run()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("%s: %s failed", self.user_id, name)


# -- rooms ------------------------------------------------------------------------------


async def _create_room(agent: Agent, timeout: float, **kwargs: Any) -> str:  # noqa: ASYNC109
    response = await agent.client.room_create(**kwargs)
    if not isinstance(response, RoomCreateResponse):
        raise RuntimeError(f"{agent.user_id}: room creation failed: {response}")
    room_id = str(response.room_id)
    await agent.wait_until(lambda: agent.is_joined(room_id), timeout, f"room {room_id} synced")
    return room_id


async def create_dm(
    agent: Agent,
    bot_user_id: str,
    encrypted: bool = True,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> str:
    """A direct chat (`is_direct` invite, trusted private chat) with `bot_user_id` invited.

    Returns once the agent sees the room; use `wait_for_join` for the invitee.
    """
    return await _create_room(
        agent,
        timeout,
        is_direct=True,
        invite=[bot_user_id],
        preset=RoomPreset.trusted_private_chat,
        initial_state=[ENCRYPTION_STATE] if encrypted else [],
    )


async def create_group_room(
    agent: Agent,
    invitees: Sequence[str],
    encrypted: bool = True,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> str:
    """A private group room with `invitees` invited."""
    return await _create_room(
        agent,
        timeout,
        name=name,
        invite=list(invitees),
        preset=RoomPreset.private_chat,
        initial_state=[ENCRYPTION_STATE] if encrypted else [],
    )


async def join_room(
    agent: Agent,
    room_id: str,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> None:
    """Join (e.g. accept an invite) and wait until the agent's sync shows it joined."""
    response = await agent.client.join(room_id)
    if not isinstance(response, JoinResponse):
        raise RuntimeError(f"{agent.user_id}: join {room_id} failed: {response}")
    await agent.wait_until(lambda: agent.is_joined(room_id), timeout, f"joined {room_id}")


async def wait_for_join(
    agent: Agent,
    room_id: str,
    user_id: str,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> None:
    """Wait until the agent sees `user_id` joined to the room."""
    await agent.wait_until(
        lambda: agent.is_joined(room_id, user_id), timeout, f"{user_id} joined {room_id}"
    )


# -- messages ---------------------------------------------------------------------------


async def send_text(
    agent: Agent,
    room_id: str,
    body: str,
    mentions: Sequence[str] | None = None,
    html: str | None = None,
    *,
    msgtype: str = "m.text",
    extra: Mapping[str, Any] | None = None,
    recipients: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> str:
    """Send a message and return its event id.

    `mentions` fills `m.mentions.user_ids` (it does not touch `body`); `html` becomes the
    `formatted_body`; `extra` is merged into the content (threads, replies...).
    In an encrypted room, first waits until every `recipients` user (default: everyone
    else joined or invited) is joined with a known device, so each gets the room key.
    Pass `recipients=()` to send without waiting.
    """
    await agent.wait_until(lambda: agent.is_joined(room_id), timeout, f"joined {room_id}")
    room = agent.client.rooms[room_id]
    if room.encrypted:
        wanted = (
            [user for user in room.users if user != agent.user_id]
            if recipients is None
            else list(recipients)
        )
        await agent.wait_for_devices(room_id, wanted, timeout)
    content: dict[str, Any] = {"msgtype": msgtype, "body": body}
    if html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html
    if mentions is not None:
        content["m.mentions"] = {"user_ids": list(mentions)}
    content.update(extra or {})
    client = agent.client
    if room.encrypted:
        # Share the room key with the lock held (no key query/claim from the sync task
        # meanwhile), but send the event without it: a send throttled by 429s must not
        # stall the agent's syncing.
        async with agent.crypto_lock:
            if client.olm.should_share_group_session(room_id):
                await client.share_group_session(room_id, ignore_unverified_devices=True)
    response = await client.room_send(
        room_id, "m.room.message", content, ignore_unverified_devices=True
    )
    if not isinstance(response, RoomSendResponse):
        raise RuntimeError(f"{agent.user_id}: send to {room_id} failed: {response}")
    return str(response.event_id)


async def collect_replies(
    agent: Agent,
    room_id: str,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    predicate: MessagePredicate | None = None,
    *,
    after: str | None = None,
    count: int | None = 1,
) -> list[Message]:
    """Text and notice messages from other users in the room, decrypted.

    Only events after the event `after` (typically the event id `send_text` returned)
    when given, else every one received so far, and only those `predicate` accepts.
    Returns as soon as `count` of them are there, or at `timeout` with what there is
    (possibly nothing); `count=None` always waits the whole `timeout`, to check that
    nothing else comes. Each event keeps its `source` (`m.relates_to`, `format`...).
    Raises TimeoutError if `after` itself never shows up.
    """

    def matching() -> list[Message] | None:
        events = agent.timeline(room_id)
        if after is not None:
            ids = [event.event_id for event in events]
            if after not in ids:
                return None
            events = events[ids.index(after) + 1 :]
        return [
            event
            for event in events
            if isinstance(event, RoomMessageText | RoomMessageNotice)
            and event.sender != agent.user_id
            and (predicate is None or predicate(event))
        ]

    deadline = asyncio.get_running_loop().time() + timeout
    if after is not None:
        await agent.wait_until(lambda: matching() is not None, timeout, f"own event {after}")
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    with contextlib.suppress(TimeoutError):
        await agent.wait_until(
            lambda: count is not None and len(matching() or ()) >= count, remaining, "replies"
        )
    found = matching() or []
    if len(found) < (count or 0) and agent.undecrypted(room_id):
        logger.warning(
            "%s: %d undecryptable event(s) in %s",
            agent.user_id,
            len(agent.undecrypted(room_id)),
            room_id,
        )
    return found


def relation(event: Event) -> dict[str, Any]:
    """The event's `m.relates_to` (empty if none): replies, threads, edits."""
    content = event.source.get("content", {})
    relates_to: dict[str, Any] = content.get("m.relates_to") or {}
    return relates_to


def in_reply_to(event: Event) -> str | None:
    """The event id a message replies to, if any."""
    reply: dict[str, Any] = relation(event).get("m.in_reply_to") or {}
    return reply.get("event_id")


def replies_to(event_id: str) -> Callable[[Event], bool]:
    """A `collect_replies` predicate: the replies to that question."""
    return lambda event: in_reply_to(event) == event_id


async def answered_counts(agent: Agent, room_id: str) -> Counter[str | None]:
    """How many replies each question got, from what the agent has received so far."""
    replies = await collect_replies(agent, room_id, count=None, timeout=0)
    return Counter(in_reply_to(reply) for reply in replies)
