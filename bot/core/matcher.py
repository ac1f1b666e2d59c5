"""Scores every subject against a question's tokens (see index.py for the patterns).

A pattern's score is the IDF-weighted share of its tokens found in the question, scaled by
how specific the pattern is. What a typed word may mean is in typos.py. Only the patterns
that can reach a useful share are scored: a common word ("réunion") reaches hundreds of
patterns in a large knowledge, and most of them it cannot make relevant on its own.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from bot.core.index import NAME_FACTOR, Index, Pattern
from bot.core.normalize import stem
from bot.core.typos import similar_tokens
from bot.knowledge.subject import HELP, NONE, THANKS, Subject, SubjectKind, app_subject

# Other patterns of the same subject that cover more of the question add a little.
EXTRA_TOKEN_BONUS = 0.04
EXTRA_BONUS_CAP = 0.12
LONGER_MATCH_BONUS = 0.03
TOPIC_BONUS = 0.1
UNNAMED_PENALTY = 0.5
SOCIAL = frozenset({HELP, NONE, THANKS})  # matched only (nearly) in full
SOCIAL_COVERAGE = 0.85
SITUATION_COVERAGE = 0.85  # half a situation ("à distance") says nothing
SITUATION_OVERLAP = 0.5  # weight of a word another subject's situation already explains
# Below this share of its weight a pattern is noise: the decision thresholds (understand.py)
# are far above what it could score, so it is neither gathered nor scored.
MIN_COVERAGE = 0.25
FEW = 64  # candidates read pattern by pattern; beyond, split by set operations
FEW_IN_PART = 16  # patterns of a part all scored by the general rules; beyond, by rows


class Scored(NamedTuple):
    """A NamedTuple, not a frozen dataclass: one is made per subject per scoring, and a
    tuple is built in one step where a frozen dataclass sets each field by a call."""

    subject: Subject
    score: float
    matched: frozenset[str]  # question tokens the subject explains
    # The best match holds a word that no off-topic phrasing shares with the domain:
    # "visio" anchors an answer, "écran" or "téléphone" alone do not (understand.py).
    anchored: bool = True


def _meanings(
    tokens: Sequence[str], surface: Sequence[str], index: Index
) -> dict[str, tuple[float, str]]:
    """Indexed token -> (similarity, question token) of its best reading in the question."""
    words = dict(zip(tokens, surface, strict=False))
    meanings: dict[str, tuple[float, str]] = {}
    for q_token in dict.fromkeys(tokens):
        for known, similarity in similar_tokens(q_token, words.get(q_token, q_token), index):
            best = meanings.get(known)
            if best is None or similarity > best[0]:
                meanings[known] = (similarity, q_token)
    return meanings


def _candidates(meanings: dict[str, tuple[float, str]], index: Index) -> set[int]:
    """Every pattern that can reach MIN_COVERAGE, and few others.

    Tokens are taken rarest first. A pattern first reached through token t holds none of
    the rarer ones, so at most the weight of t and of the commoner tokens can be found in
    it: it can reach MIN_COVERAGE only if its own weight is at most that sum over
    MIN_COVERAGE. Postings are sorted by weight, so that is a prefix of each list.
    """
    known = sorted(meanings, key=lambda t: len(index.postings[t]))
    remaining = sum(index.idf[t] * meanings[t][0] for t in known)
    found: set[int] = set()
    for token in known:
        cut = bisect_right(index.weights[token], remaining / MIN_COVERAGE + 1e-9)
        found.update(index.postings[token][:cut])
        remaining -= index.idf[token] * meanings[token][0]
    return found


class _Held(NamedTuple):
    """What a pattern holding this set of the question's meanings gets from them."""

    tokens: tuple[str, ...]  # the indexed tokens, in the question's order
    total: float | None  # their weight, when the order of the sum cannot change it
    rough: float  # their weight in the question's order, for pruning only
    asked: frozenset[str]  # the question tokens they read
    anchored: bool  # one of them is no weak token (index.py)
    bonus: float  # the longer-match bonus of a pattern holding them
    rarest: str  # the token with the shortest postings


