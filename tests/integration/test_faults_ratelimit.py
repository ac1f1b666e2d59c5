"""429 from the homeserver: the bot waits what it was told, paces itself, loses nothing.

Synapse's own rate limiter answers the 429s (the bot's message rate is tightened with the
admin API); a recording proxy between the bot and Synapse notes when each send arrived
and what each 429 asked, so the test checks the bot never retried before `retry_after_ms`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from .agents import Agent, answered_counts, collect_replies, relation, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .homeserver import Homeserver
from .proxy import RecordingProxy

AGENTS = 2
QUESTIONS = 6
TOLERANCE_S = 0.05  # clock reading of the proxy vs. the homeserver's window


@pytest.fixture
async def proxy(homeserver: Homeserver) -> AsyncIterator[RecordingProxy]:
    recording = RecordingProxy(homeserver.url)
    await recording.start()
    try:
        yield recording
    finally:
        await recording.stop()


@pytest.mark.timeout(120)
async def test_429_waits_retry_after_and_loses_nothing(
    homeserver: Homeserver,
    proxy: RecordingProxy,
    make_agent: AgentFactory,
    start_bot: BotFactory,
) -> None:
    bot = await start_bot(
        start=False, matrix={"homeserver": proxy.url}, behaviour={"greet_on_join": False}
    )
    # Tighter than Tchap's limits so the test is short: 2 messages at once, then 1/s.
    await homeserver.aoverride_ratelimit(bot.user_id, messages_per_second=1, burst_count=2)
    await bot.astart()
    agents: list[Agent] = [await make_agent(f"agent{i}") for i in range(AGENTS)]
    rooms = [await dm_with_bot(agent, bot) for agent in agents]

    async def ask(agent: Agent, room_id: str) -> list[str]:
        return [await send_text(agent, room_id, f"visio à {n + 2}") for n in range(QUESTIONS)]

    asked = await asyncio.gather(*(ask(a, r) for a, r in zip(agents, rooms, strict=True)))

    async def all_answered(agent: Agent, room_id: str, questions: list[str]) -> None:
        wanted = set(questions)
        await collect_replies(
            agent,
            room_id,
            predicate=lambda e: relation(e).get("m.in_reply_to", {}).get("event_id") in wanted,
            count=len(wanted),
            timeout=60,
        )

    await asyncio.gather(
        *(all_answered(a, r, q) for a, r, q in zip(agents, rooms, asked, strict=True))
    )
    await asyncio.sleep(1.5)  # a duplicate would show up by now
    for agent, room_id, questions in zip(agents, rooms, asked, strict=True):
        counts = await answered_counts(agent, room_id)
        assert all(counts[q] == 1 for q in questions), counts

    sends = proxy.sends()
    limited = [(i, e) for i, e in enumerate(sends) if e.status == 429]
    assert limited, "the tightened limit never answered 429: the test proves nothing"
    gaps = []
    for index, refused in limited:
        assert refused.retry_after_ms is not None
        if index + 1 < len(sends):
            gap = sends[index + 1].started - refused.ended
            gaps.append((gap, refused.retry_after_ms / 1000))
            assert gap >= refused.retry_after_ms / 1000 - TOLERANCE_S, (gap, refused)
    # Pacing converges in a few 429s (a storm would be about one per reply, or more).
    assert len(limited) <= AGENTS * QUESTIONS // 2, f"{len(limited)} x 429 for {len(sends)} sends"

    assert await bot.astop() == 0
    sent, rate_limited = map(
        int, re.findall(r"sender: (\d+) sent, (\d+) rate-limited", bot.log())[-1]
    )
    assert rate_limited == len(limited)
    assert sent == AGENTS * QUESTIONS
    print(
        f"\n{len(sends)} sends, {len(limited)} x 429; gaps after a 429 (waited, asked): "
        + ", ".join(f"{g:.2f}/{a:.2f} s" for g, a in gaps)
    )
