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
        ("Outils numériques", True, ""),
        ("@Outils numériques [Intérieur] visio", True, "visio"),
        ("outils-interieur.gouv.fr, visio", True, "visio"),
        ("une visio, @Outils numériques ?", True, "une visio ?"),
        ("bonjour @outils-interieur.gouv.fr visio", True, "bonjour visio"),
        (f"visio {BOT} ?", True, "visio ?"),
        # A plain name inside a sentence is a word of it, not an address.
        ("une visio, Outils numériques ?", False, "une visio, Outils numériques ?"),
        ("on devrait lister nos outils numériques", False, None),
        ("nos Outils numériques [Intérieur] sont où ?", False, None),
        ("voir outils-interieur.gouv.fr, visio", False, None),
        ("Outils numériquesXYZ visio", False, None),
        ("mes outils numériquesXYZ", False, None),
        ("une visio ?", False, None),
    ],
)
def test_find_mention(text: str, found: bool, rest: str | None) -> None:
    assert find_mention(text, NAMES) == (found, text if rest is None else rest)


def pill(text: str, user_id: str = BOT) -> dict[str, Any]:
    link = f'<a href="https://matrix.to/#/{user_id}">Outils numériques</a>'
    return {"format": "org.matrix.custom.html", "formatted_body": text.replace("PILL", link)}


def test_a_group_sentence_naming_the_tools_is_not_answered() -> None:
    msg = incoming("on devrait lister nos outils numériques")
    assert decide(msg, room(5), POLICY, NOW).reason == "not_addressed"


def test_a_pill_counts_anywhere_but_not_in_the_quoted_reply() -> None:
    msg = incoming("bonjour Outils numériques visio ?", **pill("bonjour PILL visio ?"))
    decision = decide(msg, room(5), POLICY, NOW)
    assert (decision.answer, decision.question) == (True, "bonjour visio ?")
    encoded = incoming("salut Outils numériques", **pill("salut PILL", BOT.replace("@", "%40")))
    assert decide(encoded, room(5), POLICY, NOW).answer
    other = incoming("bonjour Paul visio ?", **pill("bonjour PILL visio ?", "@paul:hs"))
    assert not decide(other, room(5), POLICY, NOW).answer
    quoted = pill("<mx-reply><blockquote>PILL a dit</blockquote></mx-reply>merci à tous")
    reply = incoming("> <@outils:hs> a dit\n\nmerci à tous", **quoted)
    assert decide(reply, room(5), POLICY, NOW).reason == "not_addressed"


def test_m_mentions_removes_the_name_wherever_it_is() -> None:
    msg = incoming("merci Outils numériques, visio ?", **{"m.mentions": {"user_ids": [BOT]}})
    assert decide(msg, room(5), POLICY, NOW).question == "merci visio ?"


def test_mention_patterns_are_compiled_once() -> None:
    from bot.matrix import mentions

    mentions._patterns.cache_clear()
    for text in ("visio", "Outils numériques visio", "@outils-interieur.gouv.fr ?"):
        find_mention(text, NAMES)
    info = mentions._patterns.cache_info()
    assert (info.misses, info.hits) == (1, 2)


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
        (incoming("photo.jpg", msgtype="m.image"), 2, False, "media", ""),  # text-only notice
        (incoming("photo.jpg", msgtype="m.image"), 5, False, "not_text", ""),
        (incoming("photo.jpg", msgtype="m.image", ts=NOW - 120_000), 2, False, "history", ""),
        # An edit without its new content (or of nothing) is not read.
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


def edit(new: dict[str, Any]) -> Incoming:
    relates = {"rel_type": "m.replace", "event_id": "$original"}
    return incoming(
        "* " + str(new.get("body", "")), **{"m.relates_to": relates, "m.new_content": new}
    )


@pytest.mark.parametrize(
    ("msg", "members", "answer", "reason", "question"),
    [
        # The typo corrected: the new text is the question.
        (edit({"msgtype": "m.text", "body": "visio à 60 ?"}), 2, True, "direct", "visio à 60 ?"),
        # The bot's name added in a team room: now it is addressed.
        (
            edit({"msgtype": "m.text", "body": "Outils numériques : visio à 60 ?"}),
            5,
            True,
            "mention",
            "visio à 60 ?",
        ),
        (edit({"msgtype": "m.text", "body": "visio à 60 ?"}), 5, False, "not_addressed", ""),
        # A photo put in the place of the text gets no notice again.
        (edit({"msgtype": "m.image", "body": "photo.jpg"}), 2, False, "edit", ""),
        # Relations inside the new content are not followed (no edit of an edit).
        (
            edit(
                {
                    "msgtype": "m.text",
                    "body": "visio",
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"},
                }
            ),
            2,
            True,
            "direct",
            "visio",
        ),
    ],
)
def test_an_edit_is_the_message_as_it_now_reads(
    msg: Incoming, members: int, answer: bool, reason: str, question: str
) -> None:
    decision = decide(msg, room(members), POLICY, NOW)
    assert (decision.answer, decision.reason, decision.question) == (answer, reason, question)
    assert decision.edited == ("$original" if answer else None)
