"""The matching index built once per knowledge object: phrasing patterns and their weights.

Every phrasing of the knowledge becomes a *pattern*: its content tokens (normalised,
stemmed) with an IDF weight each, where a token that many subjects share ("reunion")
weighs less than one that names a single thing ("tixeo"). An inverted index from token
to patterns keeps a question's cost proportional to its own words, not to the knowledge.
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from dataclasses import dataclass
from threading import Lock

from bot.core.normalize import normalize
from bot.knowledge.model import Caveat, Knowledge

# Subjects that are not knowledge entries but still matched from phrasings.
HELP = "help"
NONE = "none"
THANKS = "thanks"  # small talk, answered briefly under the subject "help"
APP_PREFIX = "app:"  # applications the guide does not name (outside both offers)

# Caveat topics are not patterns: "personnes" or "compte" would point at one tool whenever
# a question says them. They only order caveats inside a reply (compose.py).
NAME_FACTOR = 1.1  # a tool named outright outweighs the generic words of a need


@dataclass(frozen=True)
class Pattern:
    subject: str
    tokens: tuple[str, ...]
    weight: float  # sum of the tokens' IDF
    factor: float
    # Tokens of the subject's own name in this pattern ("tchap" in "installer tchap"): a
    # partial match that misses them is about something else ("installer le VPN").
    names: frozenset[str] = frozenset()


@dataclass
class Index:
    stopwords: frozenset[str]
    abbreviations: dict[str, str]
    patterns: list[Pattern]
    postings: dict[str, list[int]]  # token -> pattern positions
    idf: dict[str, float]
    vocabulary: list[str]  # every indexed token, for typo correction
    full_weight: float  # the weight at which a pattern is fully specific
    # caveat -> its topics as token sets: a question on a caveat puts it first in the reply
    caveat_topics: dict[Caveat, tuple[frozenset[str], ...]]
    # subject -> its caveats' topics: a question on a tool's caveat favours that tool
    topics: dict[str, tuple[frozenset[str], ...]]


def _phrasings(knowledge: Knowledge) -> list[tuple[str, str, float]]:
    """(subject, phrasing, factor) for everything the matcher recognises."""
    out: list[tuple[str, str, float]] = []
    for need in knowledge.needs.values():
        out += [(need.subject, p, 1.0) for p in (need.title, *need.phrasings)]
    for tool in knowledge.tools.values():
        out += [(tool.subject, tool.name, NAME_FACTOR)]
        out += [(tool.subject, p, 1.0) for p in tool.phrasings]
    for tip in knowledge.tips.values():
        out += [(tip.subject, p, 1.0) for p in tip.phrasings]
    for app in knowledge.outside_apps.values():
        out += [(APP_PREFIX + app.id, p, 1.0) for p in (app.name, *app.phrasings)]
    conversation = knowledge.conversation
    out += [(HELP, p, 1.0) for p in conversation.help_phrasings]
    out += [(NONE, p, 1.0) for p in conversation.out_of_scope_phrasings]
    out += [(THANKS, p, 1.0) for p in conversation.thanks_phrasings]
    return out


def _name_tokens(
    knowledge: Knowledge, abbreviations: dict[str, str], stopwords: frozenset[str]
) -> dict[str, frozenset[str]]:
    named = [(t.subject, t.name) for t in knowledge.tools.values()]
    named += [(APP_PREFIX + a.id, a.name) for a in knowledge.outside_apps.values()]
    return {
        subject: frozenset(normalize(name, abbreviations, stopwords).tokens)
        for subject, name in named
    }


def build_index(knowledge: Knowledge) -> Index:
    lexicon = knowledge.lexicon
    stopwords = frozenset(lexicon.stopwords)
    abbreviations = dict(lexicon.abbreviations)
    raw: list[tuple[str, tuple[str, ...], float]] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for subject, phrasing, factor in _phrasings(knowledge):
        tokens = tuple(dict.fromkeys(normalize(phrasing, abbreviations, stopwords).tokens))
        if tokens and (subject, tokens) not in seen:
            seen.add((subject, tokens))
            raw.append((subject, tokens, factor))

    subjects_of: dict[str, set[str]] = defaultdict(set)
    for subject, tokens, _ in raw:
        for token in tokens:
            subjects_of[token].add(subject)
    n_subjects = len({subject for subject, _, _ in raw}) or 1
    idf = {t: math.log(1 + n_subjects / len(s)) for t, s in subjects_of.items()}

    names = _name_tokens(knowledge, abbreviations, stopwords)
    patterns: list[Pattern] = []
    postings: dict[str, list[int]] = defaultdict(list)
    for subject, tokens, factor in raw:
        for token in tokens:
            postings[token].append(len(patterns))
        weight = sum(idf[t] for t in tokens)
        own = names.get(subject, frozenset()) & frozenset(tokens)
        patterns.append(Pattern(subject, tokens, weight, factor, own))
    caveat_topics = {
        caveat: tuple(
            frozenset(tokens)
            for topic in caveat.topics
            if (tokens := normalize(topic, abbreviations, stopwords).tokens)
        )
        for tool in knowledge.tools.values()
        for caveat in tool.caveats
    }
    topics = {
        tool.subject: tuple(t for caveat in tool.caveats for t in caveat_topics[caveat])
        for tool in knowledge.tools.values()
    }
    return Index(
        caveat_topics=caveat_topics,
        topics=topics,
        stopwords=stopwords,
        abbreviations=abbreviations,
        patterns=patterns,
        postings=dict(postings),
        idf=idf,
        vocabulary=sorted(idf),
        # A token unique to one subject is fully specific on its own.
        full_weight=0.8 * math.log(1 + n_subjects),
    )


# Knowledge objects are immutable; their index is built on first use and dropped with them.
_cache: dict[int, tuple[weakref.ref[Knowledge], Index]] = {}
_lock = Lock()


def index_for(knowledge: Knowledge) -> Index:
    key = id(knowledge)
    entry = _cache.get(key)
    if entry is not None and entry[0]() is knowledge:
        return entry[1]
    with _lock:
        index = build_index(knowledge)
        _cache[key] = (weakref.ref(knowledge, lambda _: _cache.pop(key, None)), index)
        return index
