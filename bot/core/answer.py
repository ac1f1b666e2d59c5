"""The answering function: (question, context, knowledge) -> (reply, next context)."""

from __future__ import annotations

from datetime import date

from bot.core.compose import Composer
from bot.core.context import Context
from bot.core.render import to_html, to_text
from bot.core.reply import Candidate, Reply
from bot.core.understand import CLARIFY, decide
from bot.knowledge.model import Knowledge


def answer(
    question: str,
    knowledge: Knowledge,
    context: Context | None = None,
    *,
    today: date | None = None,
) -> tuple[Reply, Context]:
    """Answer one question. Pure: same inputs, same reply; no I/O.

    ``today`` decides which dated offers have ended (defaults to the current date).
    """
    context = context or Context()
    today = today or date.today()
    decision = decide(question, knowledge, context, today)
    blocks = Composer(knowledge, decision, today).blocks()
    candidates = tuple(Candidate(s.subject, min(1.0, s.score)) for s in decision.candidates)
    if decision.subject == CLARIFY:
        candidates = tuple(Candidate(s, 1.0 / (i + 1)) for i, s in enumerate(decision.choices))
    reply = Reply(decision.subject, candidates, to_text(blocks), to_html(blocks))
    entities = decision.entities
    next_context = Context(
        subject=decision.subject,
        need=decision.need if decision.need is not None else context.need,
        participants=entities.participants,
        participants_said=entities.said,
        device=entities.device,
        sensitive=entities.sensitive,
        choices=decision.choices,
    )
    return reply, next_context
