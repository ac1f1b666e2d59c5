"""What a typed word may mean among the indexed tokens: typos, elisions, phonetic spellings.

In order, the first that finds something wins:
- the token itself, or without an elision typed with no apostrophe ("letat", "ladresse");
- one edit in a word of 5 to 7 letters, two from 8, with the first letter as typed ("tart"
  must not become "start"), or a shared prefix of five letters or more ("stock" /
  "stockag");
- the same French phonetic key (phonetic.py: "odyo" / "audio", "fichié" / "fichier");
- for the closed list of tool names and need titles only: one edit in a word of 3 or 4
  letters ("tchp"), as typed as well as stemmed ("étage", stemmed "etag", is no "état"),
  two letters swapped in a longer one ("tcahp"), or keys one edit apart
  ("skalway" / "scaleway"). Common words are
  never reached this way, so "mal" cannot become "mail" nor "somme" "zoom".

A name typed in two words ("tic séo", "live size") is read by ``joined_names``.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import pairwise

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from bot.core.concepts import CONCEPT
from bot.core.index import PHONETIC_MIN, Index, is_real
from bot.core.normalize import NEGATED, stem
from bot.core.phonetic import phonetic_key

MIN_TYPO_LENGTH = 5
LONG_WORD = 8
PREFIX_MIN = 5
PREFIX_SIMILARITY = 0.9
PHONETIC_SIMILARITY = 0.85
NAME_SIMILARITY = 0.8
NAME_KEY_MIN = 5  # keys this long before they may differ by one edit
MAX_EXTENSIONS = 8
NEGATED_SIMILARITY = 0.8
CACHE_LIMIT = 100_000

Meanings = tuple[tuple[str, float], ...]


def similar_tokens(token: str, word: str, index: Index) -> Meanings:
    """(indexed token, similarity) for one question token and the word it comes from."""
    key = token if token == word else f"{token}\x00{word}"
    cached = index.similar.get(key)
    if cached is None:
        cached = _lookup(token, word, index)
        if len(index.similar) >= CACHE_LIMIT:
            index.similar.clear()
        index.similar[key] = cached
    return cached


def _lookup(token: str, word: str, index: Index) -> Meanings:
    if token in index.postings:
        # A misspelling can stem like another word ("fichié" -> "fich", as "fiche"): a word
        # the knowledge never writes also gets what it sounds like.
        if word in index.real_words or word in index.common_words or token.startswith(NEGATED):
            return ((token, 1.0),)
        sounds = {k: s for k, s in _sounds(token, word, index).items() if k != token}
        return ((token, 1.0), *sorted(sounds.items(), key=lambda kv: -kv[1]))
    if token.startswith(NEGATED):
        # No phrasing denies this word: the question is still about it ("pas de zoom ?").
        inner = similar_tokens(token[1:], word, index)
        return tuple((known, sim * NEGATED_SIMILARITY) for known, sim in inner)
    if token.startswith(CONCEPT):
        return ()  # a concept is exact
    if word in index.common_words:
        return ()  # "semaine" is no typo of "séminaire", nor "entre" the start of "entretien"
    if is_real(word, index):  # a real word is no typo, but may extend a known one
        return tuple(sorted(_prefixes(token, index).items(), key=lambda kv: -kv[1]))
    # An elision typed without its apostrophe: "letat", "ladresse", "dun".
    if token[0] in "ldjmnst" and token[1:] in index.postings and token[1] in "aeiouyh":
        return ((token[1:], 1.0),)
    found = _edits(token, index)
    if not found:
        found = _sounds(token, word, index)
    if not found:
        found = _names(token, word, index)
    return tuple(sorted(found.items(), key=lambda kv: -kv[1]))


def _edits(token: str, index: Index) -> dict[str, float]:
    found: dict[str, float] = {}
    if len(token) < MIN_TYPO_LENGTH:
        return found
    edits = 2 if len(token) >= LONG_WORD else 1
    for match, distance, _ in process.extract(
        token, index.vocabulary, scorer=Levenshtein.distance, score_cutoff=edits, limit=3
    ):
        if match[0] == token[0]:
            found[match] = 1.0 - distance / max(len(token), len(match))
    for known, similarity in _prefixes(token, index).items():
        found[known] = max(found.get(known, 0.0), similarity)
    return found


def _prefixes(token: str, index: Index) -> dict[str, float]:
    """Indexed tokens that this one extends or that extend it, from five letters on."""
    if len(token) < PREFIX_MIN:
        return {}
    prefixed = [token[:end] for end in range(PREFIX_MIN, len(token))]
    # The vocabulary is sorted: the tokens that extend this one are contiguous.
    start = bisect_left(index.vocabulary, token)
    for known in index.vocabulary[start : start + MAX_EXTENSIONS]:
        if not known.startswith(token):
            break
        prefixed.append(known)
    return {known: PREFIX_SIMILARITY for known in prefixed if known in index.postings}


def _sounds(token: str, word: str, index: Index) -> dict[str, float]:
    if len(word) < PHONETIC_MIN or not word.isalpha():
        return {}
    found: dict[str, float] = {}
    for key in {phonetic_key(word), phonetic_key(token)}:
        if len(key) >= PHONETIC_MIN:
            for known in index.phonetic.get(key, ()):
                found[known] = PHONETIC_SIMILARITY
    return found


def _names(token: str, word: str, index: Index) -> dict[str, float]:
    if len(word) < 3 or not word.isalpha():
        return {}
    found: dict[str, float] = {}
    # One edit, or two letters swapped ("tcahp", "tchpa"): OSA counts a swap as one edit.
    # Longer words already had their edits against the whole vocabulary (_edits).
    scorer = Levenshtein.distance if len(token) < MIN_TYPO_LENGTH else OSA.distance
    for name, distance, _ in process.extract(
        token, index.names, scorer=scorer, score_cutoff=1, limit=3
    ):
        if (
            name[0] == token[0]
            and len(name) > len(token) - 1
            and (len(token) < MIN_TYPO_LENGTH or distance == 1)
            # a short word as typed, not only its stem: "étage" is no "état"
            and (len(token) >= MIN_TYPO_LENGTH or Levenshtein.distance(word, name) <= 1)
        ):
            found[name] = NAME_SIMILARITY
    key = phonetic_key(word)
    if len(key) >= NAME_KEY_MIN - 1:
        for name_key, _, _ in process.extract(
            key, list(index.name_keys), scorer=Levenshtein.distance, score_cutoff=1, limit=3
        ):
            # A key one shorter only as a brand's with a vowel left out ("skelway", whose
            # "e" is not heard, is "scaleway").
            short = len(key) < NAME_KEY_MIN
            if (
                name_key[0] == key[0]
                and len(name_key) >= NAME_KEY_MIN
                and (not short or (len(name_key) == len(key) + 1 and name_key in index.brand_keys))
            ):
                found[index.name_keys[name_key]] = NAME_SIMILARITY
    return found


JOINED_MIN = 6  # letters of two words read as one name: "tic séo" (Tixéo)


def joined_names(surface: tuple[str, ...], index: Index) -> tuple[str, ...]:
    """The tool names two neighbouring words make once joined ("tic séo", "live size"):
    the name itself, its phonetic key, or a key one edit away. Only brands ("Tixéo", not
    "personnel"), never another word, and only what the words did not already say: two words
    the knowledge writes are no broken name ("personne ne" is no "personnel")."""
    found: list[str] = []
    said = {stem(w) for w in surface}
    for first, second in pairwise(surface):
        joined = first + second
        if len(joined) < JOINED_MIN or not joined.isalpha():
            continue
        if is_real(first, index) and is_real(second, index):
            continue
        name = stem(joined)
        if name not in index.brands:
            # Only the brands' keys are searched: no other name is kept.
            key = phonetic_key(joined)
            if key not in index.brand_keys and len(key) >= NAME_KEY_MIN:
                close = process.extractOne(
                    key, index.brand_keys, scorer=Levenshtein.distance, score_cutoff=1
                )
                key = close[0] if close is not None and close[0][0] == key[0] else key
            name = index.name_keys.get(key, "")
        if name in index.brands and name not in said and name not in found:
            found.append(name)
    return tuple(found)
