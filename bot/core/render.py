"""A tiny document model rendered twice: plain text (Matrix ``body``) and safe HTML
(``formatted_body``). Every string is escaped on the HTML side, whatever its origin, and
links only ever carry http(s) or mailto targets, so nothing in a reply can inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class Italic:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Link:
    label: str
    target: str  # "https://..." or an e-mail address


Inline = str | Bold | Italic | Code | Link
Line = tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    parts: Line


@dataclass(frozen=True)
class Bullets:
    items: tuple[Line, ...]
    ordered: bool = False


Block = Paragraph | Bullets


def para(*parts: Inline) -> Paragraph:
    return Paragraph(tuple(p for p in parts if p != ""))


def bullets(items: Iterable[Sequence[Inline]], ordered: bool = False) -> Bullets:
    return Bullets(tuple(tuple(i) for i in items), ordered)


_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_WEB = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:[/?#][^\s\"<>]*)?$")


def _href(target: str) -> str | None:
    """A safe href for an e-mail address or a web address; None for anything else."""
    if _EMAIL.match(target):
        return "mailto:" + target
    if _WEB.match(target):
        return target if target.startswith(("https://", "http://")) else "https://" + target
    return None


def _shown(target: str) -> str:
    return target.removeprefix("https://").removeprefix("http://").rstrip("/")


def _link_text(link: Link) -> str:
    shown = _shown(link.target)
    if link.label in ("", link.target, shown):
        return shown
    return f"{link.label} : {shown}"


def _inline_text(part: Inline) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Link):
        return _link_text(part)
    return part.text


def escape(text: str, quote: bool = True) -> str:
    """html.escape's output, compiled with the core: most strings hold nothing to escape,
    and the standard one stays interpreted Python under mypyc."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if quote:
        if '"' in text:
            text = text.replace('"', "&quot;")
        if "'" in text:
            text = text.replace("'", "&#x27;")
    return text


def _inline_html(part: Inline) -> str:
    if isinstance(part, str):
        return escape(part)
    if isinstance(part, Bold):
        return f"<strong>{escape(part.text)}</strong>"
    if isinstance(part, Italic):
        return f"<em>{escape(part.text)}</em>"
    if isinstance(part, Code):
        return f"<code>{escape(part.text)}</code>"
    shown = _shown(part.target)
    href = _href(part.target)
    anchor = f'<a href="{escape(href, quote=True)}">{escape(shown)}</a>' if href else escape(shown)
    if part.label in ("", part.target, shown):
        return anchor
    return f"{escape(part.label)} : {anchor}"


def to_text(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append("".join(_inline_text(p) for p in block.parts))
        else:
            out.append(
                "\n".join(
                    (f"{n}. " if block.ordered else "- ") + "".join(_inline_text(p) for p in item)
                    for n, item in enumerate(block.items, 1)
                )
            )
    return "\n\n".join(out)


def to_html(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append("<p>" + "".join(_inline_html(p) for p in block.parts) + "</p>")
        else:
            tag = "ol" if block.ordered else "ul"
            items = "".join(
                "<li>" + "".join(_inline_html(p) for p in item) + "</li>" for item in block.items
            )
            out.append(f"<{tag}>{items}</{tag}>")
    return "".join(out)
