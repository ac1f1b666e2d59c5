"""The bot in an encrypted direct chat, on a real Synapse."""

from __future__ import annotations

from .agents import collect_replies, create_dm, relation, replies_to, send_text, wait_for_join
from .botproc import BotFactory, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory


async def test_encrypted_dm_question_gets_an_html_notice_in_reply(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot()
    agent = await make_agent("agent")
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    question = await send_text(agent, room_id, "quel outil pour une visio à 30 personnes ?")
    [reply] = await collect_replies(agent, room_id, after=question, predicate=replies_to(question))
    content = reply.source["content"]
    assert agent.client.rooms[room_id].encrypted
    assert reply.source["type"] == "m.room.message"  # decrypted by the agent's client
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"].strip()
    assert content["body"].strip()
    assert relation(reply)["m.in_reply_to"]["event_id"] == question


async def test_a_photo_in_an_encrypted_dm_gets_a_text_only_notice_then_questions_go_on(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("photographer")
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    # As Element sends an image in an encrypted room: the attachment's key in "file".
    attachment = {
        "url": "mxc://localhost/x",
        "key": {
            "kty": "oct",
            "key_ops": ["encrypt", "decrypt"],
            "alg": "A256CTR",
            "k": "qcHVMSgYg-71CauWBezXI5qkaRb0LuIy-Wx5kIaHMIA",
            "ext": True,
        },
        "iv": "X85+XgHN+HEAAAAAAAAAAA",
        "hashes": {"sha256": "5qG4fFnbbVdlAB1Q72JDKwCagV6Dbkx9uds4rSak37c"},
        "v": "v2",
    }
    photo = await send_text(
        agent, room_id, "capture.png", msgtype="m.image", extra={"file": attachment}
    )
    [notice] = await collect_replies(agent, room_id, after=photo, predicate=replies_to(photo))
    assert notice.source["content"]["body"].startswith("Je ne lis que les messages écrits")
    question = await send_text(agent, room_id, "visio à 8")
    [reply] = await collect_replies(agent, room_id, after=question, predicate=replies_to(question))
    assert "WebConférence" in reply.source["content"]["body"]


async def test_an_edited_question_is_answered_on_its_new_text_under_it(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False})
    agent = await make_agent("editor")
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    question = await send_text(agent, room_id, "visio a 60")
    [first] = await collect_replies(agent, room_id, after=question, predicate=replies_to(question))
    assert "Lifesize" in first.source["content"]["body"]
    # As Element edits a message: the new text in m.new_content, "* " before the fallback.
    new = {"msgtype": "m.text", "body": "audio à 6"}
    edited = {"m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": question}}
    edit = await send_text(agent, room_id, "* audio à 6", extra=edited)
    [again] = await collect_replies(agent, room_id, after=edit, predicate=replies_to(question))
    assert "audio conférence" in again.source["content"]["body"]
    assert relation(again)["m.in_reply_to"]["event_id"] == question
