"""When the bot answers: mentions, prefix, DMs, and what it ignores (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest
from nio import RoomMessageText

from bot.matrix.filters import Incoming, Policy, RoomFacts, decide
from bot.matrix.mentions import find_mention, name_variants, strip_prefix, strip_reply_fallback

BOT = "@outils-interieur.gouv.fr:agent.interieur.tchap.gouv.fr"
NAMES = name_variants(BOT, ["Outils numériques [Intérieur]"])
NOW = 1_700_000_000_000
POLICY = Policy(command_prefix="!outils", ignored_users=("@*-bot:*",), max_age_ms=3_600_000)


def incoming(body: str, **content: Any) -> Incoming:
    """An ``Incoming`` built from a real nio event, as the router does."""
    source = {
        "type": "m.room.message",
        "event_id": "$q",
        "sender": content.pop("sender", "@jeanne:agent.interieur.tchap.gouv.fr"),
        "origin_server_ts": content.pop("ts", NOW - 1000),
        "content": {"msgtype": content.pop("msgtype", "m.text"), "body": body, **content},
    }
    event = RoomMessageText.from_dict(source)
    c = event.source["content"]
    return Incoming(
        event.event_id, event.sender, event.server_timestamp, c["msgtype"], c["body"], c
    )


def room(members: int) -> RoomFacts:
    return RoomFacts("!r:hs", members, BOT, NAMES, since_ts=NOW - 60_000)


def test_name_variants_include_display_name_without_ministry_suffix() -> None:
    assert "Outils numériques" in NAMES
    assert "Outils numériques [Intérieur]" in NAMES
    assert "outils-interieur.gouv.fr" in NAMES


@pytest.mark.parametrize(
    ("text", "found", "rest"),
    [
        ("Outils numériques : une visio ?", True, "une visio ?"),
        ("outils numériques [Intérieur], une visio ?", True, "une visio ?"),
        ("@outils-interieur.gouv.fr visio", True, "visio"),
        ("une visio, Outils numériques ?", True, "une visio ?"),
        ("mes outils numériquesXYZ", False, "mes outils numériquesXYZ"),
        ("une visio ?", False, "une visio ?"),
    ],
)
def test_find_mention(text: str, found: bool, rest: str) -> None:
    assert find_mention(text, NAMES) == (found, rest)


def test_reply_fallback_is_stripped() -> None:
    body = "> <@a:hs> Outils numériques ?\n> suite\n\nmerci"
    assert strip_reply_fallback(body) == "merci"
    assert strip_reply_fallback("pas de citation") == "pas de citation"


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("!outils visio", "visio"),
        ("!OUTILS: visio", "visio"),
        ("!outils", ""),
        ("!outilsX visio", None),
        ("visio !outils", None),
    ],
)
def test_strip_prefix(text: str, rest: str | None) -> None:
    assert strip_prefix(text, "!outils") == rest


@pytest.mark.parametrize(
    ("msg", "members", "answer", "reason", "question"),
    [
        (incoming("visio ?"), 2, True, "direct", "visio ?"),
        (incoming("visio ?"), 5, False, "not_addressed", ""),
        (incoming("!outils visio ?"), 5, True, "prefix", "visio ?"),
        (incoming("!outils"), 5, True, "prefix", "aide"),
        (incoming("Outils numériques : visio ?"), 5, True, "mention", "visio ?"),
        (incoming("visio ?", **{"m.mentions": {"user_ids": [BOT]}}), 5, True, "mention", "visio ?"),
        (incoming("> <@a:hs> Outils numériques\n\nvisio ?"), 5, False, "not_addressed", ""),
        (incoming("visio", sender=BOT), 2, False, "own", ""),
        (incoming("visio", sender="@alerte-bot:hs"), 2, False, "ignored_user", ""),
        (incoming("visio", msgtype="m.notice"), 2, False, "notice", ""),
        (incoming("visio", msgtype="m.emote"), 2, False, "not_text", ""),
        (
            incoming("* visio", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$o"}}),
            2,
            False,
            "edit",
            "",
        ),
        (incoming("visio", ts=NOW - 120_000), 2, False, "history", ""),
    ],
)
def test_decide(msg: Incoming, members: int, answer: bool, reason: str, question: str) -> None:
    decision = decide(msg, room(members), POLICY, NOW)
    assert (decision.answer, decision.reason, decision.question) == (answer, reason, question)


def test_too_old_after_downtime() -> None:
    old = RoomFacts("!r:hs", 2, BOT, NAMES, since_ts=0)
    decision = decide(incoming("visio", ts=NOW - 3_600_001), old, POLICY, NOW)
    assert decision.reason == "too_old"


def test_thread_root_is_kept() -> None:
    msg = incoming("visio", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}})
    assert decide(msg, room(2), POLICY, NOW).thread_root == "$root"


def test_long_messages_are_cut() -> None:
    decision = decide(incoming("a" * 100_000), room(2), POLICY, NOW)
    assert len(decision.question) == 2000
