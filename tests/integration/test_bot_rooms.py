"""Group rooms, invitations, credentials: when the bot answers, joins, declines, stops."""

from __future__ import annotations

import pytest

from .agents import (
    Agent,
    collect_replies,
    create_dm,
    create_group_room,
    in_reply_to,
    join_room,
    relation,
    replies_to,
    send_text,
    wait_for_join,
)
from .botproc import BOT_DISPLAY_NAME, BotFactory, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory


async def group_with_bot(owner: Agent, other: Agent, bot_id: str) -> str:
    room_id = await create_group_room(owner, [bot_id, other.user_id], name="Équipe")
    await join_room(other, room_id)
    await wait_for_join(owner, room_id, bot_id)
    return room_id


async def test_group_room_answers_only_mentions_and_prefix(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    alice = await make_agent("alice")
    bob = await make_agent("bob")
    room_id = await group_with_bot(alice, bob, bot.user_id)

    # The greeting, once, with the menu.
    greetings = await collect_replies(alice, room_id, predicate=lambda e: in_reply_to(e) is None)
    assert greetings and greetings[0].source["content"]["msgtype"] == "m.notice"

    silent = await send_text(alice, room_id, "quelqu'un a un outil pour une visio ?")
    by_prefix = await send_text(alice, room_id, "!outils visio à 30 personnes")
    assert await collect_replies(alice, room_id, after=silent, predicate=replies_to(by_prefix))
    by_pill = await send_text(bob, room_id, "une audio conférence ?", mentions=[bot.user_id])
    await collect_replies(alice, room_id, after=by_prefix, predicate=replies_to(by_pill))
    # Named in the text without the ministry suffix, inside a reply's quoted fallback too.
    by_name = await send_text(
        bob,
        room_id,
        f"> <{alice.user_id}> visio ?\n\nOutils numériques : et pour partager un fichier ?",
    )
    await collect_replies(alice, room_id, after=by_pill, predicate=replies_to(by_name))
    quoted_only = await send_text(bob, room_id, f"> <{alice.user_id}> {BOT_DISPLAY_NAME}\n\nmerci")
    # The name as a word of a sentence is not an address (no flood of team rooms).
    in_sentence = await send_text(bob, room_id, "on devrait lister nos outils numériques")
    last = await send_text(alice, room_id, "!outils aide")
    await collect_replies(alice, room_id, after=by_name, predicate=replies_to(last))

    answered = {
        in_reply_to(e) for e in await collect_replies(alice, room_id, count=None, timeout=0)
    }
    assert silent not in answered
    assert quoted_only not in answered
    assert in_sentence not in answered
    assert {by_prefix, by_pill, by_name, last} <= answered


async def test_thread_question_is_answered_in_the_thread(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    root = await send_text(agent, room_id, "bonjour")
    await collect_replies(agent, room_id, after=root, predicate=replies_to(root))
    question = await send_text(
        agent,
        room_id,
        "et pour une visio ?",
        extra={"m.relates_to": {"rel_type": "m.thread", "event_id": root}},
    )
    [reply] = await collect_replies(agent, room_id, after=question, predicate=replies_to(question))
    rel = relation(reply)
    assert rel["rel_type"] == "m.thread" and rel["event_id"] == root
    assert rel["is_falling_back"] is False  # a real reply to the question in the thread
    assert rel["m.in_reply_to"]["event_id"] == question


async def test_invitations_from_disallowed_users_are_declined(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    friend = await make_agent("friend")
    stranger = await make_agent("stranger")
    # The session server is "localhost": only `friend` is allowed, by user pattern.
    bot = await start_bot(
        invites={"allowed_servers": ["agent.*.tchap.gouv.fr"], "allowed_users": [friend.user_id]}
    )
    refused = await create_dm(stranger, bot.user_id)
    accepted = await create_dm(friend, bot.user_id)
    await wait_for_join(friend, accepted, bot.user_id)

    def declined() -> bool:
        room = stranger.client.rooms.get(refused)
        return room is not None and bot.user_id not in room.users

    await stranger.wait_until(declined, what="invitation declined")
    assert "declining invitation" in bot.log()


async def test_invalid_token_stops_with_a_clear_message(start_bot: BotFactory) -> None:
    bot = await start_bot(start=False, env={"TCHAP_BOT_ACCESS_TOKEN": "syt_not_a_valid_token"})
    with pytest.raises(RuntimeError, match="exited with 1"):
        await bot.astart()
    assert "M_UNKNOWN_TOKEN" in bot.log()
    assert bot.log().count("whoami") <= 2  # no retry loop


async def test_bot_leaves_a_room_where_it_is_alone(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    await agent.client.room_leave(room_id)
    await agent.wait_until(lambda: f"alone in {room_id}" in bot.log(), what="bot left")
