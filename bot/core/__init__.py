"""The pure answering core: no I/O, no transport. (question, context, knowledge) -> reply."""

from bot.core.answer import answer, prepare
from bot.core.context import Context
from bot.core.reply import Candidate, Reply

__all__ = ["Candidate", "Context", "Reply", "answer", "prepare"]
