"""What the core returns: the subject, scored candidates, plain text and Matrix HTML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    subject: str
    score: float


@dataclass(frozen=True)
class Reply:
    subject: str  # need:..., tool:..., tip:..., help, clarify or none
    candidates: tuple[Candidate, ...]
    text: str  # plain text: Matrix `body`
    html: str  # safe HTML subset: Matrix `formatted_body`

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "candidates": [
                {"subject": c.subject, "score": round(c.score, 3)} for c in self.candidates
            ],
            "text": self.text,
            "html": self.html,
        }