class _Reading:
    """The question's meanings as bits, and the candidate patterns split by which of them
    they hold.

    The split is made by set operations (in C) on each token's postings, not token by token
    in each pattern: in a large knowledge a common word reaches thousands of patterns, and
    most of them hold the same one or two of the question's words, so they share the same
    sum of weights and only their own weight tells them apart.
    """

    def __init__(self, meanings: dict[str, tuple[float, str]], found: set[int], index: Index):
        self.meanings = meanings
        self.index = index
        self.bits = {t: 1 << i for i, t in enumerate(meanings)}
        self.costs = {t: index.idf[t] * sim for t, (sim, _) in meanings.items()}
        self.parts = self._split(found) if len(found) > FEW else self._read(found)
        self._held: dict[int, _Held] = {}
        self._asked: dict[int, frozenset[str]] = {}

    def _read(self, found: set[int]) -> list[tuple[int, set[int]]]:
        """A few candidates: each one's tokens looked up, cheaper than the set operations."""
        bits, patterns, off_topic = self.bits, self.index.patterns, self.index.off_topic
        # An off-topic cue is typed as is, never guessed.
        exact = sum(bit for t, bit in bits.items() if self.meanings[t][0] == 1.0)
        parts: dict[int, set[int]] = {}
        for position in found:
            mask = 0
            for token in patterns[position].tokens:
                mask |= bits.get(token, 0)
            if position in off_topic:
                mask &= exact
            if mask:  # 0: nothing held
                parts.setdefault(mask, set()).add(position)
        return list(parts.items())

    def _split(self, found: set[int]) -> list[tuple[int, set[int]]]:
        meanings, index = self.meanings, self.index
        parts: list[tuple[int, set[int]]] = [(0, found)]
        for token, bit in self.bits.items():
            holders = index.holders[token]
            split: list[tuple[int, set[int]]] = []
            for mask, part in parts:
                inside = part & holders
                if meanings[token][0] != 1.0:  # an off-topic cue is typed as is, never guessed
                    inside -= index.off_topic
                if inside:
                    split.append((mask | bit, inside))
                    part = part - inside
                if part:
                    split.append((mask, part))
            parts = split
        return [(mask, part) for mask, part in parts if mask]  # 0: nothing held

    def held(self, mask: int) -> _Held:
        held = self._held.get(mask)
        if held is None:
            tokens = tuple(t for t, bit in self.bits.items() if bit & mask)
            rough = sum(self.costs[t] for t in tokens)
            # Two terms add up the same in either order; three or more are summed in the
            # pattern's own order (coverage), as a pattern's tokens are read.
            total = rough if len(tokens) <= 2 else None
            asked = frozenset(self.meanings[t][1] for t in tokens)
            anchored = any(t not in self.index.weak for t in tokens)
            bonus = LONGER_MATCH_BONUS * (len(asked) - 1)
            postings = self.index.postings
            rarest = min(tokens, key=lambda t: len(postings[t]), default="")
            held = _Held(tokens, total, rough, asked, anchored, bonus, rarest)
            self._held[mask] = held
        return held

    def asked(self, mask: int) -> frozenset[str]:
        """The question tokens the meanings of ``mask`` read (held(mask).asked, alone)."""
        asked = self._asked.get(mask)
        if asked is None:
            held = self._held.get(mask)
            if held is not None:
                asked = held.asked
            else:
                meanings = self.meanings
                asked = frozenset(meanings[t][1] for t, bit in self.bits.items() if bit & mask)
            self._asked[mask] = asked
        return asked

    def light(self, part: set[int], held: _Held) -> set[int]:
        """The patterns of a part light enough to reach MIN_COVERAGE (and a hair more, for
        rounding): a prefix of the postings of its rarest token, sorted by weight."""
        index = self.index
        token = held.rarest
        weights = index.weights[token]
        cut = bisect_right(weights, held.rough / MIN_COVERAGE * (1 + 1e-9))
        if cut == len(weights):
            return part
        return part.intersection(index.postings[token][:cut])

    def coverage(self, pattern: Pattern, mask: int, held: _Held) -> float:
        total = held.total
        if total is None:
            bits, costs = self.bits, self.costs
            total = sum(costs[t] for t in pattern.tokens if bits.get(t, 0) & mask)
        return total / pattern.weight

    def kept(self, mask: int, taken: AbstractSet[str]) -> float:
        """The weight of at most two meanings beside situations that use the stems
        ``taken``: a question word a situation already explains counts at half weight."""
        costs, meanings = self.costs, self.meanings
        return sum(
            costs[t] * SITUATION_OVERLAP if meanings[t][1] in taken else costs[t]
            for t in self.held(mask).tokens
        )

    def matched(self, pattern: Pattern, mask: int) -> dict[str, tuple[float, str]]:
        """The meanings the pattern holds, in its own order."""
        return {t: self.meanings[t] for t in pattern.tokens if self.bits.get(t, 0) & mask}


