"""From a question (and the conversation so far) to a decision: what the reply is about.

The matcher scores subjects from words; this module applies what words alone cannot:
the guide's conditions (participant ranges, device, sensitivity), follow-ups that only
carry an entity ("et sur iPhone ?"), numbered choices after a clarification, and the
thresholds that separate an answer from a clarification or an out-of-scope reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.core.context import Context
from bot.core.entities import Entities, read_entities, without_entities
from bot.core.index import APP_PREFIX, HELP, NONE, THANKS, index_for
from bot.core.matcher import Scored, score_subjects
from bot.core.normalize import NEGATED, normalize
from bot.knowledge.model import Category, Knowledge, Need, Option

CLARIFY = "clarify"
ANSWER_THRESHOLD = 0.55  # below: not understood well enough to answer directly
CLARIFY_THRESHOLD = 0.4  # between the two: ask which need is meant, if several fit
MARGIN = 0.08  # two needs closer than this are ambiguous
MAX_CHOICES = 4
_CHOICE = re.compile(r"^\s*(?:le |la |option |choix |n )?(\d{1,2})\s*$")
# Words that make a message a follow-up without saying anything new of their own.
FOLLOW_UP_WORDS = frozenset(
    "et mais sinon alors ok plutot maintenant si avec pour sur ca cela un une le la"
    " sujet sujets dossier dossiers theme cas question reunion reunions".split()
)


@dataclass(frozen=True)
class Decision:
    subject: str  # need:..., tool:..., tip:..., help, clarify, none
    entities: Entities
    candidates: tuple[Scored, ...]
    need: str | None = None  # the need the answer is framed in
    app: str | None = None  # an application the guide does not name, when asked about
    choices: tuple[str, ...] = ()  # for clarify
    brief: bool = False  # small talk ("merci"): a short reply, no menu
    topics: frozenset[str] = field(default_factory=frozenset)  # question tokens, for caveats


def expired(valid_until: date | None, today: date) -> bool:
    return valid_until is not None and today > valid_until


def applicable(option: Option, entities: Entities, knowledge: Knowledge, today: date) -> bool:
    """Whether the guide's conditions let this option be offered for this question."""
    n = entities.participants
    if option.participants is not None and n is not None and not option.participants.contains(n):
        return False
    if option.tool is None:
        return True
    tool = knowledge.tools[option.tool]
    if expired(tool.valid_until, today):
        return False
    return not (entities.sensitive and not tool.sensitive_ok)


def main_need(subject: str, knowledge: Knowledge, preferred: str | None = None) -> str | None:
    kind, _, ident = subject.partition(":")
    if kind == "need":
        return ident
    if kind == "tip":
        return knowledge.tips[ident].need
    if kind == "tool":
        placed = [n for n in knowledge.needs.values() for o in n.options if o.tool == ident]
        if preferred and any(n.id == preferred for n in placed):
            return preferred
        # The need where the guide places it best: recommended before advised, and so on.
        ranks = [
            (min(list(Category).index(o.category) for o in n.options if o.tool == ident), i)
            for i, n in enumerate(placed)
        ]
        return placed[min(ranks)[1]].id if placed else None
    if subject.startswith(APP_PREFIX):
        app = knowledge.outside_apps[subject.removeprefix(APP_PREFIX)]
        return app.needs[0] if app.needs else None
    return None


def _condition_choice(need: Need, entities: Entities, knowledge: Knowledge, today: date) -> str:
    """A count that the guide's ranges settle picks the one tool for it (2-3 -> mobile)."""
    if entities.participants is None:
        return need.subject
    ranged = [
        o
        for o in need.options
        if o.category == Category.RECOMMANDE
        and o.tool is not None
        and o.participants is not None
        and applicable(o, entities, knowledge, today)
    ]
    return f"tool:{ranged[0].tool}" if len(ranged) == 1 else need.subject


