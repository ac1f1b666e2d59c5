"""The bot's cross-signing identity on a real Synapse: made once, kept across restarts,
used to sign a new device, never silently replaced.

The chain is checked here with signedjson directly, from what `/keys/query` serves to any
other user, independently of the bot's own code. The Element-family client's view of the
same (no shield, exclude-insecure-devices mode) is in test_js_agent_bot.py.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys

from .agents import collect_replies, replies_to, send_text
from .botproc import BotFactory, BotProcess, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .cross_signing import cross_signing_seen_by, login_new_device, upload_foreign_master_key
from .homeserver import Homeserver
from .ops_support import base_url, health_settings, http_get

IDENTITY_FILE = "cross-signing.json"


async def test_the_bot_cross_signs_its_device_once_and_a_restart_uploads_nothing(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    agent = await make_agent("agent")
    bot = await start_bot()
    seen = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert seen["master"] is not None
    assert seen["signed_devices"] == [bot.account.device_id]
    assert "cross-signing: new identity" in bot.log()
    assert (bot.directory / "data" / IDENTITY_FILE).stat().st_mode & 0o777 == 0o600
    identity_text = (bot.directory / "data" / IDENTITY_FILE).read_text()
    assert bot.env["TCHAP_BOT_PICKLE_KEY"] not in identity_text  # sealed, not the key itself

    await bot.astop()
    await bot.astart()
    restarted = bot.log_since_start()
    assert f"signed by master key {seen['master']}" in restarted
    assert "uploaded" not in restarted.split("cross-signing:")[1].splitlines()[0]
    assert await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id) == seen

    # And it answers, encrypted, as before.
    room_id = await dm_with_bot(agent, bot)
    question = await send_text(agent, room_id, "visio à 12 ?")
    await collect_replies(agent, room_id, after=question, predicate=replies_to(question))


async def test_a_new_device_is_signed_with_the_kept_identity_without_a_password(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    agent = await make_agent("agent")
    bot = await start_bot()
    before = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    await bot.astop()

    # The crypto store is lost; the identity file is kept; the operator logs in again.
    data = bot.directory / "data"
    shutil.rmtree(data / "crypto")
    (data / "session.json").unlink()
    token, device_id = await login_new_device(homeserver, bot)
    bot.env["TCHAP_BOT_ACCESS_TOKEN"] = token
    bot.env.pop("TCHAP_BOT_PASSWORD", None)
    await bot.astart()

    after = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert after["master"] == before["master"]  # same identity: agents see no change
    assert device_id in after["signed_devices"]
    assert "uploaded: signatures" in bot.log_since_start()

    room_id = await dm_with_bot(agent, bot)
    question = await send_text(agent, room_id, "zoom c'est autorisé ?")
    await collect_replies(agent, room_id, after=question, predicate=replies_to(question))


async def test_a_master_key_the_bot_does_not_hold_is_reported_not_replaced(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    agent = await make_agent("agent")
    bot = await start_bot(start=False, ops={"health": health_settings()})
    # Another client of the bot's account set up cross-signing first.
    public = await upload_foreign_master_key(homeserver, bot)
    await bot.astart()
    log = bot.log_since_start()
    assert "is NOT signed" in log and "identity reset" in log
    assert not (bot.directory / "data" / IDENTITY_FILE).exists()
    status, reason = await http_get(base_url(bot) + "/readyz")
    assert status == 503 and "non signé" in reason
    seen = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert seen["master"] == public  # not replaced

    # It still answers (agents in legacy mode can read it).
    room_id = await dm_with_bot(agent, bot)
    question = await send_text(agent, room_id, "visio à 12 ?")
    await collect_replies(agent, room_id, after=question, predicate=replies_to(question))


async def test_a_second_process_on_the_same_data_directory_exits_at_once(
    start_bot: BotFactory,
) -> None:
    bot = await start_bot()
    twin = BotProcess(bot.homeserver, bot.account, bot.directory)
    twin.env = bot.env  # same pickle key, same data directory
    twin._process = await asyncio.to_thread(twin._spawn)
    code = await twin.await_exit(timeout=30)
    assert code == 2
    assert f"in use by another tchap-bot process (PID {bot.pid})" in twin.log()


async def identity_command(bot: BotProcess, *args: str, **env: str) -> tuple[int, str]:
    """`tchap-bot identity ...` on the bot's config, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "identity",
        *args,
        "--config",
        str(bot.config_path),
        env={**bot.env, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), out.decode()


