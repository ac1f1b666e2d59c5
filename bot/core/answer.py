"""The answering function: (question, context, knowledge) -> (reply, next context)."""

from __future__ import annotations

from datetime import date

from bot.core.context import EMPTY, Context
from bot.core.reply import Candidate, Reply
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
    # Placeholder until the matcher lands: every question gets the help menu.
    del question, context, today
    text = knowledge.conversation.greeting
    return Reply("help", (Candidate("help", 1.0),), text, f"<p>{text}</p>"), EMPTY
