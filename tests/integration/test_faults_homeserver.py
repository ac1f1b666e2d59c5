"""Synapse stopped and started again under the bot: bounded recovery, nothing lost.

(This extends what was `test_bot_recovers_when_the_homeserver_restarts`.)
"""

from __future__ import annotations

import asyncio
import time

import pytest

from .agents import collect_replies, send_text
from .botproc import BotFactory, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, HomeserverFactory
from .test_bot_resilience import answered_counts, dm_with_bot, replies_to

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