async def test_identity_status_reset_and_prune_from_the_command_line(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    agent = await make_agent("agent")
    bot = await start_bot()
    old = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    await login_new_device(homeserver, bot)  # an old device left behind, never signed

    code, out = await identity_command(bot, "status")
    assert code == 0, out
    assert f"This device: {bot.account.device_id} (signed)" in out
    assert "held by the bot" in out and old["master"][:4] in out
    assert out.count("unsigned") == 1

    code, out = await identity_command(bot, "reset", "--yes")
    assert code == 2 and "in use by another tchap-bot process" in out  # never under the bot
    await bot.astop()

    password = {"TCHAP_BOT_PASSWORD": bot.account.password}
    code, out = await identity_command(bot, "reset")
    assert code == 2 and "--yes" in out  # no terminal to confirm
    code, out = await identity_command(bot, "reset", "--yes", **password)
    assert code == 0, out
    assert "identity changed" in out  # what agents will see, said first
    await bot.astart()
    new = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert new["master"] not in (None, old["master"])
    assert bot.account.device_id in new["signed_devices"]

    code, out = await identity_command(bot, "status", "--prune", **password)
    assert code == 0 and "Deleted." in out, out
    after = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert after["unsigned_devices"] == [] and after["signed_devices"] == [bot.account.device_id]


async def test_a_data_directory_restored_from_a_backup_is_never_used_as_is(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    agent = await make_agent("agent")
    bot = await start_bot()
    room_id = await dm_with_bot(agent, bot)
    first = await send_text(agent, room_id, "visio à 12 ?")
    await collect_replies(agent, room_id, after=first, predicate=replies_to(first))
    await bot.astop()
    data, backup = bot.directory / "data", bot.directory / "backup"
    shutil.copytree(data, backup)
    await bot.astart()  # traffic after the backup: the store moves on
    second = await send_text(agent, room_id, "zoom c'est autorisé ?")
    await collect_replies(agent, room_id, after=second, predicate=replies_to(second))
    await bot.astop()
    shutil.rmtree(data)
    shutil.copytree(backup, data)

    # With only a token: the bot stops and says what to do, rather than answer unreadably.
    try:
        await bot.astart()
    except RuntimeError as exc:
        assert "exited with 2" in str(exc)
    else:
        raise AssertionError("the bot started on a stale store")
    assert "older than device" in bot.log_since_start()

    # With a password: the stale store is put aside, a new signed device answers.
    bot.env.pop("TCHAP_BOT_ACCESS_TOKEN")
    bot.env["TCHAP_BOT_PASSWORD"] = bot.account.password
    await bot.astart()
    assert "logging in as a new device" in bot.log_since_start()
    assert any(p.name.startswith("crypto.stale-") for p in data.iterdir())
    new_device = re.findall(r"logged in as \S+, device (\w+)", bot.log_since_start())[-1]
    assert new_device != bot.account.device_id
    await agent.wait_until(
        lambda: any(
            d.id == new_device for d in agent.client.device_store.active_user_devices(bot.user_id)
        ),
        what="the agent knows the bot's new device",
    )
    third = await send_text(agent, room_id, "fusionner appels iphone")
    [reply] = await collect_replies(agent, room_id, after=third, predicate=replies_to(third))
    assert "iPhone" in reply.body
    seen = await cross_signing_seen_by(homeserver, agent.account.access_token, bot.user_id)
    assert new_device in seen["signed_devices"]  # the old one stays until `identity --prune`
