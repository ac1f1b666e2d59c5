"""Situation words: the lexicon's concepts, and situations written with them.

Agents describe a need rather than name it: "montrer mes diapos aux collègues qui sont chez
eux" is "présenter à distance". A concept groups the words that say the same thing in a
situation ("a_distance": "à distance", "en ligne", "chez eux"...). A question gets one
``#concept`` token for each concept it says, beside its ordinary tokens; a situation of the
knowledge becomes a pattern of concept tokens (and of the words no concept holds), which the
matcher requires in full. So one situation covers every way of saying it, and a question
matches it only when it says every part of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.normalize import content_tokens, plain_words, stem

CONCEPT = "#"  # prefix of a concept token: never a word's stem


@dataclass(frozen=True)
class Concepts:
    # plain words of a concept's word or phrase (and the inflections of a single word)
    # -> its token. Plain words, not stems: "former" and "forme" share a stem.
    phrases: dict[tuple[str, ...], str]
    longest: int  # words in the longest phrase
    firsts: frozenset[str] = frozenset()  # the first word of each phrase

    def spans(self, words: Sequence[str]) -> dict[str, frozenset[str]]:
        """The concepts a question's plain words say -> the stems of the words that say
        them ("chez eux" -> {"chez", "eux"}), in order of the text."""
        hits: list[tuple[int, int, str]] = []
        for start in range(len(words)):
            if words[start] not in self.firsts:
                continue  # no phrase starts with this word
            for end in range(min(len(words), start + self.longest), start, -1):
                token = self.phrases.get(tuple(words[start:end]))
                if token is not None:
                    hits.append((start, end, token))
        found: dict[str, set[str]] = {}
        for start, end, token in hits:
            # Inside a longer phrase of another concept, a phrase is not said: "sans se
            # voir" is no "se voir".
            if any(
                a <= start and end <= b and b - a > end - start and other != token
                for a, b, other in hits
            ):
                continue
            found.setdefault(token, set()).update(stem(w) for w in words[start:end])
        return {token: frozenset(stems) for token, stems in found.items()}

    def tag(self, words: Sequence[str]) -> tuple[str, ...]:
        """The concept tokens a question's plain words say, each once, in order."""
        return tuple(self.spans(words))

    def situation_tokens(
        self, text: str, abbreviations: Mapping[str, str], stopwords: frozenset[str]
    ) -> tuple[str, ...]:
        """A situation as a pattern: its concept phrases as concept tokens (longest first,
        left to right), its other content words as ordinary stems."""
        words = plain_words(text, abbreviations)
        tokens: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(words):
            for end in range(min(len(words), i + self.longest), i, -1):
                token = self.phrases.get(tuple(words[i:end]))
                if token is not None:
                    tokens += content_tokens(tuple(rest), stopwords)
                    tokens.append(token)
                    rest = []
                    i = end
                    break
            else:
                rest.append(words[i])
                i += 1
        tokens += content_tokens(tuple(rest), stopwords)
        return tuple(dict.fromkeys(tokens))


def inflections(word: str) -> set[str]:
    """The regular forms of one folded word: plural, feminine, and the present, past
    participle and imperfect of verbs in -er and -ir ("rédiger": "rédige", "rédigeons",
    "rédigé"...). Irregular forms are listed in the lexicon itself."""
    forms = {word, word + "s", word + "e", word + "es"}
    if word.endswith("er") and len(word) > 4:
        base = word[:-2]
        endings = "e es ent ons ez e ee es ees ant ais ait aient era erai erons eront".split()
        forms |= {base + ending for ending in endings}
        if base.endswith("g"):  # "rédigeons", "partageant"
            forms |= {base + "eons", base + "eant", base + "eais", base + "eait"}
    elif word.endswith("ir") and len(word) > 4:
        base = word[:-2]
        forms |= {base + e for e in "is it issons issez issent i ie is ies issant".split()}
    elif word.endswith("al"):
        forms.add(word[:-2] + "aux")
    elif word.endswith(("eau", "au")):
        forms.add(word + "x")
    return forms


def compile_concepts(
    concepts: Mapping[str, Sequence[str]], abbreviations: Mapping[str, str]
) -> Concepts:
    phrases: dict[tuple[str, ...], str] = {}
    listed = [
        (plain_words(e, abbreviations), CONCEPT + n) for n, es in concepts.items() for e in es
    ]
    for key, token in listed:  # as written first: they win over a generated form
        if key:
            phrases.setdefault(key, token)
    for key, token in listed:  # the last word inflects: "trop lourd", "trop lourdes"
        for form in sorted(inflections(key[-1]) if key else ()):
            phrases.setdefault((*key[:-1], form), token)
    longest = max((len(k) for k in phrases), default=0)
    return Concepts(phrases, longest, frozenset(k[0] for k in phrases))
