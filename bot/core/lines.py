"""One-line pieces of a reply: a tool with its way in, a count as the agent said it, a range
as the guide says it, and whether a sentence is already said."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from datetime import date
from functools import lru_cache

from bot.core.entities import MAX_PARTICIPANTS, Entities
from bot.core.normalize import fold
from bot.core.render import Bold, Inline, Line, Link
from bot.knowledge.model import Option, Range, Tool


def target_shown(target: str) -> str:
    return target.removeprefix("https://").removeprefix("http://").rstrip("/")


def reach(tool: Tool, said: str) -> list[Inline]:
    """The first way in, a link or else a contact address, unless the text gave it."""
    targets = [link.url for link in tool.links] + [c.email for c in tool.contacts]
    target = targets[0] if targets else ""
    if not target or target_shown(target) in said:
        return []
    return [" — ", Link("", target)]


def text_of(parts: tuple[Inline, ...] | list[Inline]) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Link):
            out.append(f"{part.label} {target_shown(part.target)}")
        else:
            out.append(part.text)
    return "".join(out)


def option_line(tool: Tool, option: Option | None, said: str = "") -> Line:
    """ "**Name** : what the guide says of it for this need — its way in"."""
    text = option.text if option is not None and option.text else tool.summary
    parts: list[Inline] = [Bold(tool.name), " — ", text]
    return (*parts, *reach(tool, said + " " + text))


def compact_line(tool: Tool, option: Option | None = None) -> Line:
    """The tool's name, the range the need gives it, and its way in: a tool in passing."""
    parts: list[Inline] = [Bold(tool.name)]
    if option is not None and option.participants is not None:
        parts.append(f" ({span(option.participants)})")
    return (*parts, *reach(tool, ""))


def span(bounds: Range) -> str:
    """A range as the guide says it (``said``), or plainly."""
    if bounds.said:
        return bounds.said
    if bounds.min is not None and bounds.max is not None:
        return f"de {bounds.min} à {bounds.max} participants"
    if bounds.min is not None:
        return f"{bounds.min} participants ou plus"
    return f"{bounds.max} participants au plus"


def count(entities: Entities) -> str:
    """The count as the agent said it: a reply never states a number the agent did not give
    ("plus de 50 participants", not "51 participants")."""
    n = entities.participants
    if entities.said:
        return entities.said
    if (n or 0) >= MAX_PARTICIPANTS:
        return "un très grand nombre de participants"
    return f"{n} participant" if n == 1 else f"{n} participants"


def day(value: date | None) -> str:
    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    if value is None:
        return ""
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {months.split()[value.month - 1]} {value.year}"


def lower_first(text: str, names: AbstractSet[str] = frozenset()) -> str:
    """A sentence put after "Oui : " or "Attention : ": its first letter lowered, unless
    its first word is a name ("Tixéo nécessite…", "SharePoint", "SNUM")."""
    first = text.split(maxsplit=1)[0].rstrip(",.:;") if text.strip() else ""
    if first in names or first[1:] != first[1:].lower():
        return text
    return text[:1].lower() + text[1:]


_WORD = re.compile(r"[a-z0-9]{4,}")


def already_said(text: str, said: str) -> bool:
    """Most of the sentence's words are already in the reply: saying it again repeats it
    ("déconseillés au-delà de 5 personnes" then "les salons de plus de 5 personnes…")."""
    words = _words(text)
    if not words:
        return True
    return len(words & _words(said)) >= 0.7 * len(words)


# The sentences are the knowledge's (caveats, tool names), and so are the replies they are
# compared with, but for a count: the same few come back, and one is read for every
# caveat a reply weighs.
@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(fold(text)))
