"""The matching index built once per knowledge object: phrasing patterns and their weights.

Every phrasing of the knowledge becomes a *pattern*: its content tokens (normalised,
stemmed) with an IDF weight each, where a token that many subjects share ("reunion")
weighs less than one that names a single thing ("tixeo"). Every situation becomes a pattern
of concept tokens (concepts.py), matched only in full. An inverted index from token to
patterns, lightest first, keeps a question's cost proportional to its own words and lets
the matcher skip the patterns a common word cannot make relevant (matcher.py).

Also here: the applications outside the offers, matched by name (apps.py); the phonetic
keys and the closed list of names that typo tolerance may reach (matcher.py); the *weak*
tokens, those that off-topic phrasings share with the domain ("écran", "téléphone",
"casque audio"), which alone are no anchor for an answer (understand.py).
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from threading import Lock

from bot.core.apps import AppNames, compile_app_names
from bot.core.concepts import Concepts, compile_concepts
from bot.core.normalize import Normalized, normalize, plain_words
from bot.core.phonetic import phonetic_key
from bot.knowledge.model import Category, Caveat, Knowledge
from bot.knowledge.subject import HELP, NONE, THANKS, Subject

# Caveat topics are not patterns: "personnes" or "compte" would point at one tool whenever
# a question says them. They only order caveats inside a reply (compose.py).
NAME_FACTOR = 1.1  # a tool named outright outweighs the generic words of a need
# A situation said in full outweighs a chance overlap with another need's phrasing, not a
# tool named outright: "tixeo pour une petite formation à distance" is about Tixéo.
SITUATION_FACTOR = 1.05
PHONETIC_MIN = 4  # letters in a word, and in its key, before its key is looked up
# The words after a participant count, among the caveats' topics ("30 personnes").
COUNT_UNITS = "personnes participants"


@dataclass(frozen=True)
class Pattern:
    subject: Subject
    tokens: tuple[str, ...]
    weight: float  # sum of the tokens' IDF
    factor: float
    # Tokens of the subject's own name in this pattern ("tchap" in "installer tchap"): a
    # partial match that misses them is about something else ("installer le VPN").
    names: frozenset[str] = frozenset()
    situation: bool = False  # matched only in full
    specificity: float = 1.0  # min(1, weight / full weight): how much a full match says


@dataclass
class Index:
    stopwords: frozenset[str]
    abbreviations: dict[str, str]
    patterns: list[Pattern]
    # token -> pattern positions, lightest pattern first, and their weights (for bisect)
    postings: dict[str, tuple[int, ...]]
    weights: dict[str, tuple[float, ...]]
    holders: dict[str, frozenset[int]]  # token -> the same positions, for set operations
    off_topic: frozenset[int]  # positions of the out-of-scope patterns (matcher.py)
    situations: frozenset[int]  # positions of the situation patterns
    # Positions of the patterns scored by the general rules: situations, small talk and
    # off-topic; the others, the most, need only ``rows`` and, for those holding words of
    # their subject's name, ``name_holders``.
    special: frozenset[int]
    naming: frozenset[int]  # positions of the patterns holding words of their name
    name_holders: dict[str, frozenset[int]]  # token -> patterns that hold it as a name
    rows: list[tuple[float, Subject, float, float]]  # weight, subject, specificity, factor
    idf: dict[str, float]
    vocabulary: list[str]  # every indexed word token, sorted, for typo correction
    full_weight: float  # the weight at which a pattern is fully specific
    # caveat -> its topics as token sets: a question on a caveat puts it first in the reply
    caveat_topics: dict[Caveat, tuple[frozenset[str], ...]]
    # subject -> its caveats' topics: a question on a tool's caveat favours that tool
    topics: dict[Subject, tuple[frozenset[str], ...]]
    # a token of each topic -> (subject, topic): the topics a question may say, found
    # from its own tokens rather than by trying every subject's
    topic_keys: dict[str, tuple[tuple[Subject, frozenset[str]], ...]]
    concepts: Concepts
    apps: AppNames
    phonetic: dict[str, tuple[str, ...]]  # phonetic key -> indexed tokens that sound so
    names: tuple[str, ...]  # tool and need names: the closed list short typos may reach
    name_tokens: dict[Subject, frozenset[str]]  # each tool's name, as tokens
    title_tokens: dict[Subject, frozenset[str]]  # each need's title, as tokens
    name_keys: dict[str, str]  # phonetic key of a name -> the name token
    brands: frozenset[str]  # name tokens of brands ("tixeo", "webmel"), not words ("personnel")
    brand_keys: tuple[str, ...]  # their phonetic keys, the choices typos.py searches
    # The first word of each tool's and application's name, as written: a sentence that
    # starts with one keeps its capital after "Oui : " (lines.lower_first).
    proper_names: frozenset[str]
    weak: frozenset[str]  # domain tokens that off-topic phrasings share
    # Correctly spelt words the knowledge itself writes (its texts, its phrasings, its
    # concepts): a question word among them is no typo of another word ("agent" is not
    # "agenda", "solution" not "salut"). See is_real.
    real_words: frozenset[str]
    # Common words, folded, that typo tolerance never reads as another word (lexicon)
    common_words: frozenset[str]
    # tool -> (rank of its best category, position of the need, need id) of each need that
    # offers it, in the knowledge's order (conditions.main_need)
    placements: dict[str, tuple[tuple[int, int, str], ...]]
    count_units: frozenset[str]  # the stems of "personnes", "participants" (matcher.py)
    topic_words: frozenset[str]  # every token of every caveat topic (decision.score_rest)
    # The topics of every tool's conditions ("vpn", "licence"): a "faut-il…" naming one
    # that the tool's own conditions do not asks what the guide does not require of it.
    requirements: tuple[frozenset[str], ...]
    outside_offer_topics: frozenset[str]  # stems (conversation.outside_offer_topics)
    # tool id -> the stems its own texts say (name, summary, steps, caveats): a yes or no
    # in other words asks what the guide does not say of it (thread.stay)
    tool_words: dict[str, frozenset[str]]
    # caveat -> the other tools its text names ("l'usage est SharePoint"): context.led_to
    caveat_leads: dict[Caveat, tuple[str, ...]]
    # token typed -> what it may mean; filled as questions come (same knowledge, same answer)
    similar: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)


def _phrasings(knowledge: Knowledge) -> list[tuple[Subject, str, float]]:
    """(subject, phrasing, factor) for every phrasing the matcher recognises word by word."""
    out: list[tuple[Subject, str, float]] = []
    for need in knowledge.needs.values():
        out += [(need.subject, p, 1.0) for p in (need.title, *need.phrasings)]
    for tool in knowledge.tools.values():
        out += [(tool.subject, tool.name, NAME_FACTOR)]
        out += [(tool.subject, p, 1.0) for p in tool.phrasings]
    for tip in knowledge.tips.values():
        out += [(tip.subject, p, 1.0) for p in tip.phrasings]
    conversation = knowledge.conversation
    out += [(HELP, p, 1.0) for p in conversation.help_phrasings]
    out += [(NONE, p, 1.0) for p in conversation.out_of_scope_phrasings]
    out += [(THANKS, p, 1.0) for p in conversation.thanks_phrasings]
    return out


def _texts(knowledge: Knowledge) -> list[str]:
    """Everything the knowledge writes in French: what its real words are."""
    out: list[str] = []
    for need in knowledge.needs.values():
        out += [need.title, need.summary, *need.notes, *(o.text for o in need.options)]
    for tool in knowledge.tools.values():
        out += [tool.name, tool.summary, *tool.steps]
        out += [c.text for c in tool.caveats] + [c.expired_text or "" for c in tool.caveats]
    for tip in knowledge.tips.values():
        out += [tip.title, *tip.steps]
    c = knowledge.conversation
    out += [c.greeting, c.menu_intro, c.out_of_scope, c.clarify_intro, c.outside_offer_rule]
    out += [*c.category_labels.values(), c.source, c.thanks]
    out += [w for words in knowledge.lexicon.concepts.values() for w in words]
    out += [w for words in knowledge.lexicon.devices.values() for w in words]
    return out


def _situations(knowledge: Knowledge) -> list[tuple[Subject, str]]:
    out = [(n.subject, s) for n in knowledge.needs.values() for s in n.situations]
    return out + [(t.subject, s) for t in knowledge.tools.values() for s in t.situations]


def _name_tokens(
    knowledge: Knowledge, abbreviations: dict[str, str], stopwords: frozenset[str]
) -> dict[Subject, frozenset[str]]:
    return {
        t.subject: frozenset(normalize(t.name, abbreviations, stopwords).tokens)
        for t in knowledge.tools.values()
    }


def _closed_names(
    knowledge: Knowledge, own: dict[Subject, frozenset[str]], abbreviations: dict[str, str]
) -> tuple[str, ...]:
    """Tool names and need titles: the only words a short or far typo may become."""
    stopwords = frozenset(knowledge.lexicon.stopwords)
    words = {t for tokens in own.values() for t in tokens}
    for need in knowledge.needs.values():
        words |= set(normalize(need.title, abbreviations, stopwords).tokens)
    return tuple(sorted(w for w in words if len(w) >= PHONETIC_MIN and w.isalpha()))


def _placements(knowledge: Knowledge) -> dict[str, tuple[tuple[int, int, str], ...]]:
    ranks = {category: rank for rank, category in enumerate(Category)}
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for position, need in enumerate(knowledge.needs.values()):
        best: dict[str, int] = {}
        for option in need.options:
            if option.tool is not None:
                rank = ranks[option.category]
                best[option.tool] = min(rank, best.get(option.tool, rank))
        for tool, rank in best.items():
            out[tool].append((rank, position, need.id))
    return {tool: tuple(placed) for tool, placed in out.items()}


def build_index(knowledge: Knowledge) -> Index:
    lexicon = knowledge.lexicon
    stopwords = frozenset(lexicon.stopwords)
    abbreviations = dict(lexicon.abbreviations)
    concepts = compile_concepts(lexicon.concepts, abbreviations)
    raw: list[tuple[Subject, tuple[str, ...], float, bool]] = []
    seen: set[tuple[Subject, tuple[str, ...]]] = set()
    phonetic: dict[str, set[str]] = defaultdict(set)
    weak_candidates: set[str] = set()
    typed: set[str] = set()
    for subject, phrasing, factor in _phrasings(knowledge):
        norm = normalize(phrasing, abbreviations, stopwords)
        typed.update(norm.typed)
        tokens = tuple(dict.fromkeys(norm.tokens))
        if subject == NONE:
            weak_candidates.update(tokens, concepts.tag(norm.words))
        _add_keys(phonetic, norm)
        if tokens and (subject, tokens) not in seen:
            seen.add((subject, tokens))
            raw.append((subject, tokens, factor, False))
    for subject, text in _situations(knowledge):
        tokens = concepts.situation_tokens(text, abbreviations, stopwords)
        _add_keys(phonetic, normalize(text, abbreviations, stopwords))
        if tokens and (subject, tokens) not in seen:
            seen.add((subject, tokens))
            raw.append((subject, tokens, SITUATION_FACTOR, True))

    subjects_of: dict[str, set[Subject]] = defaultdict(set)
    for subject, tokens, _, _ in raw:
        for token in tokens:
            subjects_of[token].add(subject)
    # Applications count as subjects, as when they were matched word by word: the weights
    # of the guide's words do not depend on how applications are recognised.
    n_subjects = (len({subject for subject, *_ in raw}) + len(knowledge.outside_apps)) or 1
    idf = {t: math.log(1 + n_subjects / len(s)) for t, s in subjects_of.items()}

    own = _name_tokens(knowledge, abbreviations, stopwords)
    # A token unique to one subject is fully specific on its own.
    full_weight = 0.8 * math.log(1 + n_subjects)
    patterns: list[Pattern] = []
    by_token: dict[str, list[int]] = defaultdict(list)
    for subject, tokens, factor, situation in raw:
        for token in tokens:
            by_token[token].append(len(patterns))
        weight = sum(idf[t] for t in tokens)
        names = own.get(subject, frozenset()) & frozenset(tokens)
        specificity = min(1.0, weight / full_weight)
        patterns.append(Pattern(subject, tokens, weight, factor, names, situation, specificity))
    postings = {
        t: tuple(sorted(ps, key=lambda p: patterns[p].weight)) for t, ps in by_token.items()
    }
    weights = {t: tuple(patterns[p].weight for p in ps) for t, ps in postings.items()}
    domain = {t for t, s in subjects_of.items() if s - {NONE, HELP, THANKS}}
    closed = _closed_names(knowledge, own, abbreviations)
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
    topic_keys: dict[str, list[tuple[Subject, frozenset[str]]]] = defaultdict(list)
    for subject, subject_topics in topics.items():
        for topic in subject_topics:
            topic_keys[min(topic)].append((subject, topic))
    outside = knowledge.outside_apps.values()
    apps = compile_app_names(
        ((a.id, (a.name, *a.phrasings)) for a in outside),
        common_words=(a.name for a in outside if a.common_word),
    )
    real = {w for text in _texts(knowledge) for w in plain_words(text, abbreviations)}
    real |= typed
    real = {w for w in real if w.isalpha()}
    return Index(
        stopwords=stopwords,
        abbreviations=abbreviations,
        patterns=patterns,
        postings=postings,
        weights=weights,
        holders={t: frozenset(ps) for t, ps in postings.items()},
        off_topic=frozenset(p for p, pattern in enumerate(patterns) if pattern.subject == NONE),
        situations=frozenset(p for p, pattern in enumerate(patterns) if pattern.situation),
        special=frozenset(
            p
            for p, pattern in enumerate(patterns)
            if pattern.situation or pattern.subject in (HELP, NONE, THANKS)
        ),
        naming=frozenset(p for p, pattern in enumerate(patterns) if pattern.names),
        name_holders=_name_holders(patterns),
        rows=[(p.weight, p.subject, p.specificity, p.factor) for p in patterns],
        idf=idf,
        vocabulary=sorted(t for t in idf if t.isalpha()),
        full_weight=full_weight,
        caveat_topics=caveat_topics,
        topics=topics,
        topic_keys={t: tuple(pairs) for t, pairs in topic_keys.items()},
        concepts=concepts,
        apps=apps,
        phonetic={k: tuple(sorted(v & idf.keys())) for k, v in phonetic.items() if v & idf.keys()},
        names=closed,
        name_tokens=own,
        title_tokens={
            n.subject: frozenset(normalize(n.title, abbreviations, stopwords).tokens)
            for n in knowledge.needs.values()
        },
        name_keys={phonetic_key(n): n for n in closed},
        brands=(brands := _brands(knowledge, closed, abbreviations, stopwords)),
        brand_keys=tuple(sorted({phonetic_key(b) for b in brands})),
        proper_names=_proper_names(
            [t.name for t in knowledge.tools.values()]
            + [a.name for a in knowledge.outside_apps.values()]
        ),
        weak=frozenset(weak_candidates & domain),
        placements=_placements(knowledge),
        count_units=frozenset(normalize(COUNT_UNITS, abbreviations, stopwords).tokens),
        topic_words=frozenset(t for ts in topics.values() for topic in ts for t in topic),
        caveat_leads={
            caveat: tuple(
                o.id for o in knowledge.tools.values() if o is not tool and o.name in caveat.text
            )
            for tool in knowledge.tools.values()
            for caveat in tool.caveats
        },
        tool_words={
            tool.id: frozenset(
                t
                for text in (tool.name, tool.summary, *tool.steps, *(c.text for c in tool.caveats))
                for t in normalize(text, abbreviations, stopwords).tokens
            )
            for tool in knowledge.tools.values()
        },
        outside_offer_topics=frozenset(
            t
            for topic in knowledge.conversation.outside_offer_topics
            for t in normalize(topic, abbreviations, stopwords).tokens
        ),
        requirements=tuple(
            dict.fromkeys(
                topic
                for caveat, its_topics in caveat_topics.items()
                if "condition" in caveat.about
                for topic in its_topics
            )
        ),
        real_words=frozenset(real),
        common_words=frozenset(
            w for text in lexicon.common_words for w in plain_words(text, {}) if w.isalpha()
        ),
    )


def _brands(
    knowledge: Knowledge,
    closed: tuple[str, ...],
    abbreviations: dict[str, str],
    stopwords: frozenset[str],
) -> frozenset[str]:
    """The words of tool names written as brands: capitalised ("Tixéo", "Scaleway (Jitsi)")
    or with a capital inside ("webMél"); the first word of a name that reads as a phrase
    ("Mobile personnel ou professionnel") is capitalised as a sentence is, not a brand."""
    out: set[str] = set()
    for tool in knowledge.tools.values():
        words = tool.name.replace("(", " ").replace(")", " ").split()
        for position, word in enumerate(words):
            inner = any(c.isupper() for c in word[1:])
            if inner or (word[:1].isupper() and (position or len(words) < 3)):
                out.update(normalize(word, abbreviations, stopwords).tokens)
    return frozenset(out) & frozenset(closed)


def _proper_names(names: list[str]) -> frozenset[str]:
    """A brand's first word: a name of one word ("Tixéo"), or of capitalised words
    ("Google Meet"); not a described tool ("Service d'audio conférence", "La …")."""
    out = set()
    for name in names:
        words = name.split()
        if words and (len(words) == 1 or all(w[:1].isupper() for w in words)):
            out.add(words[0])
    return frozenset(out)


def _name_holders(patterns: list[Pattern]) -> dict[str, frozenset[int]]:
    holders: dict[str, set[int]] = defaultdict(set)
    for position, pattern in enumerate(patterns):
        for token in pattern.names:
            holders[token].add(position)
    return {token: frozenset(positions) for token, positions in holders.items()}


def _add_keys(phonetic: dict[str, set[str]], norm: Normalized) -> None:
    """Each indexed token under the phonetic keys of its word and of its stem."""
    for token, word in zip(norm.tokens, norm.surface, strict=True):
        if len(word) >= PHONETIC_MIN and word.isalpha():
            for key in {phonetic_key(word), phonetic_key(token)}:
                if len(key) >= PHONETIC_MIN:
                    phonetic[key].add(token)


def is_real(word: str, index: Index) -> bool:
    """Whether the knowledge writes this word, or a plural or feminine of it, or it is one."""
    real = index.real_words
    return (
        word in real
        or word + "s" in real
        or word + "e" in real
        or (word[-1:] in ("s", "x", "e") and word[:-1] in real)
        or (word.endswith("es") and word[:-2] in real)
    )


# Knowledge objects are immutable; their index is built once (by answer.prepare where the
# knowledge is loaded, else on first use) and dropped with them.
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
