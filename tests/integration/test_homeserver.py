"""The harness's own tests: a real Synapse, real nio clients, real end-to-end encryption."""

from __future__ import annotations

import urllib.request

import pytest
from nio import RoomMessageNotice

from .agents import (
    collect_replies,
    create_dm,
    create_group_room,
    join_room,
    relation,
    send_text,
    wait_for_join,
)
from .conftest import AgentFactory, HomeserverFactory
from .homeserver import Homeserver, HomeserverError


def test_server_is_healthy_on_loopback(homeserver: Homeserver) -> None:
    assert homeserver.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{homeserver.url}/health", timeout=5) as response:
        assert response.status == 200
    versions = homeserver.request("GET", "/_matrix/client/versions")
    assert "v1.1" in versions["versions"]


async def test_registered_user_is_logged_in(homeserver: Homeserver) -> None:
    account = await homeserver.aregister("smoke-whoami")
    whoami = homeserver.request(
        "GET", "/_matrix/client/v3/account/whoami", access_token=account.access_token
    )
    assert whoami == {
        "user_id": f"@smoke-whoami:{homeserver.server_name}",
        "device_id": account.device_id,
        "is_guest": False,
    }


async def test_encrypted_room_message_is_decrypted_by_the_other_agent(
    make_agent: AgentFactory,
) -> None:
    alice = await make_agent("alice")
    bob = await make_agent("bob")
    room_id = await create_group_room(alice, [bob.user_id], encrypted=True)
    await join_room(bob, room_id)
    await wait_for_join(alice, room_id, bob.user_id)

    event_id = await send_text(
        alice, room_id, "Bonjour Bob", mentions=[bob.user_id], html="<b>Bonjour</b> Bob"
    )

    [message] = await collect_replies(bob, room_id, predicate=lambda e: e.event_id == event_id)
    assert message.decrypted, "the event should have travelled encrypted"
    assert message.sender == alice.user_id
    assert message.body == "Bonjour Bob"
    assert message.formatted_body == "<b>Bonjour</b> Bob"
    assert message.source["content"]["m.mentions"] == {"user_ids": [bob.user_id]}
    assert bob.undecrypted(room_id) == []


async def test_dm_reply_is_a_notice_related_to_the_question(make_agent: AgentFactory) -> None:
    """The shape of a bot test, with a second agent standing in for the bot."""
    user = await make_agent("user")
    fake_bot = await make_agent("bot")
    room_id = await create_dm(user, fake_bot.user_id)
    await join_room(fake_bot, room_id)
    await wait_for_join(user, room_id, fake_bot.user_id)
    question = await send_text(user, room_id, "Quel outil pour visio ?")

    [received] = await collect_replies(fake_bot, room_id)
    assert received.event_id == question
    await send_text(
        fake_bot,
        room_id,
        "Webconf",
        msgtype="m.notice",
        extra={"m.relates_to": {"m.in_reply_to": {"event_id": question}}},
    )

    [reply] = await collect_replies(user, room_id, after=question)
    assert isinstance(reply, RoomMessageNotice)
    assert reply.decrypted
    assert relation(reply) == {"m.in_reply_to": {"event_id": question}}


async def test_restart_keeps_users_rooms_and_sessions(
    fresh_homeserver_factory: HomeserverFactory, make_agent: AgentFactory
) -> None:
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    alice = await make_agent("alice", server=server)
    bob = await make_agent("bob", server=server)
    room_id = await create_group_room(alice, [bob.user_id], encrypted=True)
    await join_room(bob, room_id)
    before = await send_text(alice, room_id, "avant")
    assert await collect_replies(bob, room_id, predicate=lambda e: e.body == "avant")

    port = server.port
    await server.arestart()
    assert server.port == port

    after = await send_text(alice, room_id, "après")
    replies = await collect_replies(bob, room_id, after=before)
    assert [(r.event_id, r.body) for r in replies] == [(after, "après")]


async def test_default_ratelimits_throttle_until_overridden(
    fresh_homeserver_factory: HomeserverFactory,
) -> None:
    server = await fresh_homeserver_factory(ratelimits="default")
    account = await server.aregister("chatty")
    room = server.request(
        "POST", "/_matrix/client/v3/createRoom", {}, access_token=account.access_token
    )

    def burst(prefix: str, count: int) -> None:
        for index in range(count):
            server.request(
                "PUT",
                f"/_matrix/client/v3/rooms/{room['room_id']}/send/m.room.message/{prefix}{index}",
                {"msgtype": "m.text", "body": str(index)},
                access_token=account.access_token,
            )

    # Synapse's default rc_message: burst of 10, then 0.2/s.
    with pytest.raises(HomeserverError, match="429"):
        burst("throttled", 15)

    await server.aoverride_ratelimit(account.user_id)
    burst("exempt", 30)
