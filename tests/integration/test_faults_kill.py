"""The bot SIGKILLed under load, then restarted: every question answered exactly once.

The bot's message rate is tightened (admin API) so that replies are still queued when
the process dies; questions are also asked while it is dead. After the restart, replies
already sent but not yet recorded are sent again with the same transaction id (derived
from the question's event id) and the homeserver de-duplicates them.
"""

from __future__ import annotations

import asyncio

import pytest

from .agents import Agent, answered_counts, collect_replies, in_reply_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .homeserver import Homeserver

AGENTS = 3
QUESTIONS = 8
WHILE_DEAD = 2


@pytest.mark.timeout(120)
async def test_sigkill_under_load_then_restart_answers_each_question_once(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(start=False, behaviour={"greet_on_join": False})
    await homeserver.aoverride_ratelimit(bot.user_id, messages_per_second=4, burst_count=4)
    await bot.astart()
    agents: list[Agent] = [await make_agent(f"agent{i}") for i in range(AGENTS)]
    rooms = [await dm_with_bot(agent, bot) for agent in agents]

    async def ask(agent: Agent, room_id: str, count: int) -> list[str]:
        return [await send_text(agent, room_id, f"visio à {n + 2}") for n in range(count)]

    asked = await asyncio.gather(
        *(ask(a, r, QUESTIONS) for a, r in zip(agents, rooms, strict=True))
    )

    def replies_seen() -> int:
        return sum(
            1
            for agent, room_id in zip(agents, rooms, strict=True)
            for event in agent.timeline(room_id)
            if in_reply_to(event) is not None
        )

    await agents[0].wait_until(lambda: replies_seen() >= 5, timeout=30, what="5 replies")
    await bot.akill()
    at_kill = replies_seen()
    assert at_kill < AGENTS * QUESTIONS, "all answered before the kill: not under load"
    more = await asyncio.gather(
        *(ask(a, r, WHILE_DEAD) for a, r in zip(agents, rooms, strict=True))
    )
    await bot.astart()

    async def all_answered(agent: Agent, room_id: str, questions: list[str]) -> None:
        wanted = set(questions)
        await collect_replies(
            agent, room_id, predicate=lambda e: in_reply_to(e) in wanted, count=len(wanted),
            timeout=40,
        )  # fmt: skip

    everything = [q + m for q, m in zip(asked, more, strict=True)]
    await asyncio.gather(
        *(all_answered(a, r, q) for a, r, q in zip(agents, rooms, everything, strict=True))
    )
    await asyncio.sleep(2)  # a late duplicate would show up by now
    for agent, room_id, questions in zip(agents, rooms, everything, strict=True):
        counts = await answered_counts(agent, room_id)
        assert all(counts[q] == 1 for q in questions), counts
    print(f"\nkilled with {at_kill}/{AGENTS * QUESTIONS} answered; all answered once after restart")
