"""Conversations with the bot on a real Synapse: the thread is kept per (room, agent).

A question, an attribute follow-up and a correction in an encrypted direct chat; then the
same kind of conversation in a group room where the agent mentions the bot each time, with
another member asking in between, whose context is not the agent's.
"""

from __future__ import annotations

from .agents import (
    Agent,
    collect_replies,
    create_group_room,
    join_room,
    replies_to,
    send_text,
    wait_for_join,
)
from .botproc import BOT_DISPLAY_NAME, BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory


async def ask(agent: Agent, room_id: str, text: str, bot_id: str | None = None) -> str:
    """The bot's plain-text reply to one message (mentioning the bot when ``bot_id``)."""
    if bot_id is None:
        question = await send_text(agent, room_id, text)
    else:
        name = BOT_DISPLAY_NAME.split(" [")[0]
        pill = f'<a href="https://matrix.to/#/{bot_id}">{name}</a>'
        question = await send_text(
            agent, room_id, f"{name} : {text}", mentions=[bot_id], html=f"{pill} : {text}"
        )
    [reply] = await collect_replies(agent, room_id, after=question, predicate=replies_to(question))
    return str(reply.source["content"]["body"])


async def test_encrypted_dm_keeps_the_thread(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    assert agent.client.rooms[room_id].encrypted

    first = await ask(agent, room_id, "visio à 8")
    assert "webconf.numerique.gouv.fr" in first
    assert "Scaleway" not in first  # salons of more than 5 are discouraged: not offered
    # An attribute of the tool just named, with nothing else said.
    vpn = await ask(agent, room_id, "il faut un VPN ?")
    assert vpn.startswith("Oui") and "VPN" in vpn
    # A correction keeps the count of 8: the audio service, not the mobile (2 or 3).
    phone = await ask(agent, room_id, "non, plutôt par téléphone")
    assert "audio.mtes.fr" in phone
    assert "webconf" not in phone


async def test_group_room_keeps_each_agents_thread(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    alice = await make_agent("alice")
    bob = await make_agent("bob")
    room_id = await create_group_room(alice, [bot.user_id, bob.user_id], name="Équipe")
    await join_room(bob, room_id)
    await wait_for_join(alice, room_id, bot.user_id)

    tixeo = await ask(alice, room_id, "tixeo ?", bot.user_id)
    assert "tixeo.com" in tixeo
    # Bob's question in between has no context of his own: Alice's Tixéo is not his.
    other = await ask(bob, room_id, "c'est payant ?", bot.user_id)
    assert "30 jours" not in other
    price = await ask(alice, room_id, "c'est payant ?", bot.user_id)
    assert "30 jours" in price and "Jitsi" not in price
    corrected = await ask(alice, room_id, "en fait je voulais dire lifesize", bot.user_id)
    assert "soutien-it.ac@developpement-durable.gouv.fr" in corrected
