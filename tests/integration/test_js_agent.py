"""The js agent (js_agent.py) itself, on a real Synapse: what an Element-family client does
with cross-signed and with unsigned devices (MSC4153, "exclude insecure devices")."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nio import UnknownToDeviceEvent

from .agents import Agent, collect_replies, join_room, send_text, wait_for_join
from .conftest import AgentFactory, JsAgentFactory
from .homeserver import Account, Homeserver
from .js_agent import JsAgent, JsAgentError

pytestmark = pytest.mark.timeout(90)

TIMEOUT = 20.0


async def js_room_with_nio(js: JsAgent, nio: Agent) -> str:
    """An encrypted room the js agent creates and the nio agent joins; both see both."""
    room_id = await js.create_room([nio.user_id], name="js + nio")
    await join_room(nio, room_id, timeout=TIMEOUT)
    await js.wait_member(room_id, nio.user_id, timeout=TIMEOUT)
    await wait_for_join(nio, room_id, js.user_id, timeout=TIMEOUT)
    return room_id


def withheld_events(nio: Agent) -> list[UnknownToDeviceEvent]:
    return [
        event
        for event in nio.to_device_events
        if isinstance(event, UnknownToDeviceEvent) and event.type == "m.room_key.withheld"
    ]


async def test_two_cross_signed_js_agents_read_each_other_in_exclude_mode(
    make_js_agent: JsAgentFactory,
) -> None:
    alice = await make_js_agent("alice", isolation="exclude")
    bob = await make_js_agent("bob", isolation="exclude")
    assert alice.cross_signing_ready and bob.cross_signing_ready

    room_id = await alice.create_dm(bob.user_id, timeout=TIMEOUT)
    await bob.join(room_id, timeout=TIMEOUT)
    await alice.wait_member(room_id, bob.user_id, timeout=TIMEOUT)

    # Each sees the other's identity and device as signed by its owner, unverified by us.
    bob_seen = await alice.user_identity(bob.user_id)
    assert bob_seen["master_key"]
    assert bob_seen["verified"]["is_cross_signing_verified"] is False
    assert bob_seen["verified"]["needs_user_approval"] is False
    [bob_device] = bob_seen["devices"]
    assert bob_device["device_id"] == bob.device_id
    assert bob_device["signed_by_owner"] is True

    # A long wait in flight while the same agent runs other commands.
    waiting = asyncio.create_task(bob.wait_event(room_id, alice.user_id, timeout=TIMEOUT))
    assert await bob.events(room_id)
    hello = await alice.send(room_id, "bonjour Bob", timeout=TIMEOUT)
    received = await waiting
    assert received["event_id"] == hello
    assert received["encrypted"] and received["decryption_failure"] is None
    assert received["type"] == "m.room.message" and received["body"] == "bonjour Bob"
    assert received["shield"] == {"colour": "NONE", "reason": None}
    assert received["mentions"] == {}  # as Element sends it when nobody is mentioned

    answer = await bob.send(
        room_id, "salut", reply_to=hello, mentions=[alice.user_id], timeout=TIMEOUT
    )
    reply = await alice.wait_reply(room_id, hello, timeout=TIMEOUT)
    assert reply["event_id"] == answer
    assert reply["decryption_failure"] is None
    assert reply["shield"] == {"colour": "NONE", "reason": None}
    assert reply["mentions"] == {"user_ids": [alice.user_id]}
    assert f'href="https://matrix.to/#/{alice.user_id}"' in (reply["formatted_body"] or "")
    assert not alice.stray_stdout and not bob.stray_stdout  # the sdk logs to stderr only


async def test_exclude_mode_refuses_an_unsigned_nio_device_both_ways(
    make_js_agent: JsAgentFactory, make_agent: AgentFactory
) -> None:
    """A nio device is not cross-signed by its owner (nio cannot cross-sign).

    Its messages are `UNSIGNED_SENDER_DEVICE` decryption failures for the js agent, and the
    js agent withholds its room key from it, with one to-device event per session:
    `m.room_key.withheld`, content keys `algorithm`, `code`, `from_device`, `reason`,
    `room_id`, `sender_key`, `session_id` (code `m.unverified`, reason "The sender has
    disabled encrypting to unverified devices.", from_device the js agent's device). nio
    0.26 does not know the type: an `UnknownToDeviceEvent` with the event in `source`.
    """
    js = await make_js_agent("element", isolation="exclude")
    nio = await make_agent("nio")
    room_id = await js_room_with_nio(js, nio)

    await send_text(nio, room_id, "message from an unsigned device", timeout=TIMEOUT)
    undecryptable = await js.wait_event(room_id, nio.user_id, timeout=TIMEOUT)
    assert undecryptable["encrypted"]
    assert undecryptable["decryption_failure"] == "UNSIGNED_SENDER_DEVICE"
    assert undecryptable["type"] == "m.room.encrypted" and undecryptable["body"] is None
    assert undecryptable["shield"] is None

    await js.send(room_id, "secret for signed devices only", timeout=TIMEOUT)
    await nio.wait_until(lambda: bool(withheld_events(nio)), TIMEOUT, "m.room_key.withheld")
    [withheld] = withheld_events(nio)
    content = withheld.source["content"]
    assert content["code"] == "m.unverified"
    assert content["room_id"] == room_id
    assert content["from_device"] == js.device_id
    assert content["algorithm"] == "m.megolm.v1.aes-sha2"
    assert {"sender_key", "session_id", "reason"} <= content.keys()
    assert not await collect_replies(nio, room_id, timeout=1)  # nothing nio could read


async def test_legacy_mode_reads_an_unsigned_nio_device_with_a_red_shield(
    make_js_agent: JsAgentFactory, make_agent: AgentFactory
) -> None:
    js = await make_js_agent("element", isolation="exclude")
    nio = await make_agent("nio")
    room_id = await js_room_with_nio(js, nio)
    await send_text(nio, room_id, "before", timeout=TIMEOUT)
    first = await js.wait_event(room_id, nio.user_id, timeout=TIMEOUT)
    assert first["decryption_failure"] == "UNSIGNED_SENDER_DEVICE"

    await js.set_isolation("legacy")
    since = first["ts"] + 1
    await send_text(nio, room_id, "after", timeout=TIMEOUT)
    read = await js.wait_event(room_id, nio.user_id, after_ts=since, timeout=TIMEOUT)
    assert read["decryption_failure"] is None
    assert read["body"] == "after"
    assert read["shield"] == {"colour": "RED", "reason": "UNSIGNED_DEVICE"}

    # Legacy mode shares its room key with the unsigned device again.
    sent = await js.send(room_id, "now for every device", timeout=TIMEOUT)
    [got] = await collect_replies(nio, room_id, after=None, timeout=TIMEOUT)
    assert got.event_id == sent
    assert got.body == "now for every device"


async def second_device(homeserver: Homeserver, account: Account) -> Account:
    """A new device of the same user, by password login (rate limits are relaxed here)."""
    login = await asyncio.to_thread(
        homeserver.request,
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": account.user_id},
            "password": account.password,
        },
    )
    return Account(account.user_id, login["access_token"], login["device_id"], account.password)


async def test_a_new_device_without_the_keys_resets_the_identity_and_peers_notice(
    make_js_agent: JsAgentFactory, homeserver: Homeserver, tmp_path: Path
) -> None:
    """What happens when a client cannot reach its user's cross-signing private keys (no
    secret storage, a new device, lost keys): bootstrapping makes a new identity, which
    replaces the published one through UIA (401, then m.login.password).

    A peer in exclude mode then sees the new master key with `needs_user_approval`
    (Element's "identity changed" warning); it still reads the new device with no shield,
    and withholds its keys from the old device, now unsigned. That old device cannot send
    at all in exclude mode ("Encryption failed because your device is not verified").
    """
    alice = await make_js_agent("alice", isolation="exclude")
    bob = await make_js_agent("bob", isolation="exclude")
    assert bob.cross_signing_uia is None  # first upload: no UIA on Synapse (MSC3967)
    room_id = await alice.create_dm(bob.user_id, timeout=TIMEOUT)
    await bob.join(room_id, timeout=TIMEOUT)
    await alice.wait_member(room_id, bob.user_id, timeout=TIMEOUT)
    old_key = (await alice.user_identity(bob.user_id))["master_key"]

    account = await second_device(homeserver, bob.account)
    new_bob = await JsAgent.start(homeserver.url, account, tmp_path / "new-bob")
    try:
        await new_bob.set_isolation("exclude")
        assert new_bob.cross_signing_ready
        assert new_bob.cross_signing_uia == "m.login.password"

        seen = await alice.user_identity(bob.user_id)
        assert seen["master_key"] not in (None, old_key)
        assert seen["verified"]["needs_user_approval"] is True
        signed = {device["device_id"]: device["signed_by_owner"] for device in seen["devices"]}
        assert signed == {bob.device_id: False, new_bob.device_id: True}

        since = int(time.time() * 1000)
        await new_bob.send(room_id, "new device", timeout=TIMEOUT)
        read = await alice.wait_event(room_id, bob.user_id, after_ts=since, timeout=TIMEOUT)
        assert read["body"] == "new device"
        assert read["shield"] == {"colour": "NONE", "reason": None}

        since = int(time.time() * 1000)
        await alice.send(room_id, "to Bob", timeout=TIMEOUT)
        at_old = await bob.wait_event(room_id, alice.user_id, after_ts=since, timeout=TIMEOUT)
        assert at_old["decryption_failure"] == "MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE"
        at_new = await new_bob.wait_event(room_id, alice.user_id, after_ts=since, timeout=TIMEOUT)
        assert at_new["body"] == "to Bob"

        with pytest.raises(JsAgentError, match="your device is not verified"):
            await bob.send(room_id, "old device", timeout=TIMEOUT)
    finally:
        await new_bob.close()
