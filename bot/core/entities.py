"""Entities read from a normalised question: participant count, device, sensitivity, and
the service the agent works in (administration centrale, services déconcentrés, DDI)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

# Beyond this a count is absurd; it is kept (as "very many") but never echoed as is.
MAX_PARTICIPANTS = 100_000

# Words that count people after a number: "12 personnes", "80 stagiaires", "8 people";
# "40 nouveaux arrivants", "6 jeunes recrues": an adjective may come first.
_PEOPLE = (
    r"(?:(?:nouveaux|nouvelles|nouveau|nouvelle|futurs|futures|jeunes|autres)\s+)?"
    r"(?:perss?onn?es?|arrivants?|arrivantes?|recrues?|pers|participants?|participantes?|agents?|collegues?|colegues?"
    r"|gens|membres?|invites?|utilisateurs?|interlocuteurs?|correspondants?|inscrits?"
    r"|stagiaires?|apprenants?|eleves?|candidats?|intervenants?|collaborateurs?|salaries?"
    r"|fonctionnaires?|cadres?|chefs?|directeurs?|representants?|delegues?|partenaires?"
    r"|experts?|referents?|auditeurs?|spectateurs?|usagers?|elus?|personnels?"
    r"|inspecteurs?|inspectrices?|techniciens?|techniciennes?|ingenieurs?|juristes?"
    r"|secretaires?|assistants?|assistantes?|adjoints?|adjointes?|conseillers?|conseilleres?"
    r"|controleurs?|enqueteurs?|redacteurs?|responsables?|formateurs?|animateurs?|benevoles?"
    r"|journalistes?|maires?|enseignants?|etudiants?|jures?|medecins?|juges?"
    r"|users?|ppl|people|persons?|attendees?|guests?|colleagues?|members?)"
)
# What may follow a number said after "à", "pour", "avec"... for it still to count people:
# the end, a people word, or a word that is no noun of its own ("à 8 demain", "pour 12 ?",
# "à 3 sur iPhone"). Any other word makes it something else: "à 14 h", "de 30 minutes",
# "pour 3 réunions", "avec 2 écrans", "au 3e étage".
_FOLLOWERS = (
    r"(?:et|ou|en|sur|dans|avec|pour|par|de|d|du|des|le|la|les|l|un|une|ce|cet|cette|ces"
    r"|au|aux|a|je|j|on|nous|vous|il|ils|elle|elles|c|est|ca|cela|qui|que|quoi|quel|quelle"
    r"|quels|comment|possible|svp|s|plait|stp|merci|max|maxi|maximum|minimum|environ|mais"
    r"|donc|alors|sinon|ok|si|via|chez|depuis|voire|ne|pas|plus|moins|demain|aujourd|hui"
    r"|ce|matin|soir|midi|aprem|apres|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|prochain|prochaine|jsp|sais|visio|audio|conf|conference|reunion|call|appel|webinaire"
    r"|personnes?|e|chacun|chacune|tous|toutes|ensemble|total|dessus|ici|sans|vers"
    r"|moi|compris|inclus|y)"
)
_N = r"(\d{1,15})"
_AFTER = rf"(?=\s*$|\s+(?:{_FOLLOWERS}|{_PEOPLE})\b)"
# Words right before a number that make it a head count: "à 12", "on sera 12".
_CUE = (
    r"(?:a|pour|avec|entre|jusqu a|sommes|serons|sera|seront|etions|etre|est|nous|for|with"
    r"|soit|soyons|soient|serait|serions|seraient"
    r"|of|at|be|are)"
)
# Qualifiers between the cue and the number: "on est environ 12", "on n'est que 10".
_QUALIFIER = (
    r"(?:(?:environ|que|genre|pres de|a peu pres|au moins|au plus|max|maximum|donc|bien"
    r"|seulement|juste|only|just|about|around)\s+)?"
)
_PATTERNS: tuple[tuple[re.Pattern[str], int, str], ...] = (
    # (pattern, offset, how the agent said it): "plus de 50" means at least 51, and is
    # said back as "plus de 50", never as a number the agent did not give.
    (re.compile(rf"\bmoi et {_N}{_AFTER}"), 1, "vous et {n} autres participants"),
    # A count corrected: "20 pas 200", "12 et non 120".
    (re.compile(rf"\b{_N}\s+(?:et\s+)?(?:pas|non)\s+\d+\b"), 0, "{n}"),
    (re.compile(rf"\b{_N}\s+{_PEOPLE}\s+et moi\b"), 1, "vous et {n} autres participants"),
    # Whom the agent calls or meets are the others: "appeler 2 collègues" is three people.
    (
        re.compile(
            r"\b(?:appeler|appelle|appel|telephoner a|telephone a|joindre|avec|call|with)"
            rf"\s+(?:mes\s+|les\s+)?{_N}\s+(?:collegues?|colegues?|collaborateurs?|colleagues?"
            r"|chefs?|adjoints?|homologues?)\b"
        ),
        1,
        "vous et {n} collègues",
    ),
    # "on discute tous les trois": the agent is one of them.
    (re.compile(rf"\b(?:tous|toutes) les {_N}{_AFTER}"), 0, "{n}"),
    (
        re.compile(rf"\b(?:plus de|au dela de|au dessus de|superieur a|>)\s*{_N}{_AFTER}"),
        1,
        "plus de {n} participants",
    ),
    (
        re.compile(rf"\b(?:moins de|en dessous de|inferieur a|<)\s*{_N}{_AFTER}"),
        -1,
        "moins de {n} participants",
    ),
    (re.compile(rf"\b{_N}\s*(?:e|eme|ieme)?\s+{_PEOPLE}\b"), 0, "{n}"),
    (re.compile(rf"\b{_CUE}\s+{_QUALIFIER}{_N}{_AFTER}"), 0, "{n}"),
    # "une 3e personne", "ajouter un 3e dans le call": the third participant; never "au
    # 3e étage".
    (re.compile(rf"\b(?:un|une) {_N}\s+e(?=\s*$|\s+(?:{_FOLLOWERS}|{_PEOPLE})\b)"), 0, "{n}"),
    # A bare number right after a meeting word, at the end: "visio 80".
    (
        re.compile(
            r"\b(?:visio|visios|audio|audioconf|conf|conference|reunion|webinaire|webinar"
            rf"|webconf|call|meeting|appel|visioconference)\s+{_N}\s*$"
        ),
        0,
        "{n}",
    ),
)
_DIGIT = re.compile(r"\d")
# Whom the agent adds to a call is no size of it: "ajouter 1 personne à mon appel".
_ADDED = re.compile(r"\b((?:r)?ajout\w*\s+)\d+\s+")
# "1" typed for the article: "pr 1 visio a 10" is one meeting for ten, not for one.
_ONE_MEETING = re.compile(
    r"\b1\s+(?=(?:visio|visios|audio|audioconf|conf|conference|reunion|webinaire|webinar"
    r"|webconf|call|meeting|appel|visioconference|audioconference|point|rdv|entretien)\b)"
)
# "moi et ma cheffe", "moi et un collègue": two people.
_ME_AND_ONE = re.compile(r"\bmoi et (?:mon|ma|un|une) [a-z]+")
# "entre 10 et 20 personnes", "on sera 5-6", "2 ou 3 personnes": plan for the upper bound.
_RANGE = (
    re.compile(rf"\b(?:entre\s+)?{_N}\s+(?:a|et|ou|voire|-)?\s*{_N}\s+{_PEOPLE}\b"),
    re.compile(
        rf"\b(?:entre|sera|serons|sommes|est|a|pour)\s+{_N}\s+(?:(?:a|et|ou|voire)\s+)?{_N}"
        rf"{_AFTER}"
    ),
)
# A count said in parts: "5 dans la salle et 3 à distance", "10 agents et 4 partenaires".
# The reply says the parts back ("5 + 3 participants"), not a total the agent did not write.
_PLACES = (
    r"(?:a distance|en distanciel|en presentiel|sur place|en salle|dans la salle|au bureau"
    r"|en visio|au telephone|en ligne|chez (?:eux|nous|soi)|en teletravail)"
)
_PART = rf"{_N}\s+(?:(?:{_PEOPLE}\s+)?{_PLACES}|{_PEOPLE})\b"
# "+" is gone from the normalised text: "3 sur place + 6 en visio" reads "3 sur place 6 ...".
_PARTS = re.compile(rf"\b{_PART}(?:\s+(?:et|plus))?\s+(?:(?:environ|pres de)\s+)?{_PART}")
_TWO_NUMBERS = re.compile(r"[0-9][^0-9]+[0-9]")  # what parts need, cheaper to look for
# After an approximate number, what makes it no head count: "une dizaine de minutes".
_NOT_PEOPLE_OF = re.compile(
    r"^\s*(?:de|d)\s+(?:minutes?|min|heures?|jours?|semaines?|mois|ans|annees|euros?|pages?"
    r"|fichiers?|documents?|mails?|messages?|fois|reunions?|mo|go|ko)\b"
)


class Entities(NamedTuple):
    participants: int | None = None
    device: str | None = None  # a device id of the lexicon ("android", "iphone")
    sensitive: bool = False
    # The count as the agent said it, for replies ("plus de 50 participants", "une
    # vingtaine de participants"): they repeat what was said, never a number not given.
    said: str | None = None
    services: frozenset[str] = frozenset()  # service ids of the lexicon ("ddi")

    def merged_over(self, older: Entities) -> Entities:
        """This message's entities, completed by what an earlier message said: what it says
        replaces what was said before ("en fait j'ai un iPhone")."""
        counted = self.participants is not None
        return Entities(
            self.participants if counted else older.participants,
            self.device or older.device,
            self.sensitive or older.sensitive,
            self.said if counted else older.said,
            self.services or older.services,
        )

    @property
    def empty(self) -> bool:
        return (
            self.participants is None
            and self.device is None
            and not self.sensitive
            and not self.services
        )


@lru_cache(maxsize=256)
def _phrases(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled search for any of these phrases as whole words (built once per list)."""
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives or '(?!)'})(?![a-z0-9])")


