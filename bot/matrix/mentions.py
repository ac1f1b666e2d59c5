"""Is the bot addressed in a message, and what is the question once the address is removed.

Pure text functions. Tchap display names carry the ministry as a suffix
("Outils numériques [Intérieur]") that clients often leave out when typing a name, and a
reply's body starts with the quoted message ("> <@x:y> ...") which must not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MINISTRY_SUFFIX_RE = re.compile(r"\s*\[[^\[\]]*\]\s*$")
_MIN_NAME_LENGTH = 3  # shorter names would match inside ordinary words


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted lines ("> ...") a reply starts with, and the blank line after them."""
    if not body.startswith(">"):
        return body
    lines = body.split("\n")
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def name_variants(user_id: str, display_names: Iterable[str | None]) -> tuple[str, ...]:
    """Every way the bot may be named in a text, longest first."""
    localpart = user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id
    names = {user_id, localpart}
    for name in display_names:
        if not name:
            continue
        names.add(name.strip())
        names.add(_MINISTRY_SUFFIX_RE.sub("", name).strip())
    return tuple(sorted((n for n in names if len(n) >= _MIN_NAME_LENGTH), key=len, reverse=True))


def find_mention(text: str, names: Iterable[str]) -> tuple[bool, str]:
    """Whether one of ``names`` appears as a word in ``text``, and the text without it.

    Case-insensitive; an optional leading "@" and a trailing ":" or "," go with the name.
    """
    for name in names:
        pattern = re.compile(
            r"(?<![\w@])@?" + re.escape(name) + r"(?!\w)(?:\s*[:,])?", re.IGNORECASE
        )
        match = pattern.search(text)
        if match:
            before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
            if before.endswith(",") and (not after or after[0] in "?!.;"):
                before = before[:-1].rstrip()  # "une visio, <name> ?" -> "une visio ?"
            return True, f"{before} {after}".strip()
    return False, text


def strip_prefix(text: str, prefix: str) -> str | None:
    """The text after the command prefix (e.g. "!outils"), or None if it does not start so."""
    stripped = text.lstrip()
    if not stripped.lower().startswith(prefix.lower()):
        return None
    rest = stripped[len(prefix) :]
    if rest and rest[0].isalnum():
        return None  # "!outilsXYZ" is another command
    return rest.lstrip(" :,\t\n")
