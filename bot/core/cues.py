"""The words that make a message a conversation move, found in its plain text.

A follow-up says little of its own: "c'est quoi le lien ?" asks for an attribute of the
subject under discussion, "le premier" picks an option, "non, plutôt par téléphone" corrects,
"autre question : ..." starts afresh, "détails" asks for the rest. Each is recognised by the
lexicon's phrases (attributes, dialogue), as whole words of the normalised text; what remains
once they are taken out is what the message says of its own (understand.py weighs it).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.normalize import stem
from bot.knowledge.model import Knowledge

# Words that carry nothing once the cues are out: "et", "alors", "svp", "c'est", "quel".
FILLER = frozenset(
    "et mais alors donc ok bon ben euh ah oh oui si svp stp merci please d accord dac"
    " le la les l un une des du de d au aux a en y ce c cet cette ca cela est sont il ils elle"
    " on nous vous je j me m moi mon ma mes ton ta tes son sa ses leur leurs pour sur avec"
    " dans par que qu qui quoi quel quelle quels quelles quand comment ou est-ce ce n ne"
    " pas vraiment donc aussi encore deja dites donne donnez moi voir montre montrez veux"
    " voudrais voudrions aimerais souhaite s il vous plait te plait t e option choix numero"
    " no n sujet celui celle prends prend choisis choisi quelque chose chose faire fait"
    " puis peut peux pouvez on est etre ai as avons avez ont sommes serons sera seront suis"
    " travaille travaillons bosse utilise j ai voire environ demain aujourd hui ce matin soir"
    " apres midi lundi mardi mercredi jeudi vendredi prochain prochaine semaine"
    " exactement precisement outil outils solution solutions logiciel moyen utiliser prendre"
    " convient conseillez conseilles recommandez".split()
)
# Where a correction or a switch must stand to count: first in the message, after these.
_LEADING = frozenset("et ah oh oups ha bon ben euh ok".split())
# Corrections said anywhere: "par téléphone plutôt", "finalement en visio".
_ANYWHERE = frozenset({"plutot", "finalement", "en fait", "enfait"})
_NUMBER = re.compile(r"^\d{1,4}$")
_WORD = re.compile(r"[a-z0-9]+")
STEM_MIN = 5  # a one-word cue is also found by its stem ("télécharge", "connecte")...
TYPO_MIN = 7  # ...and with one typo when this long ("instaler")
NEAR_CACHE_LIMIT = 100_000  # words remembered (Cues.near); a flood of new ones starts afresh


@dataclass(frozen=True)
class Phrases:
    """Phrases found as whole words, longest first, by one regular expression; run only
    when the text holds the first word of one of them. Most messages hold no cue, and an
    alternation of a hundred phrases is tried at every position of the text."""

    pattern: re.Pattern[str]
    # The first word (run of letters and digits) of every phrase; None when one does not
    # start with a letter or a digit, and the expression always runs.
    firsts: frozenset[str] | None

    def finditer(self, plain: str, words: frozenset[str]) -> list[re.Match[str]]:
        """``words``: every run of letters and digits of ``plain`` (text_words)."""
        if self.firsts is not None and self.firsts.isdisjoint(words):
            return []  # a match starts where a word of the text is a phrase's first word
        return list(self.pattern.finditer(plain))


def text_words(plain: str) -> frozenset[str]:
    return frozenset(_WORD.findall(plain))


def _regex(phrases: Iterable[str]) -> Phrases:
    ordered = sorted({p for p in phrases if p}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in ordered)
    pattern = re.compile(rf"(?<![a-z0-9])(?:{alternatives or '(?!)'})(?![a-z0-9])")
    firsts = [_WORD.match(p) for p in ordered]
    if all(firsts):
        return Phrases(pattern, frozenset(m.group(0) for m in firsts if m))
    return Phrases(pattern, None)


@dataclass(frozen=True)
class Cues:
    """The lexicon's move phrases, compiled once per knowledge object."""

    attributes: Phrases
    attribute_kinds: dict[str, tuple[str, ...]]  # phrase -> the attributes it asks
    attribute_stems: dict[str, tuple[str, ...]]  # stem of a one-word cue -> its attributes
    cue_stems: frozenset[str]  # the stems of every word of the attribute phrases
    attribute_words: tuple[str, ...]  # one-word cues long enough for a typo
    corrections: Phrases
    switches: Phrases
    contrasts: Phrases
    details: Phrases
    yes_no: Phrases
    needed: Phrases
    participation: Phrases
    comparisons: Phrases
    references: Phrases
    breakdowns: Phrases
    more_people: Phrases
    ordinals: dict[str, int]
    # word typed -> the one-word cue it inflects or misspells, or None; filled as questions
    # come (the same words come back, and a distance search costs more than the rest)
    near: dict[str, str | None] = field(default_factory=dict)


