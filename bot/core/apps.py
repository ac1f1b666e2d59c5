"""Applications the guide does not name, found by their names as typed, not by word overlap.

An application is named, not described: "WhatsApp", "what's app", "watsap", "google
sheets". Matching its phrasings word by word, as needs are matched, finds WhatsApp in "what
is the best chat app" ("what" + "app"). So a phrasing here is a name: its plain words must
appear together, in order, in the question; or the question's words glued together must
spell it ("drop box", "one drive"), with one typo at most in a name of seven letters or
more, or the same French phonetic key ("ouatsap"). A name that is also a common word
("Box", "Notion", "Signal") is no name after a determiner: "ma box", "une notion".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.normalize import plain_words
from bot.core.phonetic import phonetic_key

MAX_RUN = 3  # words glued together to spell a name ("go to meeting")
TYPO_MIN = 7  # a typo only in names this long: "slack" must not be "stack"
PHONETIC_MIN = 6
# Before a name that is also a common word, these make it the word: "le wifi de ma box".
DETERMINERS = frozenset(
    "le la les l un une des du de d au aux ce cet cette ces mon ma mes ton ta tes son sa ses "
    "notre nos votre vos leur leurs quel quelle quels quelles aucun aucune chaque".split()
)


@dataclass(frozen=True)
class AppNames:
    glued: dict[str, str]  # name with its words glued ("whatsapp", "googlesheets") -> app id
    keys: dict[str, str]  # phonetic key of a glued name -> app id
    long_names: tuple[str, ...]  # glued names open to one typo
    # Every start of a glued name: words glued together can spell one only from one of them
    starts: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()  # glued names that are also common words
    # word -> the application it misspells, if any; filled as questions come
    near: dict[str, str | None] = field(default_factory=dict, compare=False)

    def find(self, words: Sequence[str]) -> list[tuple[str, int, int]]:
        """(app id, first word, end) of every name the words spell, left to right; the
        longest name at each place."""
        found: list[tuple[str, int, int]] = []
        start = 0
        while start < len(words):
            hit = self._at(words, start)
            if hit is None:
                start += 1
                continue
            found.append(hit)
            start = hit[2]
        return found

    def _at(self, words: Sequence[str], start: int) -> tuple[str, int, int] | None:
        for end in range(min(len(words), start + MAX_RUN), start, -1):
            if end > start + 1 and words[start] not in self.starts:
                continue  # no name starts so: only the word alone, as a typo, may be one
            run = "".join(words[start:end])
            if not run.isascii() or run.isdigit():
                continue
            # Only a single word is read as a misspelt name: "what's up" is no "watsup".
            app = self.glued.get(run) or (self._near(run) if end == start + 1 else None)
            if app is not None and run in self.words and start and words[start - 1] in DETERMINERS:
                continue
            if app is not None:
                return app, start, end
        return None

    def _near(self, run: str) -> str | None:
        if run not in self.near:
            if len(self.near) > 50_000:
                self.near.clear()
            self.near[run] = self._guess(run)
        return self.near[run]

    def _guess(self, run: str) -> str | None:
        # A name with an ending is a word of its own, no misspelling: "signaler" is not
        # Signal, "zoomer" not Zoom.
        if any(run[:end] in self.glued for end in range(3, len(run))):
            return None
        if len(run) >= PHONETIC_MIN and run.isalpha():
            app = self.keys.get(phonetic_key(run))
            if app is not None:
                return app
        if len(run) < TYPO_MIN:
            return None
        match = process.extractOne(
            run, self.long_names, scorer=Levenshtein.distance, score_cutoff=1
        )
        if match is not None and match[0][0] == run[0]:
            return self.glued[match[0]]
        return None


def compile_app_names(
    apps: Iterable[tuple[str, Sequence[str]]], common_words: Iterable[str] = ()
) -> AppNames:
    """``apps``: (id, names and phrasings); ``common_words``: those names that are also
    common words. Names are compared with the words as typed, before abbreviations: "team"
    is the team, "teams" the application, "docs" stays "docs".
    """
    glued: dict[str, str] = {}
    for ident, names in apps:
        for name in names:
            run = "".join(plain_words(name, {}))
            if run:
                glued.setdefault(run, ident)
    keys: dict[str, str] = {}
    for run, ident in glued.items():
        if len(run) >= PHONETIC_MIN and run.isalpha():
            keys.setdefault(phonetic_key(run), ident)
    long_names = tuple(r for r in glued if len(r) >= TYPO_MIN)
    starts = frozenset(run[:end] for run in glued for end in range(1, len(run) + 1))
    words = frozenset("".join(plain_words(name, {})) for name in common_words)
    return AppNames(glued, keys, long_names, starts=starts, words=words)
