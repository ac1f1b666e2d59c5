"""The knowledge base: its typed model (re-exported here), its subjects, and behind them the
loader of ``knowledge/*.yaml`` and its checker.

Importing this package imports only the model: the pure core reads it, and must not pull
the YAML reader or the checker in with it (tests/unit/test_layering.py). Who loads or
checks imports ``bot.knowledge.loader`` or ``bot.knowledge.check``; problems are in
``bot.knowledge.problems``.
"""

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
    "Lexicon",
    "Link",
    "Need",
    "Option",
    "OutsideApp",
    "Range",
    "Tip",
    "Tool",
]