def compile_cues(knowledge: Knowledge) -> Cues:
    lexicon = knowledge.lexicon
    kinds: dict[str, list[str]] = {}
    for kind, phrases in lexicon.attributes.items():
        for phrase in phrases:
            kinds.setdefault(phrase, []).append(kind)
    stems: dict[str, list[str]] = {}
    for phrase, phrase_kinds in kinds.items():
        if " " not in phrase and len(stem(phrase)) >= STEM_MIN:
            for kind in phrase_kinds:
                stems.setdefault(stem(phrase), []).append(kind)
    d = lexicon.dialogue
    return Cues(
        attributes=_regex(kinds),
        attribute_kinds={p: tuple(k) for p, k in kinds.items()},
        attribute_stems={t: tuple(dict.fromkeys(k)) for t, k in stems.items()},
        cue_stems=frozenset(stem(w) for phrase in kinds for w in phrase.split()),
        attribute_words=tuple(p for p in kinds if " " not in p and len(p) >= TYPO_MIN),
        corrections=_regex(d.corrections),
        switches=_regex(d.topic_switches),
        contrasts=_regex(d.contrasts),
        details=_regex(d.details),
        yes_no=_regex(d.yes_no),
        needed=_regex(d.needed),
        participation=_regex(d.participation),
        comparisons=_regex(d.comparisons),
        references=_regex(d.references),
        breakdowns=_regex(d.breakdowns),
        more_people=_regex(d.more_people),
        ordinals=dict(d.ordinals),
    )


