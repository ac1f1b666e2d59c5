"""A French phonetic key: words that sound alike get the same key ("odyo" and "audio",
"konférence" and "conférence", "ouebmel" and "webmel", "charepoin" and "sharepoint").

Agents type tool names as they hear them; an edit distance misses those spellings when
they differ by two or three letters that sound the same. The key is a second way into the
vocabulary, after the exact and typo lookups (matcher.py). It works on folded text (no
accents, lower case) and is deliberately coarse: it is only ever compared with the keys of
the knowledge's own words, never used to rewrite what the agent typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Ordered rewrites: longer spellings of a sound first. Each maps a spelling to one letter
# group, so that every way of writing the sound ends the same.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"eau|au", "o"),
        (r"ph", "f"),
        (r"sch|sh", "ch"),
        (r"ch", "\x00"),  # kept apart from the "c" rules below, restored at the end
        (r"qu|ck|q", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"g(?=[eiy])", "j"),
        (r"gu(?=[eiy])", "g"),
        (r"x", "ks"),
        (r"oi", "wa"),
        (r"ou(?=[aeiy])", "w"),
        (r"ou", "u"),
        (r"y", "i"),
        (r"z", "s"),
        (r"w", "v"),
        (r"tion", "sion"),
        (r"(?:ai|ei|ay|ey)(?![n])", "e"),
        (r"(?:ain|ein|aim|eim)(?![aeiou])", "in"),
        (r"(?:en|em|am)(?![aeioun])", "an"),
        (r"h", ""),  # silent, once ch/ph/sh are done
    )
)
_DOUBLE = re.compile(r"(.)\1+")
# Letters not heard at the end of a French word: "fichier(s)", "partage", "sharepoint".
_SILENT_END = re.compile(r"(?:[stdx]|e)+$")
_FINAL_ER = re.compile(r"(?:er|ez|et)$")
# An "e" between two consonants, often not heard or not typed ("messag(e)rie" -> "mesajri",
# "tél(é)fonik"): dropped after the first letter, so that both spellings meet.
_SCHWA = re.compile(r"(?<=[bcdfgjklmnprstv])e(?=[bcdfgjklmnprstv])")


@lru_cache(maxsize=65536)
def phonetic_key(word: str) -> str:
    """The key of one folded word; words of fewer than three letters keep themselves."""
    if len(word) < 3 or not word.isalpha():
        return word
    key = word
    for pattern, repl in _REWRITES:
        key = pattern.sub(repl, key)
    key = _DOUBLE.sub(r"\1", key.replace("\x00", "ch"))
    key = _FINAL_ER.sub("e", key)
    key = key[:1] + _SCHWA.sub("", key[1:])
    stripped = _SILENT_END.sub("", key)
    return stripped if len(stripped) >= 2 else key
