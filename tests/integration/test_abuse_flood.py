"""One agent flooding the bot does not delay the others (fair queueing), and an agent
with too many questions waiting gets one short notice instead of more answers.

The bot's message rate is tightened with the admin API so that a backlog builds up, as
it would under Tchap's limits (10 at once, then one every 5 s), in seconds instead of
minutes.
"""

from __future__ import annotations

import time

import pytest

from .agents import (
    Agent,
    answered_counts,
    collect_replies,
    create_group_room,
    in_reply_to,
    join_room,
    replies_to,
    send_text,
    wait_for_join,
)
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .homeserver import Homeserver

FLOOD = 30
NOTICE = "beaucoup de questions"


@pytest.mark.timeout(120)
async def test_one_agent_flooding_a_shared_room_does_not_delay_another(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(
        start=False, behaviour={"greet_on_join": False, "max_queued_per_agent": 100}
    )
    await homeserver.aoverride_ratelimit(bot.user_id, messages_per_second=3, burst_count=3)
    await bot.astart()
    flooder, other = await make_agent("flooder"), await make_agent("other")
    room_id = await create_group_room(flooder, [bot.user_id, other.user_id], name="Équipe")
    await join_room(other, room_id)
    await wait_for_join(flooder, room_id, bot.user_id)

    flood = [await send_text(flooder, room_id, f"!outils visio à {n + 2}") for n in range(FLOOD)]
    asked_at = time.monotonic()
    single = await send_text(other, room_id, "!outils partager un fichier")
    await collect_replies(other, room_id, after=single, predicate=replies_to(single), timeout=20)
    waited = time.monotonic() - asked_at
    flood_done_before = sum(
        1 for e in other.timeline(room_id) if in_reply_to(e) in set(flood)
    )  # fmt: skip
    assert flood_done_before < FLOOD, "the flood was already answered: nothing proven"
    assert waited < 5, f"the other agent waited {waited:.1f} s behind the flood"

    wanted = set(flood)
    await collect_replies(
        flooder, room_id, predicate=lambda e: in_reply_to(e) in wanted, count=FLOOD, timeout=40
    )
    counts = await answered_counts(flooder, room_id)
    assert all(counts[q] == 1 for q in [*flood, single]), counts
    print(
        f"\nthe other agent answered in {waited:.1f} s, with {FLOOD - flood_done_before} of "
        f"the flood's {FLOOD} replies still waiting"
    )


@pytest.mark.timeout(90)
async def test_an_agent_over_the_cap_gets_one_notice_and_others_are_served(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(
        start=False, behaviour={"greet_on_join": False, "max_queued_per_agent": 3}
    )
    await homeserver.aoverride_ratelimit(bot.user_id, messages_per_second=1, burst_count=1)
    await bot.astart()
    flooder, other = await make_agent("flooder"), await make_agent("other")
    flooder_room = await dm_with_bot(flooder, bot)
    other_room = await dm_with_bot(other, bot)

    asked = [await send_text(flooder, flooder_room, f"visio à {n + 2}") for n in range(10)]
    single = await send_text(other, other_room, "partager un fichier")
    await collect_replies(other, other_room, after=single, predicate=replies_to(single), timeout=15)

    def settled(agent: Agent = flooder) -> bool:
        return sum(1 for e in agent.timeline(flooder_room) if in_reply_to(e) in set(asked)) >= 4

    await flooder.wait_until(settled, timeout=30, what="the flood's replies")
    await collect_replies(flooder_room_agent := flooder, flooder_room, count=None, timeout=3)
    replies = [e for e in flooder_room_agent.timeline(flooder_room) if in_reply_to(e) in set(asked)]
    notices = [e for e in replies if NOTICE in e.source["content"]["body"]]
    answers = [e for e in replies if NOTICE not in e.source["content"]["body"]]
    assert len(notices) == 1, [e.source["content"]["body"][:60] for e in replies]
    assert 3 <= len(answers) < len(asked)
    counts = await answered_counts(flooder, flooder_room)
    assert all(counts[q] <= 1 for q in asked), counts
    assert "asked to slow down" in bot.log()


@pytest.mark.timeout(120)
async def test_one_agent_flooding_from_several_dms_does_not_delay_another(
    homeserver: Homeserver, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    """Fairness is per agent, not per room: six DMs of one agent get one turn together."""
    bot = await start_bot(
        start=False, behaviour={"greet_on_join": False, "max_queued_per_agent": 100}
    )
    await homeserver.aoverride_ratelimit(bot.user_id, messages_per_second=3, burst_count=3)
    await bot.astart()
    flooder, other = await make_agent("flooder"), await make_agent("other")
    rooms = [await dm_with_bot(flooder, bot) for _ in range(6)]
    other_room = await dm_with_bot(other, bot)
    # Unloaded: the other agent's own latency, for the comparison.
    started = time.monotonic()
    alone = await send_text(other, other_room, "audio à 6 ?")
    await collect_replies(other, other_room, after=alone, predicate=replies_to(alone), timeout=20)
    unloaded = time.monotonic() - started

    flood = [await send_text(flooder, room, f"visio à {n + 2}") for n in range(4) for room in rooms]
    started = time.monotonic()
    single = await send_text(other, other_room, "partager un fichier")
    [reply] = await collect_replies(
        other, other_room, after=single, predicate=replies_to(single), timeout=20
    )
    loaded = time.monotonic() - started
    done_before = sum(
        1 for room in rooms for e in flooder.timeline(room) if in_reply_to(e) in set(flood)
    )
    assert done_before < len(flood), "the flood was already answered: nothing proven"
    # Fairness by the homeserver's own order, not by the clock (a 429's pause moves the
    # clock): once the other agent asked, at most the flood reply in flight and the one
    # whose turn had come went out before its reply; a queue per room would send six.
    [asked] = [e for e in other.timeline(other_room) if getattr(e, "event_id", None) == single]
    flood_between = [
        e
        for room in rooms
        for e in flooder.timeline(room)
        if in_reply_to(e) in set(flood)
        and asked.server_timestamp <= e.server_timestamp <= reply.server_timestamp
    ]
    assert len(flood_between) <= 2, len(flood_between)
    print(
        f"\nunloaded {unloaded:.2f} s, with a flood from 6 DMs {loaded:.2f} s "
        f"({len(flood_between)} flood replies in between)"
    )
