"""French text normalisation for matching: what an agent types, reduced to comparable tokens.

Two views of a question come out of here:
- ``plain``: lower case, no accents, elisions split, punctuation gone, number words turned
  into digits ("à trois" -> "a 3"), SMS spellings expanded. Entity reading works on it.
- ``tokens``: ``plain`` without stopwords, each word stemmed (Snowball French), so that
  "partager" and "partage", "fusionner" and "fusionnez" meet. ``surface`` holds the word
  each token comes from, for the lookups that need it unstemmed (phonetic keys).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer
from text_to_num import alpha2digit

# Far above any question; a 100 KB paste is cut before the regexes see it.
MAX_CHARS = 2000

# Snowball's C library (PyStemmer) when installed, as it is with the bot: snowballstemmer
# then hands it out, the same stems (tests/unit/test_stemmer.py) fifty times faster.
_STEMMER = snowballstemmer.stemmer("french")
# Apostrophe variants, and letters that Unicode does not decompose into base + accent.
_FOLD_TABLE = str.maketrans(
    {"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l"}
    | {"đ": "d", "ß": "ss"}
)
# Elided articles and pronouns: "l'audio", "qu'est-ce", "j'ai", "c'est".
_ELISION = re.compile(r"\b(l|d|j|qu|c|s|n|m|t|jusqu|lorsqu|puisqu)'")
_NOT_WORD = re.compile(r"[^a-z0-9@.+]+")
# Dots and @ stay inside addresses and numbers ("audio.mtes.fr"), not at word edges.
_EDGE_PUNCT = re.compile(r"(?<![a-z0-9])[.@+]+|[.@+]+(?![a-z0-9])")
# "3e", "3eme", "3ème" personne: an ordinal participant count.
_ORDINAL = re.compile(r"\b(\d+)\s*(?:e|eme|ieme|em)\b")
_ANY_DIGIT = re.compile(r"\d")
# Comparisons typed as signs, said in words before the signs go: "+ de 50", "> 50", "+50"
# are "plus de 50", never a count of 50. "5 + 3" (a space before the digits) stays a sum.
_COMPARED = (
    (re.compile(r"(?:>\s*=|\u2265)\s*(?=\d)"), " au moins "),
    (re.compile(r"(?:<\s*=|\u2264)\s*(?=\d)"), " au plus "),
    (re.compile(r"(?:\+|>)\s*(?=d\b|de\b|d')"), " plus "),
    (re.compile(r">\s*(?=\d)|(?<![^\s(])\+(?=\d)"), " plus de "),
    (re.compile(r"(?:<|(?<![^\s(])-)\s*(?=d\b|de\b|d')"), " moins "),
    (re.compile(r"<\s*(?=\d)"), " moins de "),
)


class Normalized(NamedTuple):
    plain: str  # accent-free, lower case, digits for numbers, single spaces
    words: tuple[str, ...]  # plain split into words (stopwords kept)
    tokens: tuple[str, ...]  # content words, stemmed
    surface: tuple[str, ...] = ()  # the plain word of each token, same order
    typed: tuple[str, ...] = ()  # the words before abbreviations ("docs", not "documents")


class _Marks(dict[str, str]):
    """Character -> what it folds to before case folding: combining marks (accents) and
    format characters (zero-width, bidi overrides) dropped, line and control characters
    made spaces, so that a hostile or pasted text folds to the same words. Filled as
    characters come; only the characters that are not printable ASCII are looked up, so
    a reply of a thousand characters is folded by regular expressions, in C."""

    def __missing__(self, ch: str) -> str:
        category = unicodedata.category(ch)
        if unicodedata.combining(ch) or category == "Cf":
            out = ""
        elif category in ("Cc", "Zl", "Zp"):
            out = " "
        else:
            out = ch
        if len(self) < _MARKS_LIMIT:  # a paste of rare characters cannot grow it for ever
            self[ch] = out
        return out


_MARKS_LIMIT = 20_000
_MARKS = _Marks()
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_FOLDED = re.compile("[" + re.escape("".join(chr(c) for c in _FOLD_TABLE)) + "]")


def fold(text: str) -> str:
    """Lower case, no accents, no control or zero-width characters, apostrophes unified."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS])
    text = _NOT_PRINTABLE_ASCII.sub(lambda m: _MARKS[m.group()], text).casefold()
    return _FOLDED.sub(lambda m: str(_FOLD_TABLE[ord(m.group())]), text)


