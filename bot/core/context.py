"""Conversation context: pure data carried from one message to the next of one agent.

The transport keeps one per (room, agent) and hands it back with the next question, so
"2" picks the second option of a clarification and "et sur iPhone ?" or "et pour 80
personnes ?" refine the previous answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    subject: str | None = None  # subject of the last reply
    need: str | None = None  # need id the conversation is about
    participants: int | None = None
    participants_said: str | None = None  # how the agent said the count (entities.py)
    device: str | None = None
    sensitive: bool = False
    choices: tuple[str, ...] = ()  # subjects offered by the last clarification, in order


EMPTY = Context()
