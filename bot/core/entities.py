"""Entities read from a normalised question: participant count, device, sensitivity."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

# Beyond this a count is absurd; it is kept (as "very many") but never echoed as is.
MAX_PARTICIPANTS = 100_000

_PEOPLE = (
    r"(?:personnes?|pers|participants?|participantes?|agents?|collegues?|gens|membres?"
    r"|invites?|utilisateurs?|interlocuteurs?|correspondants?|users?|ppl|inscrits?)"
)
# Words after a number that make it something other than a head count.
_NOT_PEOPLE = (
    r"(?:h|heures?|min|minutes?|mn|jours?|semaines?|mois|ans?|euros?|eur|%|go|mo|km|ko"
    r"|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)"
)
_N = r"(\d{1,15})"
_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    # (pattern, offset): "plus de 50" means at least 51; "moi et 2 collègues" makes 3.
    (re.compile(rf"\b(?:moi|nous 2|nous deux) et {_N}\b"), 1),
    (re.compile(rf"\b(?:plus de|au dela de|superieur a|>)\s*{_N}\b"), 1),
    (re.compile(rf"\b(?:moins de|inferieur a|<)\s*{_N}\b"), -1),
    (re.compile(rf"\b{_N}\s*(?:e|eme|ieme)?\s*{_PEOPLE}\b"), 0),
    (
        re.compile(
            rf"\b(?:a|pour|avec|entre|sommes|serons|sera|est|etre|jusqu a)\s+{_N}\b"
            rf"(?!\s*{_NOT_PEOPLE}\b)"
        ),
        0,
    ),
    (re.compile(rf"\b{_N}\s+e\b"), 0),  # "une 3e personne": the third participant
    # Last resort, a bare number ("visio 80"), unless it is a date, an hour or a quantity.
    (
        re.compile(rf"(?<!\ble )(?<!\bdu )(?<!\bau )(?<!\bversion )\b{_N}\b(?!\s*{_NOT_PEOPLE}\b)"),
        0,
    ),
)
# "moi et ma cheffe", "moi et un collègue": two people.
_ME_AND_ONE = re.compile(r"\bmoi et (?:mon|ma|un|une) [a-z]+")
_RANGE = re.compile(rf"\b(?:entre\s+)?{_N}\s+(?:a|et)\s+{_N}\s*{_PEOPLE}")


@dataclass(frozen=True)
class Entities:
    participants: int | None = None
    device: str | None = None  # a device id of the lexicon ("android", "iphone")
    sensitive: bool = False

    def merged_over(self, older: Entities) -> Entities:
        """This message's entities, completed by what an earlier message said."""
        return Entities(
            self.participants if self.participants is not None else older.participants,
            self.device or older.device,
            self.sensitive or older.sensitive,
        )

    @property
    def empty(self) -> bool:
        return self.participants is None and self.device is None and not self.sensitive


def _contains_phrase(plain: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", plain) is not None


def read_participants(plain: str, approximate: Mapping[str, int]) -> int | None:
    found = _RANGE.search(plain)
    if found:  # "entre 10 et 20 personnes": plan for the upper bound
        return min(max(int(found.group(1)), int(found.group(2))), MAX_PARTICIPANTS)
    if _ME_AND_ONE.search(plain):
        return 2
    for pattern, offset in _PATTERNS:
        found = pattern.search(plain)
        if found:
            return max(1, min(int(found.group(1)) + offset, MAX_PARTICIPANTS))
    for word, value in approximate.items():
        if _contains_phrase(plain, word):
            return value
    return None


def _misspelt_device(plain: str, devices: Mapping[str, tuple[str, ...]]) -> str | None:
    """One typo in a device name of five letters or more: "ipone", "andoid", "samsoung"."""
    for word in plain.split():
        if len(word) < 5:
            continue
        for device, names in devices.items():
            close = (
                len(name) >= 5
                and name[0] == word[0]
                and " " not in name
                and Levenshtein.distance(word, name, score_cutoff=1) <= 1
                for name in names
            )
            if any(close):
                return device
    return None


def read_entities(
    plain: str,
    *,
    devices: Mapping[str, tuple[str, ...]],
    sensitive_words: tuple[str, ...],
    approximate_numbers: Mapping[str, int],
) -> Entities:
    device = next(
        (
            device
            for device, words in devices.items()
            if any(_contains_phrase(plain, w) for w in words)
        ),
        None,
    ) or _misspelt_device(plain, devices)
    sensitive = any(_contains_phrase(plain, w) for w in sensitive_words)
    return Entities(read_participants(plain, approximate_numbers), device, sensitive)


def without_entities(
    plain: str,
    devices: Mapping[str, tuple[str, ...]],
    sensitive_words: tuple[str, ...],
    approximate_numbers: Mapping[str, int],
) -> str:
    """The text with every entity mention removed: what else the message says."""
    words = [w for ws in devices.values() for w in ws] + list(sensitive_words)
    words += list(approximate_numbers)
    for phrase in sorted(words, key=len, reverse=True):
        plain = re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", " ", plain)
    plain = re.sub(rf"\b(?:plus|moins) de\b|\b\d+\b|\b{_PEOPLE}\b", " ", plain)
    return " ".join(plain.split())
