"""The knowledge base: typed model, loader of ``knowledge/*.yaml`` and its checker."""

from bot.knowledge.check import check_knowledge
from bot.knowledge.loader import KnowledgeError, Problem, format_problem, load_knowledge
from bot.knowledge.model import (
    Category,
    Caveat,
    Contact,
    Conversation,
    Knowledge,
    Lexicon,
    Link,
    Need,
    Option,
    OutsideApp,
    Range,
    Tip,
    Tool,
)

__all__ = [
    "Category",
    "Caveat",
    "Contact",
    "Conversation",
    "Knowledge",
    "KnowledgeError",
    "Lexicon",
    "Link",
    "Need",
    "Option",
    "OutsideApp",
    "Problem",
    "Range",
    "Tip",
    "Tool",
    "check_knowledge",
    "format_problem",
    "load_knowledge",
]
