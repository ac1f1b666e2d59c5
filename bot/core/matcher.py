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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Scored:
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


def score_subjects(
    tokens: Sequence[str],
    index: Index,
    surface: Sequence[str] = (),
    situation_words: Mapping[str, frozenset[str]] | None = None,
) -> list[Scored]:
    """All subjects with a useful score, best first.

    ``situation_words``: concept token -> the question's stems that say it (concepts.py).
    Words that make up a situation matched in full are read as that situation: another
    subject matching the same words literally ("vidéo" in "une vidéo de 2 Go à envoyer")
    counts them at half weight.
    """
    meanings = _meanings(tokens, surface, index)
    hits: list[tuple[Pattern, dict[str, tuple[float, str]], float]] = []
    consumed: dict[Subject, set[str]] = defaultdict(set)  # subject -> stems its situations use
    for position in _candidates(meanings, index):
        pattern = index.patterns[position]
        matched = {t: meanings[t] for t in pattern.tokens if t in meanings}
        if pattern.subject == NONE:  # an off-topic cue is typed as is, never guessed
            matched = {t: m for t, m in matched.items() if m[0] == 1.0}
        coverage = _coverage(pattern, matched, index)
        if coverage < MIN_COVERAGE:
            continue
        hits.append((pattern, matched, coverage))
        if pattern.situation and situation_words and coverage >= SITUATION_COVERAGE:
            for token in matched:
                consumed[pattern.subject] |= situation_words.get(token, frozenset())

    best_by_subject: dict[Subject, tuple[float, frozenset[str], bool]] = {}
    covered: dict[Subject, set[str]] = defaultdict(set)
    others: dict[Subject, set[str]] = {}  # subject -> stems other subjects' situations use
    for pattern, matched, coverage in hits:
        if consumed and not pattern.situation:
            taken = others.get(pattern.subject)
            if taken is None:
                taken = set().union(*(v for k, v in consumed.items() if k != pattern.subject))
                others[pattern.subject] = taken
            if any(q in taken for _, q in matched.values()):
                matched = {
                    t: ((sim * SITUATION_OVERLAP, q) if q in taken else (sim, q))
                    for t, (sim, q) in matched.items()
                }
                coverage = _coverage(pattern, matched, index)
        specificity = min(1.0, pattern.weight / index.full_weight)
        if pattern.names and not pattern.names & matched.keys():
            coverage *= UNNAMED_PENALTY
        if pattern.subject in SOCIAL and coverage < SOCIAL_COVERAGE:
            continue  # half a greeting or half an off-topic phrase says nothing
        if pattern.situation and coverage < SITUATION_COVERAGE:
            continue
        q_tokens = frozenset(q for _, q in matched.values())
        # Between equally complete patterns, the one explaining more of the question wins
        # ("webconf de l'etat" over "webconf"); scores may pass 1.0 for ranking only.
        score = coverage * specificity * pattern.factor + LONGER_MATCH_BONUS * (len(q_tokens) - 1)
        covered[pattern.subject].update(q_tokens)
        current = best_by_subject.get(pattern.subject)
        if current is None or score > current[0]:
            anchored = any(t not in index.weak for t in matched)
            best_by_subject[pattern.subject] = (score, q_tokens, anchored)

    asked = set(tokens)
    scored = []
    for subject, (score, q_tokens, anchored) in best_by_subject.items():
        extra = len(covered[subject] - q_tokens)
        bonus = min(EXTRA_BONUS_CAP, EXTRA_TOKEN_BONUS * extra)
        # A question on one of the tool's own caveats ("vpn", "navigateur") leans to it.
        if any(topic <= asked for topic in index.topics.get(subject, ())):
            bonus += TOPIC_BONUS
        scored.append(Scored(subject, score + bonus, frozenset(covered[subject]), anchored))
    return scored


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
