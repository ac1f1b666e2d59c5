"""The answering function: (question, context, knowledge, audience) -> (reply, next context);
and ``prepare``, which builds what answering derives from a knowledge object."""

from __future__ import annotations

from datetime import date

from bot.core.audience import EVERYONE, Audience
from bot.core.compose import Composer
from bot.core.context import Context
from bot.core.cues import cues_for
from bot.core.decision import Decision
from bot.core.index import index_for
from bot.core.render import para, to_html, to_text
from bot.core.reply import Candidate, Reply
from bot.core.understand import decide
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import CLARIFY, HELP, NONE, SubjectKind, need_subject


def prepare(knowledge: Knowledge) -> Knowledge:
    """Build the matching index and the conversation cues of ``knowledge`` now, and return it.

    Called where the knowledge is loaded (the reload's worker thread, the bot's start, the
    CLI), so that the first question after a load does not build them on the event loop
    (about 36 ms on the shipped knowledge). ``answer`` still builds them if nobody did.
    """
    index_for(knowledge)
    cues_for(knowledge)
    return knowledge


def answer(
    question: str,
    knowledge: Knowledge,
    context: Context | None = None,
    *,
    today: date | None = None,
    audience: Audience = EVERYONE,
) -> tuple[Reply, Context]:
    """Answer one question. Pure: same inputs, same reply; no I/O.

    ``today`` decides which dated offers have ended (defaults to the current date);
    ``audience`` says whether the agent is one the guide is written for.
    """
    context = context or Context()
    today = today or date.today()
    decision = decide(question, knowledge, context, today)
    composer = Composer(knowledge, decision, today, outsider=audience.outsider)
    blocks = composer.blocks()
    told = context.told_audience
    notice = knowledge.conversation.audience_notice
    if audience.outsider and not told and notice and _about_the_guide(decision):
        blocks, told = [para(notice), *blocks], True
    candidates = tuple(Candidate(s.subject, min(1.0, s.score)) for s in decision.candidates)
    if decision.subject == CLARIFY:
        candidates = tuple(Candidate(s, 1.0 / (i + 1)) for i, s in enumerate(decision.choices))
    tools = tuple(dict.fromkeys(composer.tools))
    decision = _instead(decision, tools)
    if (
        composer.redirected is not None
        and decision.follow_up
        and decision.subject.kind is SubjectKind.TOOL
    ):
        # "et pour en créer un nouveau ?" of Alfresco is SharePoint's question; one that
        # names Alfresco ("alfresco, on peut encore créer ?") stays about it.
        decision = decision._replace(subject=knowledge.tools[composer.redirected].subject)
    subject = decision.subject
    if decision.picked is not None and decision.picked.kind is SubjectKind.NEED:
        # "on est 3 … ?", then "la première": the reply is the need picked, for the count
        # said (the mobile, for 3); the thread goes on with the tool it gives.
        subject = decision.picked
    if decision.recounted and composer.replaced and decision.need is not None:
        # "scaleway", then "et à 9 ?": what to use for 9 is the need's answer; the thread
        # stays on the tool ("pourquoi ?", "une alternative ?").
        subject = need_subject(decision.need)
    reply = Reply(subject, candidates, to_text(blocks), to_html(blocks))
    led_to = tuple(dict.fromkeys(composer.led_to))
    after = _next(context, decision, tools, told)
    return reply, after._replace(led_to=led_to, replaced=composer.replaced)


def _instead(decision: Decision, offered: tuple[str, ...]) -> Decision:
    """ "à la place de Zoom ?": the reply is about the need's tools instead, and so are the
    follow-ups ("c'est quoi le lien ?" asks the first offered)."""
    if (
        "alternatives" in decision.attributes
        and decision.subject.kind is SubjectKind.TOOL
        and decision.need is not None
        and offered
    ):
        return decision._replace(subject=need_subject(decision.need))
    return decision


def _about_the_guide(decision: Decision) -> bool:
    """The notice goes with the first reply that is more than small talk."""
    return not decision.brief


def _next(context: Context, decision: Decision, tools: tuple[str, ...], told: bool) -> Context:
    """What the conversation is about after this reply. A reply that is no answer (small
    talk, out of scope) or only the rest of the last one ("détails") keeps the thread."""
    base = context.fresh() if decision.fresh else context
    if decision.details or decision.subject in (HELP, NONE):
        return base._replace(told_audience=told)
    e = decision.entities
    return Context(
        subject=decision.subject,
        need=decision.need if decision.need is not None else base.need,
        participants=e.participants,
        participants_said=e.said,
        device=e.device,
        sensitive=e.sensitive,
        services=e.services,
        choices=decision.choices,
        tools=tools,
        app=decision.app,
        told_audience=told,
    )
