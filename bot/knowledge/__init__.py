"""The knowledge base: its typed model, the loader of ``knowledge/*.yaml`` and its checker.

Callers import from here; the modules behind are ``model``, ``loader``, ``check``, ``problems``.
"""

from bot.knowledge.check import check_knowledge
from bot.knowledge.loader import load_knowledge
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
from bot.knowledge.problems import KnowledgeError, Problem, format_problem

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