def _contains_phrase(plain: str, phrase: str) -> bool:
    return _phrases((phrase,)).search(plain) is not None


def read_count(plain: str, approximate: Mapping[str, int]) -> tuple[int, str] | None:
    """The participant count of a normalised question, and how it was said; None when no
    number in it counts people (a time, a duration, a date, a floor, a size, a choice)."""
    if "1" in plain:
        plain = _ONE_MEETING.sub("un ", plain)
    if "ajout" in plain:
        plain = _ADDED.sub(r"\1", plain)
    digits = _DIGIT.search(plain) is not None  # every range and count pattern needs one
    for pattern in _RANGE if digits else ():
        found = pattern.search(plain)
        if found:
            low, high = sorted((int(found.group(1)), int(found.group(2))))
            return _capped(high, f"{low} à {high} participants")
    found = _PARTS.search(plain) if digits and _TWO_NUMBERS.search(plain) else None
    if found:
        a, b = int(found.group(1)), int(found.group(2))
        return _capped(a + b, f"{a} + {b} participants")
    if _ME_AND_ONE.search(plain):
        return 2, "vous et une autre personne"
    for pattern, offset, said in _PATTERNS if digits else ():
        found = pattern.search(plain)
        if found:
            n = int(found.group(1))
            text = said.format(n=n) if n > 1 or offset < 1 else "vous et une autre personne"
            people = "participant" if n + offset <= 1 else "participants"
            return _capped(max(1, n + offset), text if " " in said else f"{text} {people}")
    return _approximate(plain, approximate)


