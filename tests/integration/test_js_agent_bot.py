"""The shipped bot seen by an Element-family client (matrix-js-sdk 37.5.0, Rust crypto), on
a real Synapse: what Tchap and Element agents get today.

Element excludes insecure devices by default (MSC4153): it shares room keys only with
devices their owner cross-signed, and reads no message from any other device. These
tests run the agent in that mode and in the legacy one, and check what the agent's own
client says: the reply decrypts, and its shield (`getEncryptionInfoForEvent`) is NONE.
"""

from __future__ import annotations

import asyncio
import shutil
import time

from .agents import collect_replies, join_room, replies_to
from .botproc import BotFactory, BotProcess, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, JsAgentFactory
from .cross_signing import login_new_device, upload_foreign_master_key
from .homeserver import Homeserver
from .js_agent import JsAgent, JsEvent
from .ops_support import ask as nio_ask

ANSWER_TIMEOUT = 30.0


def readable(event: JsEvent) -> None:
    """Decrypted by the agent's client, with no warning shield."""
    assert event["encrypted"], event
    assert event["decryption_failure"] is None, event
    assert event["shield"] is not None and event["shield"]["colour"] == "NONE", event


async def dm(agent: JsAgent, bot: BotProcess) -> str:
    room_id = await agent.create_dm(bot.user_id)
    await agent.wait_member(room_id, bot.user_id, timeout=ANSWER_TIMEOUT)
    return room_id


async def ask(agent: JsAgent, room_id: str, text: str, **send: object) -> tuple[str, JsEvent]:
    question = await agent.send(room_id, text, timeout=ANSWER_TIMEOUT, **send)  # type: ignore[arg-type]
    reply = await agent.wait_reply(room_id, question, timeout=ANSWER_TIMEOUT)
    return question, reply