def score_subjects(
    tokens: Sequence[str],
    index: Index,
    surface: Sequence[str] = (),
    situation_words: Mapping[str, frozenset[str]] | None = None,
    count_units: frozenset[str] = frozenset(),
) -> list[Scored]:
    """All subjects with a useful score.

    ``count_units``: the words that follow the participant count the question gives
    ("30 personnes"); they ask nothing about a tool's limit, and lean to no tool.

    ``situation_words``: concept token -> the question's stems that say it (concepts.py).
    Words that make up a situation matched in full are read as that situation: another
    subject matching the same words literally ("vidéo" in "une vidéo de 2 Go à envoyer")
    counts them at half weight.
    """
    meanings = _meanings(tokens, surface, index)
    found = _candidates(meanings, index)
    reading = _Reading(meanings, found, index)
    patterns = index.patterns
    consumed: dict[Subject, set[str]] = defaultdict(set)  # subject -> stems its situations use
    if situation_words:
        for mask, part in reading.parts:
            held = reading.held(mask)
            for position in part & index.situations:
                pattern = patterns[position]
                if reading.coverage(pattern, mask, held) >= SITUATION_COVERAGE:
                    for token in held.tokens:
                        consumed[pattern.subject] |= situation_words.get(token, frozenset())

    # subject -> (score, mask, position) of its best pattern, and the other patterns of the
    # same score (position, mask): the first in the candidates' order wins a tie.
    best: dict[Subject, tuple[float, int, int]] = {}
    tied: dict[Subject, list[tuple[int, int]]] = {}
    covered: dict[Subject, int] = {}  # subject -> every meaning its patterns explain
    others: dict[Subject, set[str]] = {}  # subject -> stems other subjects' situations use
    rows = index.rows
    # The stems some subject's situations use; a subject with none of its own has them all
    # as "taken by others".
    every_taken = frozenset().union(*consumed.values()) if consumed else frozenset()
    for mask, part in reading.parts:
        held = reading.held(mask)
        total, q_tokens, bonus = held.total, held.asked, held.bonus
        # A handful of patterns: the general rules, without the set operations.
        light = part if len(part) <= FEW_IN_PART else reading.light(part, held)
        if total is not None and len(light) > FEW_IN_PART:
            # The plain patterns: only their weight, specificity and factor differ, and
            # whether they miss their subject's name, when they hold some of it. With two
            # meanings at most, the sum is the same in any order, so the weight they keep
            # beside a situation is the same for every subject that has none of its own.
            plain = light - index.special
            unnamed = plain & index.naming
            if unnamed:
                unnamed -= set().union(*(index.name_holders.get(t, ()) for t in held.tokens))
            kept = total
            if not q_tokens.isdisjoint(every_taken):
                kept = reading.kept(mask, every_taken)
            for position in plain:
                weight, subject, specificity, factor = rows[position]
                coverage = total / weight
                if coverage < MIN_COVERAGE:
                    continue  # noise: the decision thresholds are far above it
                if consumed:
                    if subject in consumed:
                        taken = _taken_by_others(subject, consumed, others)
                        coverage = reading.kept(mask, taken) / weight
                    else:
                        coverage = kept / weight
                if position in unnamed:
                    coverage *= UNNAMED_PENALTY
                score = coverage * specificity * factor + bonus
                # The bookkeeping below is repeated, inlined, in the general loop: this is
                # the hot path, where a call per pattern costs a tenth of the time.
                covered[subject] = covered.get(subject, 0) | mask
                current = best.get(subject)
                if current is None or score > current[0]:
                    best[subject] = (score, mask, position)
                    tied.pop(subject, None)
                elif score == current[0]:
                    tied.setdefault(subject, []).append((position, mask))
            light = light & index.special
        for position in light:
            pattern = patterns[position]
            if total is not None:
                coverage = total / pattern.weight
            else:
                coverage = reading.coverage(pattern, mask, held)
            if coverage < MIN_COVERAGE:
                continue
            subject = pattern.subject
            if consumed and not pattern.situation:
                taken = _taken_by_others(subject, consumed, others)
                if not q_tokens.isdisjoint(taken):
                    matched = {
                        t: ((sim * SITUATION_OVERLAP, q) if q in taken else (sim, q))
                        for t, (sim, q) in reading.matched(pattern, mask).items()
                    }
                    coverage = _coverage(pattern, matched, index)
            if pattern.names and pattern.names.isdisjoint(held.tokens):
                coverage *= UNNAMED_PENALTY
            if subject in SOCIAL and coverage < SOCIAL_COVERAGE:
                continue  # half a greeting or half an off-topic phrase says nothing
            if pattern.situation and coverage < SITUATION_COVERAGE:
                continue
            # Between equally complete patterns, the one explaining more of the question
            # wins ("webconf de l'etat" over "webconf"); scores may pass 1.0 for ranking only.
            score = coverage * pattern.specificity * pattern.factor + bonus
            covered[subject] = covered.get(subject, 0) | mask
            current = best.get(subject)
            if current is None or score > current[0]:
                best[subject] = (score, mask, position)
                tied.pop(subject, None)
            elif score == current[0]:
                tied.setdefault(subject, []).append((position, mask))
    if tied:
        _first_of_ties(best, tied, found)

    asked = set(tokens) - count_units
    # A question on one of the tool's own caveats ("vpn", "navigateur") leans to it.
    leaning = {
        subject
        for token in asked
        for subject, topic in index.topic_keys.get(token, ())
        if topic <= asked
    }
    scored = []
    for subject, (score, mask, _) in best.items():
        held = reading.held(mask)
        every = reading.asked(covered[subject])
        extra = len(every - held.asked)
        bonus = min(EXTRA_BONUS_CAP, EXTRA_TOKEN_BONUS * extra)
        if subject in leaning:
            bonus += TOPIC_BONUS
        scored.append(Scored(subject, score + bonus, every, held.anchored))
    return scored


