"""What the rules decide a reply is about, and one question as they read it."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from bot.core.cues import Moves, cues_for, read_moves
from bot.core.entities import Entities, read_entities, without_entities
from bot.core.index import index_for
from bot.core.matcher import Scored, ranked, score_apps, score_subjects
from bot.core.normalize import NEGATED, Normalized, normalize, stem
from bot.core.typos import joined_names
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import CLARIFY, HELP, NONE, THANKS, Subject, SubjectKind

SOCIAL = (HELP, NONE, THANKS)
# What a conversation cannot be about: nothing yet, a question back, small talk.
NO_TOPIC = (None, CLARIFY, *SOCIAL)


class Decision(NamedTuple):
    """What to answer, as the rules decided it (understand.py, thread.py); compose.py says it.
    A NamedTuple, as every value made per question: built faster than a dataclass."""

    subject: Subject  # a need, tool or tip; help, clarify or none
    entities: Entities
    candidates: tuple[Scored, ...]
    need: str | None = None  # the need the answer is framed in
    app: str | None = None  # an application the guide does not name, when asked about
    unnamed_app: bool = False  # an application nothing names is asked about (unnamed.py)
    avoided: bool = False  # "quels outils éviter ?": what the guide asks to avoid, every need
    choices: tuple[Subject, ...] = ()  # for clarify
    brief: bool = False  # small talk ("merci"): a short reply, no menu
    topics: frozenset[str] = frozenset()  # question stems, for caveats
    attributes: tuple[str, ...] = ()  # what is asked of the subject ("link", "limit"...)
    follow_up: bool = False  # asked of the subject under discussion, not named again
    details: bool = False  # the rest of the last answer, on demand
    yes_no: bool = False  # "puis-je… ?": the reply starts with Oui or Non
    needed: bool = False  # "faut-il… ?"
    negated: frozenset[str] = frozenset()  # stems the question denies ("pas de VPN")
    words: frozenset[str] = frozenset()  # the question's plain words (roles: "organiser")
    fresh: bool = False  # a topic switch: the context is not carried
    compared: tuple[Subject, ...] = ()  # tools to set side by side, the subject first
    also: tuple[Subject, ...] = ()  # another need the message asks in its own words (also.py)
    also_entities: Entities | None = None  # its own count, said on its side ("et audio à 5")
    unknown: bool = False  # a short question on the subject the guide says nothing of
    recounted: bool = False  # a new count rules out the tool under discussion (thread.refine)
    picked: Subject | None = None  # the option picked by its number (thread.pick)


class Question(NamedTuple):
    """One message as the rules read it."""

    text: str
    norm: Normalized
    moves: Moves
    entities: Entities
    topics: frozenset[str]  # stems, denied or not: caveat topics match either
    scored: tuple[Scored, ...]  # every subject with a score, best first
    # "ou" as typed: the folded text cannot tell it from "où" ("où trouver zoom ?")
    says_or: bool = False

    def decision(self, subject: Subject, **fields: Any) -> Decision:
        fields.setdefault("entities", self.entities)
        fields.setdefault("candidates", self.scored[:5])
        fields.setdefault("yes_no", self.moves.yes_no)
        return Decision(
            subject,
            topics=self.topics,
            needed=self.moves.needed,
            negated=self.negated,
            words=frozenset(self.norm.words),
            **fields,
        )

    @property
    def negated(self) -> frozenset[str]:
        """The stems the message denies ("pas de VPN")."""
        return frozenset(t.removeprefix(NEGATED) for t in self.norm.tokens if t.startswith(NEGATED))

    @property
    def real(self) -> list[Scored]:
        return [s for s in self.scored if s.subject not in SOCIAL]


_OR = re.compile(r"(?<!\w)ou(?!\w)", re.IGNORECASE)
# What an "ou" offering a choice has after it: a word ("jle trouve ou ?" asks where).
_OR_WORD = re.compile(r"[^\W\d_]{3,}(?<!pas)(?<!non)")
_INVERTED = re.compile(r"\best (?:il|elle|ce)\b")  # "est-il", "est-ce": a question
# "sûr" (safe) ending a question, as typed: the accent or the question mark tells it from
# the preposition ("c'est sur mon téléphone ?" has a word after it).
# "t'es sûr ?", "vous êtes sûr ?" ask the bot whether it is sure, not whether a tool is.
_SURE = re.compile(r"(?i)(?<!es\s)\bs(?:û|u)re?s?\s*\?|(?<!es\s)\bsûre?s?\s*$")
MAX_SURE = 200  # "c'est sûr ?" is a short question; a paste is not searched


def read_question(text: str, knowledge: Knowledge) -> Question:
    index = index_for(knowledge)
    lexicon = knowledge.lexicon
    norm = normalize(text, index.abbreviations, index.stopwords)
    moves = read_moves(norm.plain, cues_for(knowledge))
    entities = read_entities(
        norm.plain,
        devices=lexicon.devices,
        sensitive_words=lexicon.sensitive,
        approximate_numbers=lexicon.approximate_numbers,
        services=lexicon.services,
    )
    if (
        entities.sensitive
        and moves.attributes == ("confidentiality",)
        and "?" not in text
        and not _INVERTED.search(norm.plain)
    ):
        # "c'est confidentiel", said without a question mark, says the topic is; "est-il
        # confidentiel" still asks.
        moves = moves._replace(attributes=())
    elif entities.sensitive and moves.attributes:
        # "c'est confidentiel ?" asks about confidentiality; it does not say the topic is.
        sensitive = read_entities(
            moves.rest, devices={}, sensitive_words=lexicon.sensitive, approximate_numbers={}
        ).sensitive
        entities = entities._replace(sensitive=sensitive)
    if len(text) <= MAX_SURE and _SURE.search(text) and "confidentiality" not in moves.attributes:
        # "c'est sûr ?", "est-ce sûr ?": folded, "sûr" is "sur", which no cue may be.
        moves = moves._replace(attributes=(*moves.attributes, "confidentiality"), yes_no=True)
    scored = score(norm, knowledge, counted=entities.participants is not None)
    says_or = any(_OR_WORD.search(text, m.end()) for m in _OR.finditer(text))
    return Question(text, norm, moves, entities, _topics(norm, moves), scored, says_or)


def _topics(norm: Normalized, moves: Moves) -> frozenset[str]:
    # A misspelt cue asks its topic: "navigater" is the browsers' caveat.
    said = (t.removeprefix(NEGATED) for t in norm.tokens)
    return frozenset((*said, *(stem(cue) for cue in moves.near_cues)))


def score(norm: Normalized, knowledge: Knowledge, counted: bool = False) -> tuple[Scored, ...]:
    """Every subject scored against the question, best first (matcher.py). ``counted``: the
    question gives a participant count, whose unit ("personnes") is no question on a limit."""
    index = index_for(knowledge)
    # The situations the question says, as concept tokens beside its own (concepts.py).
    spans = index.concepts.spans(norm.words)
    said = tuple(spans) + joined_names(norm.surface, index)
    units = index.count_units if counted else frozenset()
    scored = score_subjects(norm.tokens + said, index, norm.surface + said, spans, units)
    return tuple(ranked(scored + score_apps(norm.typed, index)))


def rest_of(q: Question, knowledge: Knowledge) -> str:
    """The message without its cues (attributes, yes/no...) and its entities (count,
    device, sensitivity, service): what it names of its own ("tixeo" of "tixeo c'est
    gratuit pour 8 ?")."""
    lexicon = knowledge.lexicon
    return without_entities(
        q.moves.rest,
        lexicon.devices,
        lexicon.sensitive,
        lexicon.approximate_numbers,
        lexicon.services,
    )


def score_rest(q: Question, rest: str, knowledge: Knowledge) -> tuple[Scored, ...]:
    """Every subject scored against the rest of a message: its words without the cue of an
    attribute or the entities ("tixeo" of "tixeo c'est gratuit ?").

    When the words taken out touch nothing the message's own scoring used (no pattern
    matched them, no concept or caveat topic holds them), the message's scores are the
    rest's: the second pass over the patterns, the costliest part of an attribute question
    on a large knowledge, is saved. tests/unit/test_score_rest.py checks the two agree."""
    index = index_for(knowledge)
    norm = normalize(rest, index.abbreviations, index.stopwords)
    kept = set(norm.tokens)
    asked = set(q.norm.tokens)
    removed = asked - kept
    concepts = index.concepts
    # The rest is read folded ("google docs" became "google documents"): the applications
    # the message names are still named, cues and entities being no names.
    apps = [s for s in q.scored if s.subject.kind is SubjectKind.APP]
    if (
        {s.subject for s in apps} == {s.subject for s in score_apps(norm.typed, index)}
        and kept <= asked
        and removed.isdisjoint(index.topic_words)
        and not (q.entities.participants is not None and not kept.isdisjoint(index.count_units))
        and all(removed.isdisjoint(s.matched) for s in q.scored)
    ):
        said = concepts.spans(q.norm.words)
        if said.keys() == concepts.spans(norm.words).keys() and all(
            removed.isdisjoint(stems) for stems in said.values()
        ):
            return q.scored
    scored = score(norm, knowledge)
    found = {s.subject for s in scored}
    missing = [a for a in apps if a.subject not in found]
    return tuple(ranked([*scored, *missing])) if missing else scored


def score_text(text: str, knowledge: Knowledge) -> tuple[Scored, ...]:
    index = index_for(knowledge)
    return score(normalize(text, index.abbreviations, index.stopwords), knowledge)