def blank(plain: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with these spans taken out, single-spaced."""
    out = list(plain)
    for start, end in spans:
        out[start:end] = " " * (end - start)
    return " ".join("".join(out).split())


def only_filler(text: str, extra: frozenset[str] = frozenset()) -> bool:
    return all(w in FILLER or w in extra for w in text.split())


class Moves(NamedTuple):
    """What a message's cues say it does. ``rest``: the text without attribute and question
    cues, what the message names of its own."""

    attributes: tuple[str, ...]  # attribute kinds asked, in order of the text
    # Asked by an inflection or a typo of a cue ("télécharge", "instaler"): only trusted of
    # the subject under discussion ("s'adresser à tous" is no question on an address).
    near_attributes: tuple[str, ...]
    near_words: tuple[str, ...]  # the words typed for them
    near_cues: tuple[str, ...]  # the cues those words misspell or inflect
    rest: str
    yes_no: bool  # "puis-je… ?", "c'est autorisé ?"
    needed: bool  # "faut-il… ?"
    participating: bool  # "participer", "rejoindre": not as the organiser
    compares: bool  # "différence entre …", "comparer …": each tool named, side by side
    refers: bool  # "l'utiliser", "dedans": of the tool under discussion
    works_on: bool  # "ça marche sur mobile ?": what follows is a platform, no subject
    breakdown: bool  # "Tchap ne marche plus": asks the alternatives of what it names
    more_people: bool  # "et si on est plus nombreux ?": more than the count in the thread
    correction: str | None  # the text after a correction cue ("non, plutôt …")
    switch: str | None  # the text after a topic switch ("autre question : …")
    # The text after the last contrast ("j'utilise Tchap… par contre je dois réunir 40
    # collègues"), anywhere in the message; None without one.
    contrast: str | None
    details: bool  # the whole message asks for the rest of the last answer
    pick: int | None  # 1-based option picked ("2", "le premier"); -1: the last


def _near_cues(plain: str, taken: list[tuple[int, int]], cues: Cues) -> list[tuple[str, int, int]]:
    """(cue, start, end) of the words outside ``taken`` that are an inflection or a typo
    of a one-word cue."""
    out = []
    near = cues.near
    for word in _WORD.finditer(plain):
        token = word.group(0)
        if len(token) < STEM_MIN:
            continue
        start = word.start()
        if any(a <= start < b for a, b in taken):
            continue
        if token in near:
            cue = near[token]
        else:
            cue = _near_cue(token, cues)
            if len(near) >= NEAR_CACHE_LIMIT:
                near.clear()
            near[token] = cue
        if cue is not None:
            out.append((cue, start, word.end()))
    return out


def _near_cue(token: str, cues: Cues) -> str | None:
    if stem(token) in cues.attribute_stems:
        return stem(token)
    if len(token) >= TYPO_MIN:
        # The first cue, in the lexicon's order, one edit away (distances in C).
        close = process.extract(
            token, cues.attribute_words, scorer=Levenshtein.distance, score_cutoff=1, limit=None
        )
        if close:
            return min(close, key=lambda c: c[2])[0]
    return None


def read_moves(plain: str, cues: Cues) -> Moves:
    words = text_words(plain)
    # "tchap plutôt que le mail ?" prefers what comes first: no alternatives to ask then.
    found = [
        m
        for m in cues.attributes.finditer(plain, words)
        if not (m.group(0) in _PREFERENCES and not only_filler(plain[: m.start()]))
    ]
    kinds = tuple(dict.fromkeys(k for m in found for k in cues.attribute_kinds[m.group(0)]))
    spans = [m.span() for m in found]
    broken = cues.breakdowns.finditer(plain, words)
    # What else than the tool or need named; "qui je contacte si ça marche pas ?" asks
    # whom to call instead.
    if broken and "contact" not in kinds:
        kinds = tuple(dict.fromkeys((*kinds, "alternatives")))
        spans += [m.span() for m in broken]
    near: list[str] = []
    near_words: list[str] = []
    near_cues: list[str] = []
    for cue, start, end in _near_cues(plain, spans, cues):
        near += cues.attribute_stems.get(cue) or cues.attribute_kinds[cue]
        near_words.append(plain[start:end])
        near_cues.append(cue)
        spans.append((start, end))
    yes_no = cues.yes_no.finditer(plain, words)
    needed = cues.needed.finditer(plain, words)
    asks = [*spans, *(m.span() for m in yes_no), *(m.span() for m in needed)]
    rest = blank(plain, asks)
    details_left = blank(plain, (m.span() for m in cues.details.finditer(plain, words)))
    return Moves(
        attributes=kinds,
        near_attributes=tuple(k for k in dict.fromkeys(near) if k not in kinds),
        near_words=tuple(near_words),
        near_cues=tuple(near_cues),
        rest=rest,
        # "quelle date leur convient ?" asks which, not whether.
        yes_no=bool(yes_no) and _OPEN_QUESTION.isdisjoint(words),
        # "il faut quoi ?" asks what, not whether: no "Oui" to it.
        needed=bool(needed) and _OPEN_QUESTION.isdisjoint(words) and _WHAT not in plain,
        participating=bool(cues.participation.finditer(plain, words)),
        compares=bool(cues.comparisons.finditer(plain, words)),
        refers=bool(found_refs := cues.references.finditer(plain, words)),
        works_on=any(_on_a_platform(m.group(0)) for m in found_refs),
        breakdown=bool(broken),
        more_people=bool(cues.more_people.finditer(plain, words)),
        correction=_after(plain, words, cues.corrections, anywhere=_ANYWHERE),
        switch=_switch(plain, words, cues),
        contrast=_contrast(plain, words, cues),
        details=details_left != plain.strip() and only_filler(details_left),
        pick=_pick(plain, cues.ordinals),
    )


_PLATFORM_LINKS = frozenset("sur depuis avec sans".split())
# Cues of an alternative that, after something named, prefer it to what follows.
_PREFERENCES = frozenset({"plutot que", "plutot qu", "au lieu de", "au lieu du", "au lieu d"})


def _on_a_platform(cue: str) -> bool:
    """ "ça marche sur", "et sur mon téléphone", "sur mon portable": the link word last,
    first, or after "et"."""
    words = cue.split()
    return (
        words[-1] in _PLATFORM_LINKS
        or words[0] in _PLATFORM_LINKS
        or (words[0] == "et" and words[1] in _PLATFORM_LINKS)
    )


_OPEN_QUESTION = frozenset("quoi quel quelle quels quelles comment combien".split())
_WHAT = "qu est ce qu"  # "qu'est-ce qu'il faut ?" asks what, as "quoi"


def _switch(plain: str, words: frozenset[str], cues: Cues) -> str | None:
    """ "autre chose : …" turns to another topic; "autre chose que tchap ?" asks for an
    alternative to the one under discussion."""
    rest = _after(plain, words, cues.switches)
    return None if rest is not None and rest.split()[:1] in (["que"], ["qu"]) else rest


def _contrast(plain: str, words: frozenset[str], cues: Cues) -> str | None:
    found = cues.contrasts.finditer(plain, words)
    return plain[found[-1].end() :].strip() if found else None


def _after(
    plain: str, words: frozenset[str], phrases: Phrases, anywhere: frozenset[str] = frozenset()
) -> str | None:
    """The text without the cue, when the cue opens the message (or may stand anywhere)."""
    for found in phrases.finditer(plain, words):
        before = plain[: found.start()].split()
        if all(w in _LEADING for w in before) or found.group(0) in anywhere:
            return blank(plain, [found.span()])
    return None


def _pick(plain: str, ordinals: Mapping[str, int]) -> int | None:
    """ "2", "le 2", "option 2", "le deuxième", "la 2e", "le dernier": one number, nothing
    else of substance."""
    words = plain.split()
    picks: list[int] = []
    for i, word in enumerate(words):
        if word.isdigit() and _NUMBER.match(word):
            picks.append(int(word))
        elif word in ordinals:
            picks.append(ordinals[word])
        elif word == "e" and i > 0 and _NUMBER.match(words[i - 1]):
            continue  # "2e" is normalised to "2 e"
        elif word not in FILLER:
            return None  # something of substance besides the pick
    return picks[0] if len(picks) == 1 else None


_cache: dict[int, tuple[weakref.ref[Knowledge], Cues]] = {}
_lock = Lock()


def cues_for(knowledge: Knowledge) -> Cues:
    """The compiled cues of a knowledge object, built on first use and dropped with it."""
    key = id(knowledge)
    entry = _cache.get(key)
    if entry is not None and entry[0]() is knowledge:
        return entry[1]
    with _lock:
        cues = compile_cues(knowledge)
        _cache[key] = (weakref.ref(knowledge, lambda _: _cache.pop(key, None)), cues)
        return cues
