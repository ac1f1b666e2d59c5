"""From a question (and the conversation so far) to a decision: what the reply is about.

The matcher scores subjects from words; ``decide`` runs the rules words alone cannot:
numbered choices after a clarification, follow-ups that only carry an entity ("et sur
iPhone ?"), small talk, the thresholds between an answer, a clarification and "out of
scope", and near-ties between a need, its tools and its tips. The guide's conditions
themselves (counts, devices, sensitivity, dates) are in ``conditions.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.conditions import (
    caveat_subject,
    has_tips,
    main_need,
    placed,
    resolve,
    tip_for,
    tips_apply,
    unconditional,
)
from bot.core.context import Context
from bot.core.entities import Entities, read_entities, without_entities
from bot.core.index import APP_PREFIX, HELP, NONE, THANKS, index_for
from bot.core.matcher import Scored, ranked, score_apps, score_subjects
from bot.core.normalize import NEGATED, Normalized, normalize
from bot.knowledge.model import Knowledge

CLARIFY = "clarify"
ANSWER_THRESHOLD = 0.55  # below: not understood well enough to answer directly
CLARIFY_THRESHOLD = 0.4  # between the two: ask which need is meant, if several fit
MARGIN = 0.08  # two needs closer than this are ambiguous
APP_NEED_THRESHOLD = 0.8  # a need said this surely frames an application named with it
MAX_CHOICES = 4
_SOCIAL = (HELP, NONE, THANKS)
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


@dataclass(frozen=True)
class _Question:
    """One question as the rules below read it."""

    norm: Normalized
    entities: Entities
    topics: frozenset[str]  # stems, denied or not: caveat topics match either
    scored: tuple[Scored, ...]  # every subject with a score, best first

    def decision(self, subject: str, **fields: Any) -> Decision:
        fields.setdefault("entities", self.entities)
        return Decision(subject, candidates=self.scored[:5], topics=self.topics, **fields)


def decide(question: str, knowledge: Knowledge, context: Context, today: date) -> Decision:
    """The rules, in order: a numbered choice, an entity-only follow-up, small talk and
    out-of-scope, then what the best-scored subjects and the guide's conditions say."""
    index = index_for(knowledge)
    lexicon = knowledge.lexicon
    norm = normalize(question, index.abbreviations, index.stopwords)
    entities = read_entities(
        norm.plain,
        devices=lexicon.devices,
        sensitive_words=lexicon.sensitive,
        approximate_numbers=lexicon.approximate_numbers,
    )
    topics = frozenset(t.removeprefix(NEGATED) for t in norm.tokens)
    earlier = Entities(
        context.participants, context.device, context.sensitive, context.participants_said
    )
    picked = _numbered_choice(norm, entities, earlier, context, knowledge, today, topics)
    if picked is not None:
        return picked
    # The situations the question says, as concept tokens beside its own (concepts.py).
    spans = index.concepts.spans(norm.words)
    said = tuple(spans)
    scored = score_subjects(norm.tokens + said, index, norm.surface + said, spans)
    q = _Question(norm, entities, topics, tuple(ranked(scored + score_apps(norm.typed, index))))
    return (
        _follow_up(q, earlier, context, knowledge, today)
        or _social(q)
        or _matched(q, knowledge, today)
    )


def _numbered_choice(
    norm: Normalized,
    entities: Entities,
    earlier: Entities,
    context: Context,
    knowledge: Knowledge,
    today: date,
    topics: frozenset[str],
) -> Decision | None:
    """ "2" after a clarification picks the second subject offered."""
    choice = _CHOICE.match(norm.plain)
    if not (choice and context.choices and 1 <= int(choice.group(1)) <= len(context.choices)):
        return None
    picked = context.choices[int(choice.group(1)) - 1]
    merged = entities.merged_over(earlier)
    subject, need = resolve(picked, merged, knowledge, today, context.need)
    return Decision(subject, merged, (Scored(picked, 1.0, frozenset()),), need, topics=topics)


def _follow_up(
    q: _Question, earlier: Entities, context: Context, knowledge: Knowledge, today: date
) -> Decision | None:
    """ "et sur iPhone ?", "et pour 80 personnes ?": only entities, so refine the last answer."""
    if q.entities.empty or context.subject in (None, CLARIFY, HELP, NONE):
        return None
    lexicon = knowledge.lexicon
    rest = without_entities(
        q.norm.plain, lexicon.devices, lexicon.sensitive, lexicon.approximate_numbers
    )
    stopwords = index_for(knowledge).stopwords | FOLLOW_UP_WORDS
    if normalize(rest, {}, stopwords).tokens:
        return None  # the message says something of its own
    merged = q.entities.merged_over(earlier)
    # A new count or sensitivity can change the tool: start again from the need.
    changed = q.entities.participants is not None or q.entities.sensitive
    base = f"need:{context.need}" if changed and context.need else context.subject
    assert base is not None
    subject, need = resolve(base, merged, knowledge, today, context.need)
    return q.decision(subject, entities=merged, need=need)


