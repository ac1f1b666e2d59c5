"""The knowledge in service, swapped whole so a question never sees a mix of two versions."""

from __future__ import annotations

from bot.knowledge.model import Knowledge


class KnowledgeHolder:
    """Holds the current knowledge. Readers take ``current`` once per question and use that
    object to the end: a reload replaces the reference atomically and never mutates it."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._current = knowledge

    @property
    def current(self) -> Knowledge:
        return self._current

    def swap(self, knowledge: Knowledge) -> Knowledge:
        previous, self._current = self._current, knowledge
        return previous
