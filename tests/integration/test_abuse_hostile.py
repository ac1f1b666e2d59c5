"""Hostile and malformed messages on the real homeserver: the bot neither crashes nor
stalls, its replies stay bounded and escaped, and it still answers the next question.

(The core's own hostile-input suite, with 240 generated messages and hypothesis
properties, is tests/unit/test_hostile_input.py; this one goes through Synapse, nio's
event parsing and the bot's routing, in an encrypted direct chat.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .agents import collect_replies, replies_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory

MAX_BODY = 6000
ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "a", "ul", "ol", "li", "code"}

# Content that no Matrix client should send, but any account can.
MALFORMED: list[dict[str, Any]] = [
    {"body": 12345},
    {"body": None},
    {"body": ["visio"]},
    {"msgtype": 7},
    {"m.mentions": "everyone"},
    {"m.mentions": {"user_ids": "not-a-list"}},
    {"m.relates_to": "garbage"},
    {"m.relates_to": {"rel_type": "m.replace"}},  # an edit without its new content
    {"m.relates_to": {"m.in_reply_to": "nope"}},
    {"format": "org.matrix.custom.html", "formatted_body": {"x": 1}},
]
HOSTILE_TEXTS = [
    "x" * 40_000,  # near Synapse's 64 KiB event limit once encrypted (base64)
    "\u202e\u200bzoom\u200d\ufeff",
    "<script>alert(1)</script> visio <img src=x onerror=alert(1)>",
    "[clic](javascript:alert(1)) **tixeo**",
    "😀" * 2000,
    "visio à 99999999999 personnes",
    "\x00\x07\x1b[31m tchap",
    "%s %n {0} ${x} {{7*7}} '; DROP TABLE state; --",
]


@pytest.mark.timeout(120)
async def test_malformed_and_hostile_messages_leave_the_bot_answering(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(behaviour={"greet_on_join": False, "max_queued_per_agent": 100})
    agent = await make_agent("hostile")
    room_id = await dm_with_bot(agent, bot)

    for extra in MALFORMED:
        await send_text(agent, room_id, "zoom", extra=extra)
    hostile = [await send_text(agent, room_id, text) for text in HOSTILE_TEXTS]
    last = await send_text(agent, room_id, "visio à 60 personnes")

    [answer] = await collect_replies(agent, room_id, predicate=replies_to(last), timeout=30)
    assert "Lifesize" in answer.source["content"]["body"]
    assert bot.running, bot.log_since_start()

    wanted = set(hostile)
    replies = await collect_replies(
        agent,
        room_id,
        predicate=lambda e: replies_to_any(e, wanted),
        count=len(wanted),
        timeout=30,
    )
    assert len(replies) == len(wanted)  # every hostile text got exactly one bounded reply
    for reply in [*replies, answer]:
        content = reply.source["content"]
        assert len(content["body"]) <= MAX_BODY
        html = content["formatted_body"]
        assert set(re.findall(r"</?([a-zA-Z0-9]+)", html)) <= ALLOWED_TAGS
        assert "onerror" not in html and "javascript:" not in html
    assert "Traceback" not in bot.log_since_start()


def replies_to_any(event: object, wanted: set[str]) -> bool:
    return any(replies_to(event_id)(event) for event_id in wanted)