def _approximate(plain: str, approximate: Mapping[str, int]) -> tuple[int, str] | None:
    """ "une vingtaine": the word's number; "une vingtaine voire une trentaine": plan for
    the larger, said as it was."""
    places = sorted(
        (place.start(), value, word)
        for word, value in approximate.items()
        if word in plain
        and (place := _phrases((word,)).search(plain))
        and not _NOT_PEOPLE_OF.match(plain[place.end() :])
    )
    if not places:
        return None
    _, low, first = places[0]
    _, high, last = max(places, key=lambda p: p[1])
    if high > low:
        return high, f"une {_bare(first)} à une {_bare(last)} de participants"
    return low, f"une {_bare(first)} de participants"


def _bare(word: str) -> str:
    """The number word of a key: "quarantaine de", "on sera une quarantaine"."""
    return word.removesuffix(" de").rsplit(" ", 1)[-1]


def _capped(n: int, said: str) -> tuple[int, str]:
    if n >= MAX_PARTICIPANTS:
        return MAX_PARTICIPANTS, "un très grand nombre de participants"
    return n, said


def read_participants(plain: str, approximate: Mapping[str, int]) -> int | None:
    count = read_count(plain, approximate)
    return count[0] if count else None


def _misspelt_device(plain: str, devices: Mapping[str, tuple[str, ...]]) -> str | None:
    """One typo in a device name of five letters or more: "ipone", "andoid", "samsoung"."""
    owners, names = _device_names(tuple(devices.items()))
    for word in plain.split():
        if len(word) < 5:
            continue
        first = _misspelt_name(word, names)
        if first is not None:
            return owners[first]
    return None


