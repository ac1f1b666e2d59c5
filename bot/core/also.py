"""A second need asked in the same message: "une visio à 20, et ensuite partager les
documents". The reply answers the need asked first and gives the second one's tool in a
line, rather than dropping it; a count said on each side goes with its own need ("une
visio à 20 et une audio à 5").

Only where the message says it apart: each need in words of its own, on either side of a
joining word. A need that only shares a word with the first ("partager" an écran and a
document) or that the same words describe ("présenter un document en visio") is no second
question.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.core.concepts import CONCEPT
from bot.core.conditions import main_need
from bot.core.decision import Question
from bot.core.entities import Entities, read_count
from bot.core.matcher import Scored
from bot.core.normalize import NEGATED, stem
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import Subject, SubjectKind

ALSO_THRESHOLD = 0.75  # a second need named this well, in its own words
JOINERS = frozenset({"et", "puis", "ensuite", "aussi", "ainsi", "egalement"})


def also_asked(q: Question, subject: Subject, knowledge: Knowledge) -> tuple[Subject, ...]:
    """The other need the message asks beside the one its answer is about, if any."""
    words = q.norm.words
    if JOINERS.isdisjoint(words):
        return ()  # most messages
    need = main_need(subject, knowledge)
    real = q.real
    first = next((s for s in real if main_need(s.subject, knowledge) == need), None)
    if need is None or first is None:
        return ()
    for s in real:
        if s.score < ALSO_THRESHOLD:
            break
        if s.subject.kind is not SubjectKind.NEED or s.subject.id == need or not s.anchored:
            continue
        if _apart(words, first, s):
            return (s.subject,)
    return ()


def both_asked(q: Question, needs: list[Subject]) -> tuple[Subject, Subject] | None:
    """Two needs as close as to ask which one ("partager un fichier lourd et le montrer en
    visio") that the message asks one after the other: both are answered (in_order)."""
    if len(needs) != 2 or JOINERS.isdisjoint(q.norm.words):
        return None
    best = {n: next((s for s in q.real if s.subject == n), None) for n in needs}
    first, second = best[needs[0]], best[needs[1]]
    if first is None or second is None or min(first.score, second.score) < ALSO_THRESHOLD:
        return None
    if not (first.anchored and second.anchored and _apart(q.norm.words, first, second)):
        return None
    return first.subject, second.subject


class Asked(NamedTuple):
    """Two needs of one message in the order it asks them, each with its own count."""

    first: Subject
    second: Subject
    entities: Entities  # the first's: the count said on its side, or the message's
    second_entities: Entities | None  # the second's, when its side says one


def in_order(q: Question, one: Subject, other: Subject, knowledge: Knowledge) -> Asked:
    """ "une visio à 20 et une audio à 5": the visio first, for 20; the audio, for 5."""
    a = next((s for s in q.real if s.subject == one), None)
    b = next((s for s in q.real if s.subject == other), None)
    words = q.norm.words
    join = _join(words, a, b) if a is not None and b is not None else None
    if a is None or b is None or join is None:
        return Asked(one, other, q.entities, None)
    stems = [stem(w) for w in words]
    if not _before(_positions(stems, a.matched - b.matched), join):
        one, other = other, one  # the one said first is answered first
    e = q.entities
    if e.participants is None:
        return Asked(one, other, e, None)
    approximate = knowledge.lexicon.approximate_numbers
    left = read_count(" ".join(words[:join]), approximate)
    right = read_count(" ".join(words[join + 1 :]), approximate)
    if left is None or right is None:
        return Asked(one, other, e, None)
    return Asked(
        one,
        other,
        e._replace(participants=left[0], said=left[1]),
        e._replace(participants=right[0], said=right[1]),
    )


def _apart(words: tuple[str, ...], first: Scored, second: Scored) -> bool:
    """The two needs' own words lie on either side of a joining word."""
    return _join(words, first, second) is not None


def _join(words: tuple[str, ...], first: Scored, second: Scored) -> int | None:
    """Where the joining word is that the two needs' own words lie on either side of."""
    stems = [stem(w) for w in words]
    a = _positions(stems, first.matched - second.matched)
    b = _positions(stems, second.matched - first.matched)
    if not a or not b:
        return None
    joins = [i for i, w in enumerate(words) if w in JOINERS]
    # Most of each one's words on its side: "quel outil pour discuter en équipe et pour
    # stocker nos fichiers" (the "outil" of the second is said first).
    return next(
        (
            j
            for j in joins
            if _before(a, j) != _before(b, j)
            and _opens_a_request(words, j, first.matched | second.matched)
        ),
        None,
    )


def _opens_a_request(words: tuple[str, ...], join: int, said: frozenset[str]) -> bool:
    """What follows the joining word asks something: "et pour stocker", "et ensuite
    partager", "et une visio", "et audio à 5"; not a complaint ("et ça pollue ma boîte")."""
    rest = [w for w in words[join + 1 :] if w not in JOINERS]
    if not rest:
        return False
    word = rest[0]
    return word in _REQUEST_OPENERS or word.endswith(_INFINITIVE) or stem(word) in said


_REQUEST_OPENERS = frozenset("pour un une des le la les l d de du avec sur".split())
_INFINITIVE = ("er", "ir", "re")


def _before(positions: list[int], join: int) -> bool:
    return 2 * sum(p < join for p in positions) > len(positions)


def _positions(stems: list[str], tokens: frozenset[str]) -> list[int]:
    """Where the tokens are said; a concept token ("#document") is not located, and a
    need explained only by them is not said apart."""
    out = []
    for token in tokens:
        if token.startswith((CONCEPT, NEGATED)):
            continue
        if token in stems:
            out.append(stems.index(token))
    return out
