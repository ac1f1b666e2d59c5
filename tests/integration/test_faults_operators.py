"""What operators and agents do that once cost answers: a DM with an invitee who never
joined, a denied user in a shared room, a skewed clock, a SIGHUP during start-up, a
wrong pickle key, loose file modes. Each on a real Synapse."""

from __future__ import annotations

import asyncio
import signal
import stat
from pathlib import Path

import pytest

from .agents import collect_replies, create_group_room, join_room, replies_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, HomeserverFactory
from .homeserver import Homeserver
from .proxy import RecordingProxy

SKEW = """import os, time
_offset = float(os.environ["TEST_CLOCK_SKEW"])
_time = time.time
time.time = lambda: _time() + _offset
"""


async def test_a_dm_with_an_invitee_who_never_joined_is_still_a_dm(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent, colleague = await make_agent("agent"), await make_agent("colleague")
    room_id = await dm_with_bot(agent, bot)
    await agent.client.room_invite(room_id, colleague.user_id)  # never accepted
    question = await send_text(agent, room_id, "visio à 12 ?", recipients=[bot.user_id])
    await collect_replies(agent, room_id, 20, replies_to(question), after=question)


async def test_a_denied_user_is_not_answered_in_a_room_an_allowed_one_opened(
    fresh_homeserver_factory: HomeserverFactory, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    friend = await make_agent("friend", server=server)
    stranger = await make_agent("stranger", server=server)
    bot = await start_bot(
        server,
        invites={"allowed_users": [friend.user_id], "allowed_servers": ["nowhere.test"]},
        behaviour={"greet_on_join": False},
    )
    room_id = await create_group_room(friend, [bot.user_id, stranger.user_id])
    await join_room(stranger, room_id)
    await friend.wait_until(lambda: friend.is_joined(room_id, bot.user_id), what="bot joined")
    denied = await send_text(stranger, room_id, "!outils visio à 12 ?")
    allowed = await send_text(friend, room_id, "!outils visio à 12 ?")
    await collect_replies(friend, room_id, 20, replies_to(allowed), after=allowed)
    assert await collect_replies(stranger, room_id, 3, replies_to(denied), count=None) == []
    # The friend leaves: the room is now the stranger's private room with the bot. Told
    # once, politely, that the service is not theirs; then nothing more.
    await friend.client.room_leave(room_id)
    await stranger.wait_until(
        lambda: friend.user_id not in stranger.client.rooms[room_id].users, what="friend left"
    )
    first = await send_text(stranger, room_id, "visio à 12 ?")
    [notice] = await collect_replies(stranger, room_id, 20, replies_to(first), after=first)
    assert "n'est pas ouvert à votre compte" in notice.body
    second = await send_text(stranger, room_id, "et zoom ?")
    assert await collect_replies(stranger, room_id, 3, replies_to(second), count=None) == []
    assert "sender not allowed" in bot.log()


async def test_a_clock_two_hours_ahead_loses_no_question(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    site = tmp_path / "skew"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SKEW)
    bot = await start_bot(
        start=False,
        env={"PYTHONPATH": str(site), "TEST_CLOCK_SKEW": str(2 * 3600)},
        behaviour={"greet_on_join": False, "catch_up_max_age": "1h"},
    )
    await bot.astart()
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    question = await send_text(agent, room_id, "visio à 12 ?")
    await collect_replies(agent, room_id, 20, replies_to(question), after=question)


@pytest.mark.timeout(90)
async def test_a_sighup_while_waiting_for_the_homeserver_is_kept_not_fatal(
    homeserver: Homeserver, start_bot: BotFactory
) -> None:
    proxy = RecordingProxy(homeserver.url)
    await proxy.start()
    try:
        down = proxy.inject("GET", "/account/whoami", 502, times=-1)
        bot = await start_bot(start=False, matrix={"homeserver": proxy.url})
        process = asyncio.create_task(bot.astart(ready_timeout=60))
        while "whoami:" not in bot.log():  # noqa: ASYNC110 (a file, not an event)
            await asyncio.sleep(0.1)
        bot.send_signal(signal.SIGHUP)
        await asyncio.sleep(1)
        assert bot.running, bot.log()[-2000:]
        down.times = 0  # the homeserver is back
        await process
        log = bot.log()
        assert "SIGHUP received during start-up" in log
        assert "reloading the knowledge, as asked by a SIGHUP during start-up" in log
    finally:
        await proxy.stop()


async def test_a_wrong_pickle_key_exits_2_with_what_to_check(start_bot: BotFactory) -> None:
    bot = await start_bot()
    await bot.astop()
    bot.env["TCHAP_BOT_PICKLE_KEY"] = "another key of at least 32 characters"
    with pytest.raises(RuntimeError, match="exited with 2"):
        await bot.astart()
    log = bot.log_since_start()
    assert "the pickle key is not the one it was written with" in log
    assert "Traceback" not in log


async def test_the_data_directory_is_private_and_so_is_every_file(
    tmp_path: Path, start_bot: BotFactory
) -> None:
    bot = await start_bot(start=False)
    data = bot.directory / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    await bot.astart()
    await bot.astop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    loose = [
        str(p.relative_to(data))
        for p in data.rglob("*")
        if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    assert loose == []
    assert (data / "state.db").exists() and (data / "cross-signing.json").exists()