@lru_cache(maxsize=4096)  # the same words come back; a distance search costs the most here
def _misspelt_name(word: str, names: tuple[str, ...]) -> int | None:
    """The position of the first name one edit from the word, with its first letter."""
    # Distances in C; the first device in the lexicon's order wins, as the first name.
    close = process.extract(word, names, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
    return min((i for name, _, i in close if name[0] == word[0]), default=None)


@lru_cache(maxsize=16)
def _device_names(
    devices: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The one-word device names of five letters or more, in order, and their devices."""
    pairs = [(d, n) for d, names in devices for n in names if len(n) >= 5 and " " not in n]
    return tuple(d for d, _ in pairs), tuple(n for _, n in pairs)


def read_services(plain: str, services: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Every service the agent says they work in: a DDT is a DDI and a decentralised
    service. A service worked with ("partager des fichiers avec la DDT") is a partner's."""
    return frozenset(
        s
        for s, words in services.items()
        if any(p in plain for p in words)
        and any(
            not _WORKED_WITH.search(plain, 0, m.start())
            for m in _phrases(tuple(words)).finditer(plain)
        )
    )


_WORKED_WITH = re.compile(r"\bavec\s+(?:(?:la|le|les|l|une|un|des|nos|vos|leur|leurs)\s+)?$")


def _says(plain: str, phrases: tuple[str, ...]) -> bool:
    """One of the phrases as whole words; a substring test first, since most are absent."""
    return any(p in plain for p in phrases) and _phrases(tuple(phrases)).search(plain) is not None


# "rien de sensible", "pas confidentiel", "non sensible": the topic is said not to be.
_NOT_SENSITIVE = re.compile(r"(?:\brien de|\bpas|\bnon|\bni|\bpas du tout|\bpas vraiment)\s+$")


def read_entities(
    plain: str,
    *,
    devices: Mapping[str, tuple[str, ...]],
    sensitive_words: tuple[str, ...],
    approximate_numbers: Mapping[str, int],
    services: Mapping[str, tuple[str, ...]] | None = None,
) -> Entities:
    device = next((device for device, words in devices.items() if _says(plain, words)), None)
    device = device or _misspelt_device(plain, devices)
    sensitive = any(
        not _NOT_SENSITIVE.search(plain, 0, m.start())
        for m in _phrases(tuple(sensitive_words)).finditer(plain)
    )
    where = read_services(plain, services or {})
    count = read_count(plain, approximate_numbers)
    if count is None:
        return Entities(None, device, sensitive, None, where)
    return Entities(count[0], device, sensitive, count[1], where)


def without_entities(
    plain: str,
    devices: Mapping[str, tuple[str, ...]],
    sensitive_words: tuple[str, ...],
    approximate_numbers: Mapping[str, int],
    services: Mapping[str, tuple[str, ...]] | None = None,
) -> str:
    """The text with every entity mention removed: what else the message says."""
    words = [w for ws in devices.values() for w in ws] + list(sensitive_words)
    words += list(approximate_numbers) + [w for ws in (services or {}).values() for w in ws]
    for phrase in sorted(words, key=len, reverse=True):
        if phrase in plain:  # most are not there: no regular expression to run
            plain = _whole(phrase).sub(" ", plain)
    plain = _COUNT_WORDS.sub(" ", plain)
    return " ".join(plain.split())


@lru_cache(maxsize=4096)
def _whole(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")


_COUNT_WORDS = re.compile(rf"\b(?:plus|moins) de\b|\b\d+\b|\b{_PEOPLE}\b")
