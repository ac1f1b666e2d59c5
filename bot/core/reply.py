"""What the core returns: the subject, scored candidates, plain text and Matrix HTML."""

from __future__ import annotations

from typing import Any, NamedTuple

from bot.knowledge.subject import Subject


class Candidate(NamedTuple):
    subject: Subject
    score: float


class Reply(NamedTuple):
    subject: Subject  # a need, tool or tip; help, clarify or none (or admin: bot.matrix.ops)
    candidates: tuple[Candidate, ...]
    text: str  # plain text: Matrix `body`
    html: str  # safe HTML subset: Matrix `formatted_body`

    def to_json(self) -> dict[str, Any]:
        """The reply as ``tchap-bot ask --json`` writes it (shared/eval/README.md)."""
        return {
            "subject": str(self.subject),
            "candidates": [
                {"subject": str(c.subject), "score": round(c.score, 3)} for c in self.candidates
            ],
            "text": self.text,
            "html": self.html,
        }