def _taken_by_others(
    subject: Subject, consumed: dict[Subject, set[str]], others: dict[Subject, set[str]]
) -> set[str]:
    """The stems other subjects' situations use, computed once per subject and question."""
    taken = others.get(subject)
    if taken is None:
        taken = set().union(*(v for k, v in consumed.items() if k != subject))
        others[subject] = taken
    return taken


def _first_of_ties(
    best: dict[Subject, tuple[float, int, int]],
    tied: dict[Subject, list[tuple[int, int]]],
    found: set[int],
) -> None:
    """Between patterns of one subject with the same best score, the first in the
    candidate set's order gives the words; it matters only when their words differ."""
    rank: dict[int, int] = {}
    for subject, ties in tied.items():
        score, mask, position = best[subject]
        if all(m == mask for _, m in ties):
            continue
        rank = rank or {p: i for i, p in enumerate(found)}
        first, first_mask = min([(position, mask), *ties], key=lambda pm: rank[pm[0]])
        best[subject] = (score, first_mask, first)


def _coverage(pattern: Pattern, matched: dict[str, tuple[float, str]], index: Index) -> float:
    return sum(index.idf[t] * sim for t, (sim, _) in matched.items()) / pattern.weight


def score_apps(typed: Sequence[str], index: Index) -> list[Scored]:
    """Applications outside the offers named in the question, as typed (apps.py)."""
    out: dict[Subject, Scored] = {}
    for app, start, end in index.apps.find(typed):
        subject = app_subject(app)
        if subject not in out:
            words = typed[start:end]
            matched = frozenset(stem(w) for w in words if w not in index.stopwords)
            score = NAME_FACTOR + LONGER_MATCH_BONUS * (len(words) - 1)
            out[subject] = Scored(subject, score, matched)
    return list(out.values())


def ranked(scored: list[Scored]) -> list[Scored]:
    """Best first; equal scores: the more precise subject first (a tip, a tool, a need)."""
    return sorted(scored, key=lambda s: (-round(s.score, 6), _PRECISION[s.subject.kind], s.subject))


# An out-of-scope word outweighs a greeting: "c'est quoi le menu de la cantine".
_PRECISION = {
    SubjectKind.TIP: 0,
    SubjectKind.TOOL: 1,
    SubjectKind.APP: 1,
    SubjectKind.NEED: 2,
    SubjectKind.NONE: 3,
    SubjectKind.HELP: 4,
    SubjectKind.THANKS: 4,
}
