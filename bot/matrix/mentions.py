"""Is the bot addressed in a message, and what is the question once the address is removed.

Pure text functions. Tchap display names carry the ministry as a suffix
("Outils numériques [Intérieur]") that clients often leave out when typing a name, and a
reply's body starts with the quoted message ("> <@x:y> ...") which must not count.

A name typed as plain text is an address only where people address someone: at the very
start of the message ("Outils numériques : une visio ?", "@outils, ..."), or written
"@name" anywhere. Elsewhere it is a word of the sentence ("on devrait lister nos outils
numériques") and the bot stays silent, or it would flood team rooms. A pill (a link to
the bot's user id in ``formatted_body``) and ``m.mentions`` count wherever they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote

_MINISTRY_SUFFIX_RE = re.compile(r"\s*\[[^\[\]]*\]\s*$")
_MIN_NAME_LENGTH = 3  # shorter names would match inside ordinary words
_REPLY_FALLBACK_HTML_RE = re.compile(r"<mx-reply>.*?</mx-reply>", re.IGNORECASE | re.DOTALL)
_HREF_RE = re.compile(r"""href\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


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
    return _name_variants(user_id, tuple(display_names))


@lru_cache(maxsize=256)
def _name_variants(user_id: str, display_names: tuple[str | None, ...]) -> tuple[str, ...]:
    localpart = user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id
    names = {user_id, localpart}
    for name in display_names:
        if not name:
            continue
        names.add(name.strip())
        names.add(_MINISTRY_SUFFIX_RE.sub("", name).strip())
    return tuple(sorted((n for n in names if len(n) >= _MIN_NAME_LENGTH), key=len, reverse=True))


def _alternatives(names: tuple[str, ...], *, at: bool) -> str:
    """``names`` as a regex alternation, longest first; ``at``: each with a required "@"
    (a full user id already starts with one)."""
    ordered = sorted(names, key=len, reverse=True)
    return "|".join(
        re.escape(n) if n.startswith("@") or not at else "@" + re.escape(n) for n in ordered
    )


@lru_cache(maxsize=64)
def _patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(at the start, "@name" anywhere, the name anywhere), compiled once per set of names."""
    plain = _alternatives(names, at=False)
    start = re.compile(rf"^\s*@?(?:{plain})(?:\s*[:,]|(?=\s)|$)", re.IGNORECASE)
    with_at = rf"(?<![\w@])(?:{_alternatives(names, at=True)})(?!\w)(?:\s*[:,])?"
    anywhere = rf"(?<![\w@])@?(?:{plain})(?!\w)(?:\s*[:,])?"
    return start, re.compile(with_at, re.IGNORECASE), re.compile(anywhere, re.IGNORECASE)


def _without(text: str, match: re.Match[str]) -> str:
    before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
    if before.endswith(",") and (not after or after[0] in "?!.;"):
        before = before[:-1].rstrip()  # "une visio, @<name> ?" -> "une visio ?"
    return f"{before} {after}".strip()


def find_mention(text: str, names: Iterable[str]) -> tuple[bool, str]:
    """Whether ``text`` addresses one of ``names`` in plain text, and the text without it.

    Case-insensitive. Counts the name at the very start of the text (after an optional
    "@", followed by ":", "," whitespace or the end), or "@name" anywhere.
    """
    names = tuple(names)
    if not names:
        return False, text
    start, with_at, _ = _patterns(names)
    match = start.match(text) or with_at.search(text)
    if match is None:
        return False, text
    return True, _without(text, match)


def remove_name(text: str, names: Iterable[str]) -> str:
    """``text`` without the first of ``names`` found anywhere in it: for a message that
    mentions the bot by a pill or ``m.mentions``, whose body holds the name as text."""
    names = tuple(names)
    if not names:
        return text
    match = _patterns(names)[2].search(text)
    return text if match is None else _without(text, match)


def has_pill(formatted_body: str, user_id: str) -> bool:
    """Whether the HTML links to ``user_id`` (a pill), outside the quoted reply fallback."""
    html = _REPLY_FALLBACK_HTML_RE.sub("", formatted_body)
    targets = {f"https://matrix.to/#/{user_id}", f"matrix:u/{user_id.lstrip('@')}"}
    for href in _HREF_RE.findall(html):
        link = unquote(href).split("?", 1)[0]
        if link in targets:
            return True
    return False


def strip_prefix(text: str, prefix: str) -> str | None:
    """The text after the command prefix (e.g. "!outils"), or None if it does not start so."""
    stripped = text.lstrip()
    if not stripped.lower().startswith(prefix.lower()):
        return None
    rest = stripped[len(prefix) :]
    if rest and rest[0].isalnum():
        return None  # "!outilsXYZ" is another command
    return rest.lstrip(" :,\t\n")
