"""The guide's facts about a tool, chosen for one question: pure functions of the knowledge.

A fact is one sentence of the knowledge (a caveat) or one structured field (a link, a
contact, the steps). Which are said depends on the question: the attribute it asks
("limit", "link"...), the words it uses (caveat topics), the agent's service (a fact for
the DDI is never said to the administration centrale), the count and the sensitivity. And
a tool the guide's conditions rule out is not offered: ``ruled_out`` says why, in the
guide's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.conditions import applicable, expired
from bot.core.entities import Entities
from bot.core.index import index_for
from bot.core.normalize import stem
from bot.knowledge.model import Category, Caveat, Knowledge, Link, Need, Option, Tool


@dataclass(frozen=True)
class Fact:
    kind: str  # the attribute it answers, or "" for a caveat said because it is touched
    text: str = ""
    link: Link | None = None  # a link or a contact (label, target)
    caveat: Caveat | None = None


def caveat_text(caveat: Caveat, today: date) -> str:
    if expired(caveat.valid_until, today) and caveat.expired_text:
        return caveat.expired_text
    return caveat.text


def visible(caveat: Caveat, entities: Entities) -> bool:
    """A fact for some services is said to their agents, or to an agent who has not said
    where they work; never to the others."""
    return not (caveat.services and entities.services) or bool(
        set(caveat.services) & entities.services
    )


def relevant(caveat: Caveat, topics: frozenset[str], knowledge: Knowledge) -> bool:
    """The question uses one of the caveat's topics (stems)."""
    return any(t <= topics for t in index_for(knowledge).caveat_topics.get(caveat, ()))


def facts_of(tool: Tool, kinds: tuple[str, ...], entities: Entities, today: date) -> list[Fact]:
    """Every fact of the tool that answers one of these attributes, in the knowledge's order:
    its caveats marked for them, then its links, contacts and steps."""
    out: list[Fact] = []
    for caveat in tool.caveats:
        kind = next((k for k in kinds if k in caveat.about), None)
        if kind is not None and visible(caveat, entities):
            out.append(Fact(kind, caveat_text(caveat, today), caveat=caveat))
    if "condition" in kinds and not out:
        # "c'est pour qui ?": with no condition of its own, the tool's facts for some agents
        # only (P2R, « en administration centrale ») say whom it is for.
        out += [
            Fact("condition", caveat_text(c, today), caveat=c)
            for c in tool.caveats
            if c.services and visible(c, entities)
        ]
    if "link" in kinds or "installation" in kinds:
        out += [Fact("link", link=link) for link in tool.links]
    if "contact" in kinds or "creation" in kinds:
        out += [Fact("contact", link=Link(c.label, c.email)) for c in tool.contacts]
    # "je crée ça où ?" of Ariane: with no word of its own on creating, the steps say it
    # (« Créez un canal »).
    creating = "creation" in kinds and not any(f.kind == "creation" for f in out)
    if "usage" in kinds or creating:
        out += [Fact("usage", step) for step in tool.steps]
    return out


def answered(tool: Tool, kinds: tuple[str, ...], entities: Entities, today: date) -> bool:
    return bool(facts_of(tool, kinds, entities, today))


def touched(
    tool: Tool, topics: frozenset[str], entities: Entities, knowledge: Knowledge, today: date
) -> list[Caveat]:
    """The tool's caveats this question touches, the most pointed first: its words, the
    agent's service, a sensitive topic, the count, the device."""
    n = entities.participants
    scored: list[tuple[int, int, Caveat]] = []
    for i, caveat in enumerate(tool.caveats):
        if not visible(caveat, entities):
            continue
        if relevant(caveat, topics, knowledge):
            rank = 0
        elif caveat.services and set(caveat.services) & entities.services:
            rank = 1
        elif entities.sensitive and "sensible" in caveat.topics:
            rank = 2
        elif caveat.participants is not None and n is not None and caveat.participants.contains(n):
            rank = 3
        elif entities.device and entities.device in caveat.topics:
            rank = 4
        else:
            continue
        scored.append((rank, i, caveat))
    return [c for _, _, c in sorted(scored, key=lambda x: (x[0], x[1]))]


def lacking(caveat: Caveat, negated: frozenset[str]) -> bool:
    """The question denies what the caveat requires ("pas de VPN", "sans licence")."""
    return any(stem(r.split()[0]) in negated for r in caveat.requires if r.split())


def option_in(tool: Tool, need: Need | None) -> Option | None:
    """The tool's best placement in the need (recommended before advised...)."""
    if need is None:
        return None
    own = [o for o in need.options if o.tool == tool.id]
    if len(own) <= 1:
        return own[0] if own else None
    return min(own, key=lambda o: _CATEGORY_RANK[o.category])


_CATEGORY_RANK = {category: rank for rank, category in enumerate(Category)}


@dataclass(frozen=True)
class RuledOut:
    """Why the guide's conditions rule a tool out for this question."""

    why: str  # the guide's sentence, or the range it gives
    reason: str  # "avoid", "expired", "sensitive", "count", "lacking"


def ruled_out(
    tool: Tool,
    need: Need | None,
    entities: Entities,
    knowledge: Knowledge,
    today: date,
    *,
    negated: frozenset[str] = frozenset(),
    words: frozenset[str] = frozenset(),
) -> RuledOut | None:
    option = option_in(tool, need)
    if expired(tool.valid_until, today):
        return RuledOut("", "expired")
    if option is not None and option.category == Category.EVITER:
        sensitive = next((c for c in tool.caveats if "sensible" in c.topics), None)
        if entities.sensitive and sensitive is not None:
            return RuledOut(sensitive.text, "avoid")
        return RuledOut(option.text or tool.summary, "avoid")
    if entities.sensitive and not tool.sensitive_ok:
        said = next((c.text for c in tool.caveats if "sensible" in c.topics), "")
        return RuledOut(said, "sensitive")
    n = entities.participants
    # The need's own range for the tool decides; the tool's range only where it has none
    # (the audio service is placed from 4 participants; its booking says 3 to 50).
    bounds = option.participants if option is not None and option.participants else None
    bounds = bounds or tool.participants
    if n is not None and bounds is not None and not bounds.contains(n):
        limit = next(
            (c for c in tool.caveats if c.participants is not None and c.participants.contains(n)),
            None,
        )
        return RuledOut(limit.text if limit else "", "count")
    for caveat in tool.caveats:
        if not caveat.requires or not lacking(caveat, negated):
            continue
        # A requirement for a role (the organiser) is no verdict for one who only joins.
        if caveat.requires_for and not (words & set(caveat.requires_for)):
            continue
        return RuledOut(caveat.text, "lacking")
    return None


def alternatives(
    need: Need,
    entities: Entities,
    knowledge: Knowledge,
    today: date,
    *,
    besides: str | None = None,
    outsider: bool = False,
) -> list[Option]:
    """The need's recommended and advised options still allowed by the question's
    conditions, other than ``besides``; for an agent outside the guide's audience, the
    offers that are not the pôle's own first."""
    kept = [
        o
        for o in need.options
        if o.tool is not None
        and o.tool != besides
        and o.category in (Category.RECOMMANDE, Category.CONSEILLE)
        and not o.existing_only
        and applicable(o, entities, knowledge, today)
    ]
    if entities.participants is not None:
        # A tool the guide gives for this count comes first among its peers: for 70, the
        # Lifesize of "plus de 50" before the WebConférence for any count.
        kept.sort(key=lambda o: (_CATEGORY_RANK[o.category], o.participants is None))
    if outsider:
        kept.sort(key=lambda o: knowledge.tools[o.tool or ""].audience != "all")
    return kept
