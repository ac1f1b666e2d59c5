"""Conversation state: pure data carried from one message to the next of one agent.

The transport keeps one per (room, agent) and hands it back with the next question. It is
what the thread is about: the subject and need under discussion, the entities given so far
(count, device, sensitivity, service), the options of the last clarification, and the tools
the last reply offered. So "2" or "le premier" picks an option, "nous serons 25" or "j'ai un
iPhone" refines the last answer, "c'est quoi le lien ?" asks about the tool just named, and
"détails" gives the rest of the last answer.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.core.entities import Entities
from bot.knowledge.subject import Subject


class Context(NamedTuple):
    subject: Subject | None = None  # subject of the last reply
    need: str | None = None  # need id the conversation is about
    participants: int | None = None
    participants_said: str | None = None  # how the agent said the count (entities.py)
    device: str | None = None
    sensitive: bool = False
    services: frozenset[str] = frozenset()  # where the agent works (lexicon.services)
    choices: tuple[Subject, ...] = ()  # offered by the last clarification, in order
    # Tools the last reply offered, the one it led with first: an attribute question
    # ("c'est quoi le lien ?") is about the first of them that the guide answers for.
    tools: tuple[str, ...] = ()
    # Tools a fact of the last reply led to ("pour toute nouvelle création, l'usage est
    # SharePoint"): what the tool under discussion does not give, they may ("qui contacter ?").
    led_to: tuple[str, ...] = ()
    app: str | None = None  # the application outside the offers the last reply was about
    # The last reply ruled its tool out for the count and offered ``tools`` instead: "le
    # lien ?" asks theirs, "pourquoi ?" or "une alternative ?" still the tool's.
    replaced: bool = False
    told_audience: bool = False  # the audience notice was said in this conversation

    @property
    def entities(self) -> Entities:
        return Entities(
            self.participants, self.device, self.sensitive, self.participants_said, self.services
        )

    @property
    def tool(self) -> str | None:
        """The tool last named."""
        return self.tools[0] if self.tools else None

    def fresh(self) -> Context:
        """A new topic: nothing carried but what was already said to this agent."""
        return Context(told_audience=self.told_audience)
