"""Snowball's French stemmer in C (PyStemmer, which snowballstemmer hands out when it is
installed) agrees with the pure Python port on every word that matters: it is only a faster
way to the same stems."""

import re
from pathlib import Path

import snowballstemmer
import Stemmer
from snowballstemmer.french_stemmer import FrenchStemmer

from bot.core.normalize import fold, stem

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "knowledge").rglob("*.yaml"), *(ROOT / "tests" / "eval").glob("*.yaml")]


def _words() -> list[str]:
    words: set[str] = set()
    for path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            words.update(re.findall(r"[a-z]+", fold(line)))
    return sorted(words)


def test_the_c_and_python_stemmers_agree_on_the_knowledge_and_eval_words() -> None:
    c, python = Stemmer.Stemmer("french"), FrenchStemmer()
    words = _words()
    assert len(words) > 1000  # the files were read
    assert [w for w in words if c.stemWord(w) != python.stemWord(w)] == []


def test_the_bot_stems_with_the_c_library() -> None:
    assert isinstance(snowballstemmer.stemmer("french"), Stemmer.Stemmer)


def test_stem_joins_the_forms_of_a_word() -> None:
    assert stem("partager") == stem("partage") == stem("partagez")
    assert stem("fusionner") == stem("fusionnez")
    assert stem("vpn") == "vpn"  # three letters or fewer: as is


def test_words_the_stemmer_would_join_to_common_words_are_kept_whole() -> None:
    # Snowball cuts "devis" as "devait", "devant" and "paie" as "payer", "payant": an
    # off-topic word would then match any message that uses those.
    assert stem("devis") not in {stem("devait"), stem("devant")}
    assert stem("paie") not in {stem("payer"), stem("payant")}