def _ranged_recommendation(subject: str, knowledge: Knowledge) -> bool:
    """Whether the guide recommends this tool for a participant range (mobile: 2-3)."""
    ident = subject.removeprefix("tool:")
    return any(
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


def _has_tips(subject: str, knowledge: Knowledge) -> bool:
    """Tips, and the needs and tools the guide gives tips for (calls on a mobile)."""
    kind, _, ident = subject.partition(":")
    if kind == "tip":
        return True
    if kind == "need":
        return bool(knowledge.needs[ident].tips)
    return kind == "tool" and bool(knowledge.tools[ident].tips)


def _unconditional(tool_subject: str, need: str, entities: Entities, knowledge: Knowledge) -> bool:
    """The tool is offered for this need whatever the count, or for the count given."""
    ident = tool_subject.removeprefix("tool:")
    return any(
        o.tool == ident
        and (
            o.participants is None
            or (
                entities.participants is not None and o.participants.contains(entities.participants)
            )
        )
        for o in knowledge.needs[need].options
    )


def _placed(tool_subject: str, need: str, knowledge: Knowledge) -> bool:
    ident = tool_subject.removeprefix("tool:")
    return need in knowledge.needs and any(o.tool == ident for o in knowledge.needs[need].options)


def _tip_for(device: str, need: str | None, knowledge: Knowledge) -> str | None:
    for tip in knowledge.tips.values():
        if tip.device == device and (need is None or tip.need == need):
            return tip.subject
    return None


def _resolve(
    subject: str, entities: Entities, knowledge: Knowledge, today: date, need_hint: str | None
) -> tuple[str, str | None]:
    """Apply device and participant conditions to a matched subject."""
    need = main_need(subject, knowledge, need_hint)
    kind = subject.partition(":")[0]
    few = tips_apply(entities, knowledge)
    if entities.device and _has_tips(subject, knowledge) and few:
        tip = _tip_for(entities.device, need, knowledge)
        if tip:
            return tip, need
    if kind == "tip" and entities.participants is not None and not few and need:
        return _condition_choice(knowledge.needs[need], entities, knowledge, today), need
    counted = entities.participants is not None and _ranged_recommendation(subject, knowledge)
    if (kind == "need" or counted) and need and need in knowledge.needs:
        return _condition_choice(knowledge.needs[need], entities, knowledge, today), need
    return subject, need


def decide(question: str, knowledge: Knowledge, context: Context, today: date) -> Decision:
    index = index_for(knowledge)
    lexicon = knowledge.lexicon
    norm = normalize(question, index.abbreviations, index.stopwords)
    entities = read_entities(
        norm.plain,
        devices=lexicon.devices,
        sensitive_words=lexicon.sensitive,
        approximate_numbers=lexicon.approximate_numbers,
    )
    # Caveat topics count whether the word is wanted or denied ("pas de VPN" is about VPN).
    topics = frozenset(t.removeprefix(NEGATED) for t in norm.tokens)
    earlier = Entities(context.participants, context.device, context.sensitive)

    # "2" after a clarification picks the second need offered.
    choice = _CHOICE.match(norm.plain)
    if choice and context.choices and 1 <= int(choice.group(1)) <= len(context.choices):
        picked = context.choices[int(choice.group(1)) - 1]
        merged = entities.merged_over(earlier)
        subject, need = _resolve(picked, merged, knowledge, today, context.need)
        return Decision(subject, merged, (Scored(picked, 1.0, frozenset()),), need, topics=topics)

    scored = tuple(score_subjects(norm.tokens, index))
    candidates = scored[:5]

    # "et sur iPhone ?", "et pour 80 personnes ?": only entities, so refine the last answer.
    if not entities.empty and context.subject not in (None, CLARIFY, HELP, NONE):
        rest = without_entities(
            norm.plain, lexicon.devices, lexicon.sensitive, lexicon.approximate_numbers
        )
        if not [w for w in normalize(rest, {}, index.stopwords | FOLLOW_UP_WORDS).tokens]:
            merged = entities.merged_over(earlier)
            # A new count or sensitivity can change the tool: start again from the need.
            changed = entities.participants is not None or entities.sensitive
            base = f"need:{context.need}" if changed and context.need else None
            assert context.subject is not None
            subject, need = _resolve(
                base or context.subject, merged, knowledge, today, context.need
            )
            return Decision(subject, merged, candidates, need, topics=topics)

    real = [s for s in scored if s.subject not in (HELP, NONE, THANKS)]
    top = real[0] if real else None
    special = scored[0] if scored and scored[0].subject in (HELP, NONE, THANKS) else None
    # A greeting in front of a real question ("bonjour, je cherche...") is no help request.
    if (
        special is not None
        and special.subject in (HELP, THANKS)
        and top is not None
        and top.score >= ANSWER_THRESHOLD
        # ...when the real subject explains as much of the rest as the greeting does.
        and len(top.matched - special.matched) >= len(special.matched - top.matched)
    ):
        special = None
    if special is not None and special.score >= CLARIFY_THRESHOLD:
        if special.subject == THANKS:  # reported as help: small talk is not out of scope
            return Decision(HELP, entities, candidates, brief=True, topics=topics)
        return Decision(special.subject, entities, candidates, topics=topics)
    if top is None or top.score < CLARIFY_THRESHOLD:
        return Decision(NONE, entities, candidates, topics=topics)

    if top.subject.startswith(APP_PREFIX):
        need = main_need(top.subject, knowledge)
        app = top.subject.removeprefix(APP_PREFIX)
        subject = f"need:{need}" if need else NONE
        return Decision(subject, entities, candidates, need, app=app, topics=topics)

    close = _close_needs(real, top, knowledge)
    # A device settles it: phones and calls mean the device's tip ("galaxy appel à 3").
    if entities.device and tips_apply(entities, knowledge):
        for s in real:
            if s.score < top.score - MARGIN:
                break
            tip = _tip_for(entities.device, main_need(s.subject, knowledge), knowledge)
            if tip and _has_tips(s.subject, knowledge):
                need = knowledge.tips[tip.removeprefix("tip:")].need
                return Decision(tip, entities, candidates, need, topics=topics)
    # A tip asked without a device: which phone is it? ("comment fusionner des appels")
    tips = [
        s.subject for s in real if s.subject.startswith("tip:") and s.score >= top.score - MARGIN
    ]
    if top.subject.startswith("tip:") and not entities.device and len(tips) > 1:
        return Decision(CLARIFY, entities, candidates, choices=tuple(tips), topics=topics)
    # A need asked in words beats a tool the guide places elsewhere ("visio depuis mon tel").
    if top.subject.startswith("tool:"):
        for s in real[1:]:
            if s.score < top.score - MARGIN:
                break
            need = s.subject.removeprefix("need:")
            if s.subject.startswith("need:") and not _placed(top.subject, need, knowledge):
                subject, need = _resolve(s.subject, entities, knowledge, today, None)
                return Decision(subject, entities, candidates, need, topics=topics)

    # A tool of the need, named nearly as well as the need itself, is the precise answer
    # ("l'audioconf du ministère" is the ministry's service, not every audio option).
    if top.subject.startswith("need:"):
        need_id = top.subject.removeprefix("need:")
        for s in real[1:]:
            if s.score < top.score - MARGIN / 2:
                break
            if s.subject.startswith("tool:") and _unconditional(
                s.subject, need_id, entities, knowledge
            ):
                top = s
                close = _close_needs(real, top, knowledge)
                break

    # Several needs within the margin of a need (or of a weak match): ask which one.
    strong = top.score >= ANSWER_THRESHOLD
    if len(close) > 1 and (not strong or top.subject.startswith("need:")):
        return Decision(CLARIFY, entities, candidates, choices=tuple(close), topics=topics)
    if not strong:  # a weak match on one subject: say what the bot covers instead
        return Decision(NONE, entities, candidates, topics=topics)

    subject = top.subject
    if subject.startswith("need:"):
        subject = _caveat_subject(subject, topics, knowledge) or subject
    subject, need = _resolve(subject, entities, knowledge, today, None)
    return Decision(subject, entities, candidates, need, topics=topics)


def _caveat_subject(need_subject: str, asked: frozenset[str], knowledge: Knowledge) -> str | None:
    """A question on a condition of one tool of the need ("navigateur", "vpn" for the
    webconf) is about that tool: its reply puts the condition first."""
    index = index_for(knowledge)
    need = knowledge.needs[need_subject.removeprefix("need:")]
    hit = {
        f"tool:{o.tool}"
        for o in need.options
        if o.tool is not None
        and any(topic <= asked for topic in index.topics.get(f"tool:{o.tool}", ()))
    }
    return hit.pop() if len(hit) == 1 else None


def _close_needs(real: list[Scored], top: Scored, knowledge: Knowledge) -> list[str]:
    """Distinct needs among the candidates that score within the margin of the best."""
    needs: list[str] = []
    for s in real:
        if s.score < top.score - MARGIN or len(needs) == MAX_CHOICES:
            break
        need = main_need(s.subject, knowledge)
        if need and f"need:{need}" not in needs:
            needs.append(f"need:{need}")
    return needs
