"""Restarts and a failing handler: nothing lost, nothing twice (the homeserver restart is in
test_faults_homeserver.py)."""

from __future__ import annotations

from .agents import (
    answered_counts,
    collect_replies,
    replies_to,
    send_text,
)
from .botproc import BotFactory, BotProcess, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .faulty_bot import FAULT_MESSAGE, FAULT_TRIGGER_ENV


async def test_questions_sent_while_stopped_are_answered_once_after_restart(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    first = await send_text(agent, room_id, "visio")
    await collect_replies(agent, room_id, after=first, predicate=replies_to(first))

    assert await bot.astop() == 0
    asked = [
        await send_text(agent, room_id, q)
        for q in ("audio conférence", "partager un fichier", "messagerie instantanée")
    ]
    await bot.astart()
    for event_id in asked:
        await collect_replies(agent, room_id, after=first, predicate=replies_to(event_id))

    # Restart again: nothing is answered a second time (a new question goes through).
    assert await bot.astop() == 0
    await bot.astart()
    last = await send_text(agent, room_id, "aide")
    await collect_replies(agent, room_id, after=last, predicate=replies_to(last))
    counts = await answered_counts(agent, room_id)
    assert all(counts[e] == 1 for e in [first, *asked, last]), counts


async def test_a_failing_handler_does_not_stop_the_bot(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    trigger = "déclenche une panne de test"
    # The real bot, started through a test-only entry point that makes its answer
    # function raise on the trigger (tests/integration/faulty_bot.py).
    bot = await start_bot(
        behaviour={"greet_on_join": False},
        env={FAULT_TRIGGER_ENV: trigger},
        entry="tests.integration.faulty_bot",
    )
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    boom = await send_text(agent, room_id, trigger)
    after = await send_text(agent, room_id, "visio à 10 personnes")
    [notice] = await collect_replies(agent, room_id, after=boom, predicate=replies_to(boom))
    assert "une erreur est survenue" in notice.source["content"]["body"]
    await collect_replies(agent, room_id, after=boom, predicate=replies_to(after))
    assert bot.running
    assert FAULT_MESSAGE in bot.log()
    # Answered once (by the notice): not again after a restart.
    assert await bot.astop() == 0
    await bot.astart()
    again = await send_text(agent, room_id, "partager un fichier")
    await collect_replies(agent, room_id, after=again, predicate=replies_to(again))
    assert (await answered_counts(agent, room_id))[boom] == 1


async def test_limited_timeline_after_restart_is_fetched_not_skipped(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False}, sync={"timeline_limit": 3})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    first = await send_text(agent, room_id, "visio")
    await collect_replies(agent, room_id, after=first, predicate=replies_to(first))
    assert await bot.astop() == 0
    asked = [await send_text(agent, room_id, f"visio à {n} personnes") for n in range(2, 10)]
    await bot.astart()
    for event_id in asked:
        await collect_replies(agent, room_id, after=first, predicate=replies_to(event_id))
    counts = await answered_counts(agent, room_id)
    assert all(counts[e] == 1 for e in asked), counts
    assert "was limited" in bot.log_since_start()
