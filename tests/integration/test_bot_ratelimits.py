"""A burst of questions under Synapse's default (Tchap-like) rate limits.

The bot may send 10 messages at once, then one every 5 s: 50 replies take ~200 s
whatever the bot does. What it must do: answer all, none twice, without a 429 storm.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from .agents import Agent, collect_replies, create_dm, relation, send_text, wait_for_join
from .botproc import BotFactory, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, HomeserverFactory

AGENTS = 10
QUESTIONS = 5
QUESTIONS_ASKED = ("visio", "audio conférence", "partager un fichier", "messagerie", "aide")


@pytest.mark.timeout(480)
async def test_burst_of_50_questions_under_default_limits(
    fresh_homeserver_factory: HomeserverFactory,
    make_agent: AgentFactory,
    start_bot: BotFactory,
) -> None:
    server = await fresh_homeserver_factory(ratelimits="default")
    bot = await start_bot(server, behaviour={"greet_on_join": False})
    agents: list[Agent] = [await make_agent(f"agent{i}", server=server) for i in range(AGENTS)]
    rooms = [await create_dm(agent, bot.user_id) for agent in agents]
    await asyncio.gather(
        *(wait_for_join(a, r, bot.user_id, timeout=60) for a, r in zip(agents, rooms, strict=True))
    )

    async def ask(agent: Agent, room_id: str) -> list[str]:
        return list(await asyncio.gather(*(send_text(agent, room_id, q) for q in QUESTIONS_ASKED)))

    started = time.monotonic()
    asked = await asyncio.gather(*(ask(a, r) for a, r in zip(agents, rooms, strict=True)))

    async def answers(agent: Agent, room_id: str, questions: list[str]) -> list[str]:
        wanted = set(questions)
        replies = await collect_replies(
            agent,
            room_id,
            predicate=lambda e: relation(e).get("m.in_reply_to", {}).get("event_id") in wanted,
            count=len(wanted),
            timeout=400,
        )
        return [relation(r)["m.in_reply_to"]["event_id"] for r in replies]

    got = await asyncio.gather(
        *(answers(a, r, q) for a, r, q in zip(agents, rooms, asked, strict=True))
    )
    elapsed = time.monotonic() - started
    answered = [event_id for per_agent in got for event_id in per_agent]
    assert len(answered) == AGENTS * QUESTIONS, f"{len(answered)} answered in {elapsed:.0f} s"
    assert len(set(answered)) == len(answered), "a question was answered twice"
    assert bot.running
    await bot.astop()
    stats = re.findall(r"sender: (\d+) sent, (\d+) rate-limited", bot.log())
    sent, limited = map(int, stats[-1])
    print(f"\n50 questions answered in {elapsed:.0f} s; {limited} responses 429; {sent} sent")
    assert limited <= 10, f"{limited} rate-limited responses: a retry storm"
