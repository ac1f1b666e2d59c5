"""What a question, a candidate or a reply is about: a kind and, for an entry, its id.

Inside the bot a subject is a :class:`Subject` value. Its string form (``need:email``,
``tool:zoom``, ``tip:merge_calls_iphone``, ``app:dropbox``, ``help``, ``none``,
``clarify``) is the contract of ``shared/eval/README.md``: it is written and read only at
the edges (the JSON of ``tchap-bot ask``, the evaluation, metrics labels), with ``str()``
and :meth:`Subject.parse`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class SubjectKind(StrEnum):
    NEED = "need"
    TOOL = "tool"
    TIP = "tip"
    APP = "app"  # an application the guide does not name (outside both offers)
    HELP = "help"  # greeting, menu; small talk is reported under it
    NONE = "none"  # out of scope
    THANKS = "thanks"  # small talk as matched ("merci"); the reply's subject is help
    CLARIFY = "clarify"  # the reply asks which of its choices is meant
    ADMIN = "admin"  # an operator command's reply (bot.matrix.ops): no question answered


# The kinds that name an entry of the knowledge, and so carry an id.
ENTRY_KINDS = frozenset({SubjectKind.NEED, SubjectKind.TOOL, SubjectKind.TIP, SubjectKind.APP})


# A NamedTuple rather than a dataclass: the matcher keys every pattern hit by subject, and a
# tuple's hash and equality run in C (a frozen dataclass's are Python calls, 4x slower).
# Tuples order as the string forms do (no kind is a prefix of another).
class Subject(NamedTuple):
    kind: SubjectKind
    id: str = ""  # the entry's id; empty for the kinds outside ENTRY_KINDS

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id else self.kind.value

    def __repr__(self) -> str:
        return f"Subject.parse({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> Subject:
        """The subject a contract string names; ValueError for anything else."""
        name, sep, ident = text.partition(":")
        try:
            kind = SubjectKind(name)
        except ValueError:
            raise ValueError(f"not a subject: {text!r}") from None
        if (kind in ENTRY_KINDS) != bool(ident) or (sep and not ident):
            raise ValueError(f"not a subject: {text!r}")
        return cls(kind, ident)


def need_subject(ident: str) -> Subject:
    return Subject(SubjectKind.NEED, ident)


def tool_subject(ident: str) -> Subject:
    return Subject(SubjectKind.TOOL, ident)


def tip_subject(ident: str) -> Subject:
    return Subject(SubjectKind.TIP, ident)


def app_subject(ident: str) -> Subject:
    return Subject(SubjectKind.APP, ident)


HELP = Subject(SubjectKind.HELP)
NONE = Subject(SubjectKind.NONE)
THANKS = Subject(SubjectKind.THANKS)
CLARIFY = Subject(SubjectKind.CLARIFY)
ADMIN = Subject(SubjectKind.ADMIN)
