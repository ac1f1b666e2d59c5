"""The knowledge in service, swapped whole so a question never sees a mix of two versions."""

from __future__ import annotations

import time

from bot.knowledge.model import Knowledge


class KnowledgeHolder:
    """Holds the current knowledge. Readers take ``current`` once per question and use that
    object to the end: a reload replaces the reference atomically and never mutates it.

    ``generation`` counts the swaps (1 for the knowledge loaded at start) and ``loaded_at``
    is the Unix time of the last one, for the ``version`` admin command and the logs.
    """

    def __init__(self, knowledge: Knowledge) -> None:
        self._current = knowledge
        self._generation = 1
        self._loaded_at = time.time()

    @property
    def current(self) -> Knowledge:
        return self._current

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def loaded_at(self) -> float:
        return self._loaded_at

    def swap(self, knowledge: Knowledge) -> Knowledge:
        """Put ``knowledge`` in service and return the previous one. One reference
        assignment: atomic for every reader, on the event loop or in another thread."""
        previous, self._current = self._current, knowledge
        self._generation += 1
        self._loaded_at = time.time()
        return previous