async def test_an_agent_that_excludes_insecure_devices_is_answered_and_reads_the_bot(
    make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    agent = await make_js_agent("exclude", isolation="exclude")
    room_id = await dm(agent, bot)
    greeting = await agent.wait_event(room_id, bot.user_id, timeout=ANSWER_TIMEOUT)
    readable(greeting)
    _, reply = await ask(agent, room_id, "visio à 60 ?")
    readable(reply)
    assert reply["msgtype"] == "m.notice" and "Lifesize" in (reply["body"] or "")
    identity = await agent.user_identity(bot.user_id)
    [device] = identity["devices"]
    assert device["signed_by_owner"], identity


async def test_a_legacy_agent_sees_no_red_shield_on_the_greeting_or_the_answers(
    make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    agent = await make_js_agent("legacy", isolation="legacy")
    room_id = await dm(agent, bot)
    readable(await agent.wait_event(room_id, bot.user_id, timeout=ANSWER_TIMEOUT))
    for question in ("zoom c'est autorisé ?", "fusionner appels iphone"):
        _, reply = await ask(agent, room_id, question)
        readable(reply)


async def test_a_pill_in_an_encrypted_group_room_is_answered_once_readable_by_both(
    make_js_agent: JsAgentFactory, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    element = await make_js_agent("element", isolation="exclude")
    nio_agent = await make_agent("nio")
    room_id = await element.create_room([bot.user_id, nio_agent.user_id], encrypted=True)
    await join_room(nio_agent, room_id)
    await element.wait_member(room_id, bot.user_id, timeout=ANSWER_TIMEOUT)
    await element.wait_member(room_id, nio_agent.user_id, timeout=ANSWER_TIMEOUT)
    question, reply = await ask(element, room_id, "une visio à 12 ?", mentions=[bot.user_id])
    readable(reply)
    seen_by_nio = await collect_replies(
        nio_agent, room_id, ANSWER_TIMEOUT, replies_to(question), count=None
    )
    assert len(seen_by_nio) == 1  # answered once, and the nio agent decrypted it too
    replies = [e for e in await element.events(room_id) if e["in_reply_to"] == question]
    assert len(replies) == 1


async def test_a_restart_keeps_the_identity_agents_see_no_change(
    make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    agent = await make_js_agent("exclude", isolation="exclude")
    room_id = await dm(agent, bot)
    await ask(agent, room_id, "visio à 20 ?")
    before = await agent.user_identity(bot.user_id)

    await bot.astop()
    await bot.astart()
    assert "(uploaded" not in bot.log_since_start()  # a normal restart uploads nothing
    _, reply = await ask(agent, room_id, "et à 150 ?")
    readable(reply)
    after = await agent.user_identity(bot.user_id)
    assert after["master_key"] == before["master_key"]
    assert not after["verified"]["needs_user_approval"], after


async def test_a_lost_crypto_store_means_a_new_signed_device_the_agent_reads(
    homeserver: Homeserver, make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    agent = await make_js_agent("exclude", isolation="exclude")
    room_id = await dm(agent, bot)
    await ask(agent, room_id, "visio à 20 ?")
    master = (await agent.user_identity(bot.user_id))["master_key"]

    await bot.astop()
    data = bot.directory / "data"
    shutil.rmtree(data / "crypto")
    (data / "session.json").unlink()
    token, device_id = await login_new_device(homeserver, bot)
    bot.env["TCHAP_BOT_ACCESS_TOKEN"] = token
    await bot.astart()

    _, reply = await ask(agent, room_id, "audio à 10 ?")
    readable(reply)
    identity = await agent.user_identity(bot.user_id)
    assert identity["master_key"] == master
    signed = {d["device_id"]: d["signed_by_owner"] for d in identity["devices"]}
    assert signed[device_id], identity


async def test_a_withheld_key_gets_the_notice_at_once_not_after_the_timeout(
    homeserver: Homeserver, make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    # A bot whose device is not cross-signed (the account's master key is someone else's):
    # an agent excluding insecure devices withholds its message's key from it.
    bot = await start_bot(start=False, encryption={"undecryptable_notice_after": "10m"})
    await upload_foreign_master_key(homeserver, bot)
    await bot.astart()
    agent = await make_js_agent("exclude", isolation="exclude")
    room_id = await dm(agent, bot)
    sent_at = time.monotonic()
    question = await agent.send(room_id, "visio à 60 ?", timeout=ANSWER_TIMEOUT)
    # Reading the bot's notice needs the legacy mode: the bot is an insecure device here.
    await agent.set_isolation("legacy")
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while "withheld by its sender (m.unverified)" not in bot.log_since_start():
        assert time.monotonic() < deadline, bot.log_since_start()[-3000:]
        await asyncio.sleep(0.2)
    notice = await agent.wait_reply(room_id, question, timeout=ANSWER_TIMEOUT)
    assert time.monotonic() - sent_at < 60  # not the 10 minutes of the timeout
    assert notice["decryption_failure"] is None, notice
    assert "ne reconnaît pas encore mon appareil comme vérifié" in (notice["body"] or "")


async def test_an_answer_given_late_notifies_the_agent(
    make_js_agent: JsAgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"notify_after": "3s"})
    agent = await make_js_agent("exclude", isolation="exclude")
    room_id = await dm(agent, bot)
    _, on_time = await ask(agent, room_id, "visio à 20 ?")
    assert on_time["msgtype"] == "m.notice"  # within seconds: a notice, no notification

    await bot.astop()
    question = await agent.send(room_id, "audio à 10 ?", timeout=ANSWER_TIMEOUT)
    await asyncio.sleep(4)  # the question is older than notify_after when the bot is back
    await bot.astart()
    late = await agent.wait_reply(room_id, question, timeout=ANSWER_TIMEOUT)
    readable(late)
    assert late["msgtype"] == "m.text"  # Element notifies it (m.notice never notifies)
    assert late["mentions"] == {"user_ids": [agent.user_id]}


async def test_admin_commands_only_from_a_device_the_admins_identity_signed(
    make_js_agent: JsAgentFactory, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    element_admin = await make_js_agent("admin", isolation="exclude")
    nio_admin = await make_agent("admin")  # a device nobody cross-signed
    bot = await start_bot(
        behaviour={"greet_on_join": False},
        ops={"admins": [element_admin.user_id, nio_admin.user_id], "health": {"port": 0}},
    )
    room_id = await dm(element_admin, bot)
    _, reply = await ask(element_admin, room_id, "!outils version")
    readable(reply)
    assert "tchap-bot" in (reply["body"] or "") and "refusée" not in (reply["body"] or "")

    nio_room = await dm_with_bot(nio_admin, bot)
    body, _ = await nio_ask(nio_admin, nio_room, "!outils recharger")
    assert "session que vous n'avez pas vérifiée" in body
    assert "admin command 'recharger' from" in bot.log() and "refused: device" in bot.log()
