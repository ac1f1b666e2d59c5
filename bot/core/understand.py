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
from bot.core.entities import Entities, read_entities
from bot.core.index import APP_PREFIX, HELP, NONE, index_for
from bot.core.matcher import Scored, score_subjects
from bot.core.normalize import normalize
from bot.knowledge.model import Category, Knowledge, Need, Option

CLARIFY = "clarify"
ANSWER_THRESHOLD = 0.55  # below: not understood well enough to answer directly
CLARIFY_THRESHOLD = 0.35  # between the two: ask which need is meant, if several fit
MARGIN = 0.08  # two needs closer than this are ambiguous
MAX_CHOICES = 4
_CHOICE = re.compile(r"^\s*(?:le |la |option |choix |n )?(\d{1,2})\s*$")
_FOLLOW_UP = re.compile(r"^(?:et|mais|sinon|ok et|d accord et)\b")


@dataclass(frozen=True)
class Decision:
    subject: str  # need:..., tool:..., tip:..., help, clarify, none
    entities: Entities
    candidates: tuple[Scored, ...]
    need: str | None = None  # the need the answer is framed in
    app: str | None = None  # an application the guide does not name, when asked about
    choices: tuple[str, ...] = ()  # for clarify
    topics: frozenset[str] = field(default_factory=frozenset)  # question tokens, for caveats


def expired(valid_until: date | None, today: date) -> bool:
    return valid_until is not None and today > valid_until


def applicable(option: Option, entities: Entities, knowledge: Knowledge, today: date) -> bool:
    """Whether the guide's conditions let this option be offered for this question."""
    if option.participants is not None and entities.participants is not None:
        if not option.participants.contains(entities.participants):
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
        for need in placed:  # where the guide recommends it, else its first mention
            if any(o.tool == ident and o.category == Category.RECOMMANDE for o in need.options):
                return need.id
        return placed[0].id if placed else None
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
    few = entities.participants is None or entities.participants <= 3
    tip_world = kind == "tip" or subject in ("need:audio_conference", "tool:mobile_phone")
    if entities.device and tip_world and few:
        tip = _tip_for(entities.device, need, knowledge)
        if tip:
            return tip, need
    if kind == "tip" and entities.participants is not None and not few and need:
        return _condition_choice(knowledge.needs[need], entities, knowledge, today), need
    if kind == "need" or (
        subject in ("tool:mobile_phone", "tool:audioconf_ministere")
        and entities.participants is not None
    ):
        if need and need in knowledge.needs:
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
    topics = frozenset(norm.tokens)

    choice = _CHOICE.match(norm.plain)
    if choice and context.choices:
        n = int(choice.group(1))
        if 1 <= n <= len(context.choices):
            picked = context.choices[n - 1]
            merged = entities.merged_over(_context_entities(context))
            subject, need = _resolve(picked, merged, knowledge, today, context.need)
            return Decision(subject, merged, (Scored(picked, 1.0, frozenset()),), need)

    scored = tuple(score_subjects(norm.tokens, index))
    real = [s for s in scored if s.subject not in (HELP, NONE)]
    top = real[0] if real else None
    strong = top is not None and top.score >= ANSWER_THRESHOLD

    # A follow-up that only adds an entity refines the previous answer.
    follow_up = bool(_FOLLOW_UP.match(norm.plain)) or not strong
    if follow_up and context.subject and not entities.empty and context.subject != CLARIFY:
        if not strong or (top is not None and top.subject == context.subject):
            merged = entities.merged_over(_context_entities(context))
            base = context.need and f"need:{context.need}" if entities.participants else None
            subject, need = _resolve(
                base or context.subject, merged, knowledge, today, context.need
            )
            return Decision(subject, merged, scored[:5], need, topics=topics)

    best_other = scored[0] if scored and scored[0].subject in (HELP, NONE) else None
    if (
        best_other is not None
        and (top is None or best_other.score >= top.score or not strong)
        and best_other.score >= CLARIFY_THRESHOLD
    ):
        return Decision(best_other.subject, entities, scored[:5], topics=topics)

    if top is None or top.score < CLARIFY_THRESHOLD:
        return Decision(NONE, entities, scored[:5], topics=topics)

    if top.subject.startswith(APP_PREFIX):
        need = main_need(top.subject, knowledge)
        return Decision(
            f"need:{need}" if need else NONE,
            entities,
            scored[:5],
            need,
            app=top.subject.removeprefix(APP_PREFIX),
            topics=topics,
        )

    # Needs close to the best one make the question ambiguous, unless a precise entry won.
    close_needs = _close_needs(real, top, knowledge)
    if len(close_needs) > 1 and (not strong or top.subject.startswith("need:")):
        return Decision(CLARIFY, entities, scored[:5], choices=tuple(close_needs), topics=topics)
    if not strong:
        if len(close_needs) > 1:
            return Decision(
                CLARIFY, entities, scored[:5], choices=tuple(close_needs), topics=topics
            )
        if not top.subject.startswith("need:") and top.score < ANSWER_THRESHOLD:
            return Decision(NONE, entities, scored[:5], topics=topics)

    subject, need = _resolve(top.subject, entities, knowledge, today, None)
    return Decision(subject, entities, scored[:5], need, topics=topics)


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


def _context_entities(context: Context) -> Entities:
    return Entities(context.participants, context.device, context.sensitive)
