"""When the bot answers a message: pure decisions over the event and facts about its room.

No nio here: ``callbacks`` turns nio events into ``Incoming`` and rooms into ``RoomFacts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from bot.matrix.mentions import (
    find_mention,
    has_pill,
    remove_name,
    strip_prefix,
    strip_reply_fallback,
)

HELP_QUESTION = "aide"  # what an empty address ("!outils" alone, a bare mention) asks
MAX_QUESTION_CHARS = 2000  # the rest of a longer message is not read


@dataclass(frozen=True)
class Incoming:
    event_id: str
    sender: str
    ts: int  # origin_server_ts, milliseconds
    msgtype: str
    body: str
    content: Mapping[str, Any]
    age_ms: int | None = None  # event_age_ms: by the homeserver's clock when it tells


@dataclass(frozen=True)
class RoomFacts:
    room_id: str
    member_count: int  # joined only: an invitee who never joined does not make a group
    own_user_id: str
    own_names: tuple[str, ...]  # from mentions.name_variants
    since_ts: int  # events before this (join, or first start) are history: never answered


@dataclass(frozen=True)
class Policy:
    command_prefix: str
    ignored_users: tuple[str, ...]  # glob patterns over user ids
    max_age_ms: int  # older messages (e.g. found after a long downtime) are not answered


@dataclass(frozen=True)
class Decision:
    answer: bool
    reason: str  # why: "direct", "mention", "prefix", or why not
    question: str = ""
    thread_root: str | None = None
    edited: str | None = None  # an edit (m.replace): the id of the message it edits


def event_age_ms(source: Mapping[str, Any], now_ms: int) -> int:
    """How long ago the event was sent: the homeserver's ``unsigned.age`` (its own clock,
    so a skewed local clock does not matter), else the local clock against
    ``origin_server_ts``."""
    unsigned = source.get("unsigned")
    age = unsigned.get("age") if isinstance(unsigned, Mapping) else None
    if isinstance(age, int) and not isinstance(age, bool):
        return max(0, age)
    ts = source.get("origin_server_ts")
    return max(0, now_ms - ts) if isinstance(ts, int) else 0


def is_direct(room: RoomFacts) -> bool:
    return room.member_count <= 2


def relation(content: Mapping[str, Any]) -> Mapping[str, Any]:
    relates_to = content.get("m.relates_to")
    return relates_to if isinstance(relates_to, Mapping) else {}


def thread_root(content: Mapping[str, Any]) -> str | None:
    rel = relation(content)
    root = rel.get("event_id")
    return root if rel.get("rel_type") == "m.thread" and isinstance(root, str) else None


def mentioned_user_ids(content: Mapping[str, Any]) -> tuple[str, ...]:
    mentions = content.get("m.mentions")
    if not isinstance(mentions, Mapping):
        return ()
    ids = mentions.get("user_ids")
    return tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()


def pilled(content: Mapping[str, Any], room: RoomFacts) -> bool:
    html = content.get("formatted_body")
    return isinstance(html, str) and has_pill(html, room.own_user_id)


# What a direct chat gets a "text only" notice for; other message types (emotes, other
# bots' notices, unknown ones) are left unanswered.
MEDIA_TYPES = frozenset({"m.image", "m.file", "m.audio", "m.video", "m.location"})


def decide(msg: Incoming, room: RoomFacts, policy: Policy, now_ms: int) -> Decision:
    """Whether to answer ``msg`` and with which question (mention and prefix removed)."""
    if msg.sender == room.own_user_id:
        return Decision(False, "own")
    if any(fnmatchcase(msg.sender, p) for p in policy.ignored_users):
        return Decision(False, "ignored_user")
    if msg.msgtype == "m.notice":
        return Decision(False, "notice")  # other bots speak in notices; never answer them
    rel = relation(msg.content)
    if rel.get("rel_type") == "m.replace":
        return _edit(msg, rel, room, policy, now_ms)
    if msg.ts < room.since_ts:
        return Decision(False, "history")
    age = msg.age_ms if msg.age_ms is not None else now_ms - msg.ts
    if age > policy.max_age_ms:
        return Decision(False, "too_old")
    if msg.msgtype in MEDIA_TYPES and is_direct(room):
        # A photo, a file or a voice message sent to the bot: it says it reads text only
        # (the router sends that notice), rather than staying silent.
        return Decision(False, "media")
    if msg.msgtype != "m.text":
        return Decision(False, "not_text")

    text = strip_reply_fallback(msg.body)[:MAX_QUESTION_CHARS].strip()
    root = thread_root(msg.content)
    after_prefix = strip_prefix(text, policy.command_prefix)
    if after_prefix is not None:
        return Decision(True, "prefix", after_prefix or HELP_QUESTION, root)
    named, without_name = find_mention(text, room.own_names)
    if named:
        return Decision(True, "mention", without_name or HELP_QUESTION, root)
    if room.own_user_id in mentioned_user_ids(msg.content) or pilled(msg.content, room):
        question = remove_name(text, room.own_names)
        return Decision(True, "mention", question or HELP_QUESTION, root)
    if is_direct(room):
        return Decision(True, "direct", text or HELP_QUESTION, root)
    return Decision(False, "not_addressed")


def _edit(
    msg: Incoming, rel: Mapping[str, Any], room: RoomFacts, policy: Policy, now_ms: int
) -> Decision:
    """An edit (m.replace) is the message as it now reads: an agent who corrects a typo,
    or adds the bot's name it forgot, is answered on the new text. The reply goes to the
    message edited (the agent sees it there), the edit's own id keeps it answered once."""
    new = msg.content.get("m.new_content")
    original = rel.get("event_id")
    if not isinstance(new, Mapping) or not isinstance(original, str):
        return Decision(False, "edit")
    # The new content's own relations are not read: an edit of an edit is still one edit.
    content = {k: v for k, v in new.items() if k != "m.relates_to"}
    body = content.get("body")
    now = replace(
        msg,
        msgtype=str(content.get("msgtype", "")),
        body=body if isinstance(body, str) else "",
        content=content,
    )
    decision = decide(now, room, policy, now_ms)
    if not decision.answer:
        return Decision(False, "edit" if decision.reason == "media" else decision.reason)
    return replace(decision, edited=original)