# Words Snowball cuts to the stem of common words, kept whole (a stemmer override, as
# search engines have): "devis" would be "devait" and "devant", "paie" "payer", "payant",
# "direction" (a sous-direction) "direct" (en direct), "rendez"(-vous) "rendre", "coupe"
# (ça coupe) "coup" (un coup de fil).
_KEPT_WHOLE = frozenset(
    {"devis", "paie", "direction", "directions", "rendez"}
    | {"coupe", "coupes", "coupent", "coupee", "coupees", "coupure", "coupures"}
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if word.isdigit() or len(word) <= 3 or word in _KEPT_WHOLE:
        return word
    return str(_STEMMER.stemWord(word))


# Every French number word above one holds one of these (text2num leaves "un", "une").
_NUMBER_WORD = re.compile(
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize"
    r"|vingt|trente|quarante|cinquante|soixante|cent|mille|million|milliard"
)


def _digits(text: str) -> str:
    """Number words to digits: "soixante" -> "60", "à trois" -> "a 3" (text2num).

    Twice: first with the hyphens as typed, since text2num reads the compounds it knows
    ("quatre-vingt-dix" -> 90, "soixante-dix" -> 70; split first, they were 4 - 20 - 10);
    then with the remaining hyphens apart, for ranges ("deux-trois" -> "2 - 3").
    """
    if not _NUMBER_WORD.search(text):
        return text  # most messages: no number word, no need for text2num
    try:
        once = str(alpha2digit(text, "fr", threshold=2))
        return str(alpha2digit(once.replace("-", " - "), "fr", threshold=2))
    except Exception:
        return text


def _has_sign(folded: str) -> bool:
    """A sign _COMPARED reads ("- de" only: hyphens are in every other message); substring
    tests, cheaper than a search."""
    return (
        "+" in folded
        or ">" in folded
        or "<" in folded
        or "-d" in folded
        or "- d" in folded
        or "\u2264" in folded
        or "\u2265" in folded
    )


def typed_words(text: str) -> tuple[str, ...]:
    """The question as accent-free words, number words as digits, as typed otherwise."""
    # Each substitution runs only when its character is there: most questions have no
    # apostrophe, no dot or @, no digit, and a search for one is cheaper than a pass.
    folded = fold(text)
    if _has_sign(folded):
        for sign, words in _COMPARED:
            folded = sign.sub(words, folded)
    if "'" in folded:
        folded = _ELISION.sub(lambda m: m.group(1) + "' ", folded)
    folded = _NOT_WORD.sub(" ", _digits(folded))
    if "." in folded or "@" in folded or "+" in folded:
        folded = _EDGE_PUNCT.sub(" ", folded)
    if _ANY_DIGIT.search(folded):
        folded = _ORDINAL.sub(r"\1 e", folded)
    return tuple(folded.split())


def plain_words(text: str, abbreviations: Mapping[str, str]) -> tuple[str, ...]:
    """The question as accent-free words, number words as digits, SMS spellings expanded."""
    return expand(typed_words(text), abbreviations)


def expand(raws: tuple[str, ...], abbreviations: Mapping[str, str]) -> tuple[str, ...]:
    """SMS spellings and abbreviations replaced by their words."""
    words: list[str] = []
    for i, raw in enumerate(raws):
        parts = abbreviations.get(raw, "").split()
        # An expansion that the next word already completes ("c" + "est") is not applied.
        if not parts or (len(parts) > 1 and list(raws[i + 1 : i + 2]) == parts[1:2]):
            words.append(raw)
        else:
            words.extend(parts)
    return tuple(words)


NEGATED = "!"  # prefix of a token the text says it does not want: "sans vidéo" -> "!video"
_NEGATORS = frozenset({"sans", "pas", "aucun", "aucune"})
# Between a negator and the word it denies: "pas besoin de la vidéo", "sans aucune".
# Pronouns and the adjectives that come before a noun: "sans lui faire un long mail".
_NEGATION_GAP = frozenset(
    {"besoin", "de", "d", "du", "des", "la", "le", "les", "l", "un", "une", "lui", "leur"}
    | {"faire", "petit", "petite", "petits", "long", "longue", "longs", "gros", "grand"}
)
# "ni" goes on denying once something was denied: "sans l'appeler ni lui écrire un mail".
_NEGATION_GOES_ON = "ni"
# "sans" and a verb deny the word the verb acts on too: "sans installer d'appli", "sans
# passer par un courriel"; one word, the text's commas being gone.
_WITHOUT = "sans"
_INFINITIVE = ("er", "ir", "re")
_VERB_LINKS = frozenset({"par", "a", "au", "aux", "sur", "dans", "avec"})
# "sans sortir du webmél", "sans quitter Tchap": the place is wanted, not denied.
_STAYING = frozenset({"sortir", "quitter", "changer"})
# "plus rapide que le courriel", "mieux que Zoom": what the wish is measured against is not
# wanted. "plus" and "moins" need their adjective ("ne ... plus que le mail" means only);
# the number is how many words may come before "que".
_COMPARATIVES = {"plus": 3, "moins": 3, "mieux": 1, "pire": 1}


def content_words(
    words: tuple[str, ...], stopwords: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stems of the content words, and the word each comes from. Digits are entities
    (counts), not vocabulary; single letters are noise; a word under a negation ("pas de
    vidéo") is marked, so that it matches phrasings that deny it too ("réunion sans vidéo")
    and never those that want it.
    """
    tokens: list[str] = []
    surface: list[str] = []
    negating = denied = without = False
    acted_on = False  # denying what a verb after "sans" acts on
    previous = ""
    comparing = 0  # words left in which a "que" ends a comparison
    for word in words:
        if word == "pas" and previous == "pourquoi":
            previous = word
            continue  # "pourquoi pas zoom ?" asks about Zoom
        # "une visio plutôt que Zoom", "Tchap au lieu du mail": what follows is not wanted,
        # once something was asked before it.
        foil = bool(tokens) and (
            (word in ("que", "qu") and (previous == "plutot" or comparing > 0))
            or (word in ("de", "du", "d") and previous == "lieu")
        )
        comparing = max(0, comparing - 1)
        if word in _COMPARATIVES:
            comparing = _COMPARATIVES[word]
        elif comparing and previous in ("plus", "moins") and word in ("que", "qu"):
            foil = False  # "ne ... plus que": only
        previous = word
        if foil:
            # "plutôt que de lui écrire des mails": like "sans", a verb and what it acts on.
            negating = denied = without = True
            acted_on = False
            continue
        if word in _NEGATORS or (denied and word == _NEGATION_GOES_ON):
            negating = denied = True
            without, acted_on = word == _WITHOUT, False
            continue
        if negating and (word in _NEGATION_GAP or (acted_on and word in _VERB_LINKS)):
            continue
        if negating and without and word in _STAYING:
            negating = acted_on = False
            continue
        if len(word) > 1 and not word.isdigit() and word not in stopwords:
            tokens.append(NEGATED + stem(word) if negating else stem(word))
            surface.append(word)
            if negating and not acted_on and without and word.endswith(_INFINITIVE):
                acted_on = True
                continue
        negating = acted_on = False
    return tuple(tokens), tuple(surface)


def content_tokens(words: tuple[str, ...], stopwords: frozenset[str]) -> tuple[str, ...]:
    return content_words(words, stopwords)[0]


def normalize(text: str, abbreviations: Mapping[str, str], stopwords: frozenset[str]) -> Normalized:
    typed = typed_words(text)
    words = expand(typed, abbreviations)
    tokens, surface = content_words(words, stopwords)
    return Normalized(" ".join(words), words, tokens, surface, typed)
