"""Synapse stopped and started again under the bot: bounded recovery, nothing lost.

(This extends what was `test_bot_recovers_when_the_homeserver_restarts`.)
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from .agents import answered_counts, collect_replies, replies_to, send_text
from .botproc import BotFactory, BotProcess, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, HomeserverFactory

DOWNTIME_S = 4.0  # longer than the test config's sync.backoff_max (2 s)
RECOVERY_BOUND_S = 10.0  # server healthy -> the questions asked then are answered


@pytest.mark.timeout(120)
async def test_bot_recovers_when_the_homeserver_stops_and_starts(
    fresh_homeserver_factory: HomeserverFactory,
    make_agent: AgentFactory,
    start_bot: BotFactory,
) -> None:
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    bot = await start_bot(server, behaviour={"greet_on_join": False})
    agent = await make_agent("agent", server=server)
    room_id = await dm_with_bot(agent, bot)
    before = await send_text(agent, room_id, "visio")
    await collect_replies(agent, room_id, after=before, predicate=replies_to(before))

    # Asked just before the server goes away: the bot may not have seen it yet.
    last_moment = await send_text(agent, room_id, "partager un fichier")
    await server.astop()
    await asyncio.sleep(DOWNTIME_S)
    assert bot.running
    await server.astart()
    up = time.monotonic()
    during = [
        await send_text(agent, room_id, q, timeout=30)
        for q in ("audio conférence", "messagerie instantanée")
    ]
    for event_id in [last_moment, *during]:
        await collect_replies(
            agent, room_id, after=before, predicate=replies_to(event_id), timeout=30
        )
    recovery = time.monotonic() - up
    assert recovery <= RECOVERY_BOUND_S, f"answered {recovery:.1f} s after the server was back"
    assert bot.running
    await asyncio.sleep(1)
    counts = await answered_counts(agent, room_id)
    assert all(counts[e] == 1 for e in [before, last_moment, *during]), counts
    log = bot.log()
    assert "sync failed" in log and "sync recovered" in log
    print(f"\nanswered {recovery:.1f} s after the homeserver was healthy again")


async def wait_for_log(bot: BotProcess, text: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while text not in bot.log_since_start():
        exited = bot.pid is not None and not bot.running  # (None: not spawned yet)
        assert not exited, f"bot exited ({bot.returncode}):\n{bot.log_since_start()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} in:\n{bot.log_since_start()[-3000:]}"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(120)
async def test_bot_started_while_the_homeserver_is_down_waits_for_it(
    fresh_homeserver_factory: HomeserverFactory,
    make_agent: AgentFactory,
    start_bot: BotFactory,
) -> None:
    """A reboot during an outage: the bot keeps trying (no exit 1, which systemd would
    not restart) and answers once the homeserver is back."""
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    bot = await start_bot(server, start=False, behaviour={"greet_on_join": False})
    await server.astop()
    starting = asyncio.create_task(bot.astart(ready_timeout=90))
    await wait_for_log(bot, "whoami: homeserver unreachable")
    await asyncio.sleep(2 * DOWNTIME_S)
    assert bot.running and not starting.done()
    # The sync loop's backoff: capped at the config's sync.backoff_max (2 s here).
    delays = [float(d) for d in re.findall(r"unreachable .*retrying in ([\d.]+) s", bot.log())]
    assert len(delays) >= 4 and max(delays) <= 2.0, delays

    await server.astart()
    up = time.monotonic()
    await starting
    assert time.monotonic() - up < RECOVERY_BOUND_S
    agent = await make_agent("agent", server=server)
    room_id = await dm_with_bot(agent, bot)
    question = await send_text(agent, room_id, "visio")
    await collect_replies(agent, room_id, after=question, predicate=replies_to(question))


@pytest.mark.timeout(60)
async def test_sigterm_while_waiting_for_the_homeserver_stops_cleanly(
    fresh_homeserver_factory: HomeserverFactory, start_bot: BotFactory
) -> None:
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    bot = await start_bot(server, start=False)
    await server.astop()
    starting = asyncio.create_task(bot.astart(ready_timeout=60))
    await wait_for_log(bot, "homeserver unreachable")
    began = time.monotonic()
    assert await bot.astop(grace=10) == 0
    assert time.monotonic() - began < 5
    assert "stopped before the homeserver could be reached" in bot.log()
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
