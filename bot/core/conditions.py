"""The guide's conditions as functions of the knowledge and the question's entities.

Which options a count, a sensitive topic or a date still allow; which need a tool is
about; which tip a device calls for; which single tool a count settles (2-3 -> mobile).
Pure: no matching here, only what the knowledge says.
"""

from __future__ import annotations

from datetime import date

from bot.core.entities import Entities
from bot.core.index import index_for
from bot.knowledge.model import Category, Knowledge, Need, Option
from bot.knowledge.subject import Subject, SubjectKind, tool_subject

PAIR = 2  # a call with one other person: no calls to merge


def expired(valid_until: date | None, today: date) -> bool:
    return valid_until is not None and today > valid_until


def applicable(option: Option, entities: Entities, knowledge: Knowledge, today: date) -> bool:
    """Whether the guide's conditions let this option be offered for this question."""
    n = entities.participants
    if option.participants is not None and n is not None and not option.participants.contains(n):
        return False
    if entities.sensitive and not option.sensitive_ok:
        return False
    if option.tool is None:
        return True
    tool = knowledge.tools[option.tool]
    if expired(tool.valid_until, today):
        return False
    return not (entities.sensitive and not tool.sensitive_ok)


def main_need(subject: Subject, knowledge: Knowledge, preferred: str | None = None) -> str | None:
    kind, ident = subject
    if kind is SubjectKind.NEED:
        return ident
    if kind is SubjectKind.TIP:
        return knowledge.tips[ident].need
    if kind is SubjectKind.TOOL:
        placed = index_for(knowledge).placements.get(ident, ())
        if preferred and any(need == preferred for _, _, need in placed):
            return preferred
        # The need where the guide places it best: recommended before advised, and so on.
        return min(placed)[2] if placed else None
    if kind is SubjectKind.APP:
        app = knowledge.outside_apps[ident]
        return app.needs[0] if app.needs else None
    return None


def condition_choice(need: Need, entities: Entities, knowledge: Knowledge, today: date) -> Subject:
    """A count that the guide's ranges settle picks the one tool for it (2-3 -> mobile)."""
    if entities.participants is None:
        return need.subject
    ranged = [
        o.tool
        for o in need.options
        if o.category == Category.RECOMMANDE
        and o.tool is not None
        and o.participants is not None
        and applicable(o, entities, knowledge, today)
    ]
    return tool_subject(ranged[0]) if len(ranged) == 1 else need.subject


def counts_matter(need: Need | None) -> bool:
    """Whether a participant count changes the guide's answer for this need (meetings: the
    mobile for 2 or 3, Lifesize beyond 50); a reply on e-mail does not say it back."""
    return need is None or any(o.participants is not None for o in need.options)


def ranged_recommendation(subject: Subject, knowledge: Knowledge) -> bool:
    """Whether the guide recommends this tool for a participant range (mobile: 2-3)."""
    kind, ident = subject
    return kind is SubjectKind.TOOL and any(
        o.tool == ident and o.participants is not None and o.category == Category.RECOMMANDE
        for n in knowledge.needs.values()
        for o in n.options
    )


def tips_apply(entities: Entities, knowledge: Knowledge) -> bool:
    """Whether the count (if any) is one the guide gives the tips' tool for (mobile: 2-3)."""
    n = entities.participants
    return n is None or any(
        o.participants is None or o.participants.contains(n)
        for need in knowledge.needs.values()
        for o in need.options
        if o.tool is not None and knowledge.tools[o.tool].tips
    )


def has_tips(subject: Subject, knowledge: Knowledge) -> bool:
    """Tips, and the needs and tools the guide gives tips for (calls on a mobile)."""
    kind, ident = subject
    if kind is SubjectKind.TIP:
        return True
    if kind is SubjectKind.NEED:
        return bool(knowledge.needs[ident].tips)
    return kind is SubjectKind.TOOL and bool(knowledge.tools[ident].tips)


def unconditional(tool: Subject, need: str, entities: Entities, knowledge: Knowledge) -> bool:
    """The tool is offered for this need whatever the count, or for the count given."""
    kind, ident = tool
    return kind is SubjectKind.TOOL and any(
        o.tool == ident
        and (
            o.participants is None
            or (
                entities.participants is not None and o.participants.contains(entities.participants)
            )
        )
        for o in knowledge.needs[need].options
    )


def placed(tool: Subject, need: str, knowledge: Knowledge) -> bool:
    kind, ident = tool
    return (
        kind is SubjectKind.TOOL
        and need in knowledge.needs
        and any(o.tool == ident for o in knowledge.needs[need].options)
    )


def tip_for(device: str, need: str | None, knowledge: Knowledge) -> Subject | None:
    for tip in knowledge.tips.values():
        if tip.device == device and (need is None or tip.need == need):
            return tip.subject
    return None


def resolve(
    subject: Subject, entities: Entities, knowledge: Knowledge, today: date, need_hint: str | None
) -> tuple[Subject, str | None]:
    """Apply device and participant conditions to a matched subject."""
    need = main_need(subject, knowledge, need_hint)
    kind = subject.kind
    few = tips_apply(entities, knowledge)
    # Two people: nothing to merge, unless merging is what was asked (a tip matched).
    pair = entities.participants == PAIR and kind is not SubjectKind.TIP
    if entities.device and has_tips(subject, knowledge) and few and not pair:
        tip = tip_for(entities.device, need, knowledge)
        if tip:
            return tip, need
    if kind is SubjectKind.TIP and entities.participants is not None and not few and need:
        return condition_choice(knowledge.needs[need], entities, knowledge, today), need
    counted = entities.participants is not None and ranged_recommendation(subject, knowledge)
    if (kind is SubjectKind.NEED or counted) and need and need in knowledge.needs:
        return condition_choice(knowledge.needs[need], entities, knowledge, today), need
    return subject, need


def caveat_subject(
    subject: Subject,
    asked: frozenset[str],
    knowledge: Knowledge,
    services: frozenset[str] = frozenset(),
    described: frozenset[Subject] = frozenset(),
) -> Subject | None:
    """A question on a condition of one tool of the need ("navigateur", "vpn" for the
    webconf), or from a service one tool has a fact for (the DDI's storage) when the
    question's words touch that tool (``described``: "stocker mes fichiers", not "travailler
    sur le même tableur"), is about that tool: its reply puts the condition first."""
    index = index_for(knowledge)
    need = knowledge.needs[subject.id]
    # The need's own tools: one it lists "en complément" (the audio conference under the
    # web conference) answers its own need's questions ("quand même" is no date question).
    own = [
        tool_subject(o.tool)
        for o in need.options
        if o.tool is not None and main_need(tool_subject(o.tool), knowledge) == need.id
    ]
    hit = {t for t in own if any(topic <= asked for topic in index.topics.get(t, ()))}
    if not hit and services:
        hit = {
            t
            for t in own
            if t in described
            and any(set(c.services) & services for c in knowledge.tools[t.id].caveats)
        }
    return hit.pop() if len(hit) == 1 else None