def _social(q: _Question) -> Decision | None:
    """Greetings, thanks and known off-topic requests; nothing matched well enough."""
    real = [s for s in q.scored if s.subject not in _SOCIAL]
    top = real[0] if real else None
    special = q.scored[0] if q.scored and q.scored[0].subject in _SOCIAL else None
    # A greeting in front of a real question ("bonjour, je cherche...") is no help
    # request, when the real subject explains as much of the rest as the greeting does.
    if (
        special is not None
        and special.subject in (HELP, THANKS)
        and top is not None
        and top.score >= ANSWER_THRESHOLD
        and len(top.matched - special.matched) >= len(special.matched - top.matched)
    ):
        special = None
    if special is not None and special.score >= CLARIFY_THRESHOLD:
        if special.subject == THANKS:  # reported as help: small talk is not out of scope
            return q.decision(HELP, brief=True)
        return q.decision(special.subject)
    if top is None or top.score < CLARIFY_THRESHOLD:
        return q.decision(NONE)
    # An off-topic phrasing said in full ("casque audio", "écran cassé"), and nothing of the
    # domain but the words it shares with it: no anchor for an answer.
    off_topic = next((s for s in q.scored if s.subject == NONE), None)
    if off_topic is not None and off_topic.score >= CLARIFY_THRESHOLD and not top.anchored:
        return q.decision(NONE)
    return None


def _matched(q: _Question, knowledge: Knowledge, today: date) -> Decision:
    """The best real subject, once the guide's conditions and the near-ties are weighed."""
    entities = q.entities
    # A count the tips do not serve (150 people) leaves them out: "en même temps" in a
    # question about a webinar is no call to merge.
    few = tips_apply(entities, knowledge)
    real = [s for s in q.scored if s.subject not in _SOCIAL and (few or s.subject[:4] != "tip:")]
    if not real:
        return q.decision(NONE)
    top = real[0]
    app = _named_app(real)
    if app is not None:
        need = _app_need(app, real, knowledge)
        return q.decision(f"need:{need}" if need else NONE, need=need, app=app)
    close = [s for s in real if s.score >= top.score - MARGIN]
    # A candidate explaining all the top one does and more is the more precise reading:
    # "stockage webmel" is the Stockage tab, not webMél; "webconf de l'état", not "webconf".
    top = next(
        (s for s in close if top.matched < s.matched and not s.subject.startswith("need:")),
        top,
    )

    # A device settles it: phones and calls mean the device's tip ("galaxy appel à 3").
    if entities.device and tips_apply(entities, knowledge):
        for s in close:
            tip = tip_for(entities.device, main_need(s.subject, knowledge), knowledge)
            if tip and has_tips(s.subject, knowledge):
                return q.decision(tip, need=knowledge.tips[tip.removeprefix("tip:")].need)
    # A tip asked without a device: which phone is it? ("comment fusionner des appels")
    tips = [s.subject for s in close if s.subject.startswith("tip:")]
    if top.subject.startswith("tip:") and not entities.device and len(tips) > 1:
        return q.decision(CLARIFY, choices=tuple(tips))
    # A need asked in words beats a tool the guide places elsewhere ("visio depuis mon tel").
    if top.subject.startswith("tool:"):
        for s in close[1:]:
            need_id = s.subject.removeprefix("need:")
            if s.subject.startswith("need:") and not placed(top.subject, need_id, knowledge):
                subject, need = resolve(s.subject, entities, knowledge, today, None)
                return q.decision(subject, need=need)
    # A tool of the need, named nearly as well as the need itself, is the precise answer
    # ("le service d'audio conférence du ministère" rather than every audio option).
    if top.subject.startswith("need:"):
        need_id = top.subject.removeprefix("need:")
        top = next(
            (
                s
                for s in close[1:]
                if s.score >= top.score - MARGIN / 2
                and s.subject.startswith("tool:")
                and unconditional(s.subject, need_id, entities, knowledge)
            ),
            top,
        )

    # Several needs within the margin of a need (or of a weak match): ask which one.
    strong = top.score >= ANSWER_THRESHOLD
    needs = _close_needs(real, top, knowledge)
    if len(needs) > 1 and (not strong or top.subject.startswith("need:")):
        return q.decision(CLARIFY, choices=tuple(needs))
    if not strong:  # a weak match on one subject: say what the bot covers instead
        return q.decision(NONE)
    subject = top.subject
    if subject.startswith("need:") and entities.participants is None:
        # A count settles the tool itself (resolve); without one, a question on a tool's
        # condition ("navigateur", "vpn") is about that tool.
        subject = caveat_subject(subject, q.topics, knowledge) or subject
    subject, need = resolve(subject, entities, knowledge, today, None)
    return q.decision(subject, need=need)


def _named_app(real: list[Scored]) -> str | None:
    """An application outside the offers named in the question, unless a tool of the guide
    is named more surely: the agent asks about that application, whatever need comes with
    it ("dropbox pour mes dossiers d'équipe")."""
    app = next((s for s in real if s.subject.startswith(APP_PREFIX)), None)
    if app is None or (real[0].subject.startswith("tool:") and real[0].score > app.score):
        return None
    return app.subject.removeprefix(APP_PREFIX)


def _app_need(app: str, real: list[Scored], knowledge: Knowledge) -> str | None:
    """The need the question clearly puts the application in, if it is one the application
    serves ("teams pour partager des fichiers"); else the application's main need."""
    serves = knowledge.outside_apps[app].needs
    for s in real:
        if not s.subject.startswith(APP_PREFIX) and s.score >= APP_NEED_THRESHOLD:
            need = main_need(s.subject, knowledge)
            if need in serves:
                return need
    return serves[0] if serves else None


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
