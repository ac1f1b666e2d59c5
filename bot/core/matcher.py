"""Scores every subject against a question's tokens (see index.py for the patterns).

A pattern's score is the IDF-weighted share of its tokens found in the question, scaled by
how specific the pattern is. A question token that is not in the vocabulary is matched to
the closest indexed tokens with rapidfuzz (typos: "sharepiont", "tixéo", "visioconf") or by
a shared prefix of five letters or more ("stock" / "stockag").
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.index import HELP, NONE, THANKS, Index
from bot.core.normalize import NEGATED

# A typo is one edit in a word of 5 to 7 letters, two from 8 on, never in shorter words:
# "tart" must not become "start". The first letter is taken as typed.
MIN_TYPO_LENGTH = 5
LONG_WORD = 8
PREFIX_MIN = 5
PREFIX_SIMILARITY = 0.9
MAX_EXTENSIONS = 8
# Other patterns of the same subject that cover more of the question add a little.
EXTRA_TOKEN_BONUS = 0.04
EXTRA_BONUS_CAP = 0.12
LONGER_MATCH_BONUS = 0.03
TOPIC_BONUS = 0.1
UNNAMED_PENALTY = 0.5
NEGATED_SIMILARITY = 0.8
SOCIAL = frozenset({HELP, NONE, THANKS})  # matched only (nearly) in full
SOCIAL_COVERAGE = 0.85


@dataclass(frozen=True)
class Scored:
    subject: str
    score: float
    matched: frozenset[str]  # question tokens the subject explains


def _similar_tokens(token: str, index: Index) -> list[tuple[str, float]]:
    if token in index.postings:
        return [(token, 1.0)]
    if token.startswith(NEGATED):
        # No phrasing denies this word: the question is still about it ("pas de zoom ?").
        return [
            (known, sim * NEGATED_SIMILARITY) for known, sim in _similar_tokens(token[1:], index)
        ]
    # An elision typed without its apostrophe: "letat", "ladresse", "dun".
    if token[0] in "ldjmnst" and token[1:] in index.postings and token[1] in "aeiouyh":
        return [(token[1:], 1.0)]
    if len(token) < MIN_TYPO_LENGTH:
        return []
    found: dict[str, float] = {}
    edits = 2 if len(token) >= LONG_WORD else 1
    for match, distance, _ in process.extract(
        token, index.vocabulary, scorer=Levenshtein.distance, score_cutoff=edits, limit=3
    ):
        if match[0] == token[0]:
            found[match] = 1.0 - distance / max(len(token), len(match))
    if len(token) >= PREFIX_MIN:
        prefixed = [token[:end] for end in range(PREFIX_MIN, len(token))]
        # The vocabulary is sorted: the tokens that extend this one are contiguous.
        start = bisect_left(index.vocabulary, token)
        for known in index.vocabulary[start : start + MAX_EXTENSIONS]:
            if not known.startswith(token):
                break
            prefixed.append(known)
        for known in prefixed:
            if known in index.postings:
                found[known] = max(found.get(known, 0.0), PREFIX_SIMILARITY)
    return sorted(found.items(), key=lambda kv: -kv[1])


def score_subjects(tokens: tuple[str, ...], index: Index) -> list[Scored]:
    """All subjects with a positive score, best first."""
    # pattern -> {pattern token: (similarity, question token)}
    hits: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)
    for q_token in dict.fromkeys(tokens):
        for known, similarity in _similar_tokens(q_token, index):
            for position in index.postings.get(known, ()):
                best = hits[position].get(known)
                if best is None or similarity > best[0]:
                    hits[position][known] = (similarity, q_token)

    best_by_subject: dict[str, tuple[float, frozenset[str]]] = {}
    covered: dict[str, set[str]] = defaultdict(set)
    for position, matched in hits.items():
        pattern = index.patterns[position]
        found = sum(index.idf[t] * sim for t, (sim, _) in matched.items())
        coverage = found / pattern.weight
        specificity = min(1.0, pattern.weight / index.full_weight)
        if pattern.names and not pattern.names & matched.keys():
            coverage *= UNNAMED_PENALTY
        if pattern.subject in SOCIAL and coverage < SOCIAL_COVERAGE:
            continue  # half a greeting or half an off-topic phrase says nothing
        q_tokens = frozenset(q for _, q in matched.values())
        # Between equally complete patterns, the one explaining more of the question wins
        # ("webconf de l'etat" over "webconf"); scores may pass 1.0 for ranking only.
        score = coverage * specificity * pattern.factor + LONGER_MATCH_BONUS * (len(q_tokens) - 1)
        covered[pattern.subject].update(q_tokens)
        current = best_by_subject.get(pattern.subject)
        if current is None or score > current[0]:
            best_by_subject[pattern.subject] = (score, q_tokens)

    asked = set(tokens)
    scored = []
    for subject, (score, q_tokens) in best_by_subject.items():
        extra = len(covered[subject] - q_tokens)
        bonus = min(EXTRA_BONUS_CAP, EXTRA_TOKEN_BONUS * extra)
        # A question on one of the tool's own caveats ("vpn", "navigateur") leans to it.
        if any(topic <= asked for topic in index.topics.get(subject, ())):
            bonus += TOPIC_BONUS
        scored.append(Scored(subject, score + bonus, frozenset(covered[subject])))
    # Equal scores: the more precise subject first (a tip, then a tool, then a need).
    scored.sort(key=lambda s: (-round(s.score, 6), _PRECISION[s.subject[:4]], s.subject))
    return scored


# An out-of-scope word outweighs a greeting: "c'est quoi le menu de la cantine".
_PRECISION = {"tip:": 0, "tool": 1, "app:": 1, "need": 2, "none": 3, "help": 4, "than": 4}
