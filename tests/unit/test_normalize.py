"""French normalisation: accents, elisions, SMS spellings, numbers, hostile characters."""

import pytest

from bot.core.normalize import fold, normalize, plain_words
from bot.core.phonetic import phonetic_key

ABBREVIATIONS = {"c": "c est", "svp": "s il vous plait", "pr": "pour", "tel": "telephone"}
STOPWORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "de",
        "des",
        "du",
        "un",
        "une",
        "a",
        "pour",
        "sur",
        "je",
        "est",
        "c",
        "il",
        "vous",
        "s",
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visio à soixante ?", "visio a 60"),
        ("c quoi tixeo", "c est quoi tixeo"),
        ("c'est quoi P2R ?", "c est quoi p2r"),
        ("conférence à trois sur iPhone svp", "conference a 3 sur iphone s il vous plait"),
        ("l'audioconférence", "l audioconference"),
        ("jusqu'à quand l’offre OVH", "jusqu a quand l offre ovh"),
        ("une 3ème personne", "une 3 e personne"),
        ("réunion pr 12 pers", "reunion pour 12 pers"),
        ("adresse : audio.mtes.fr.", "adresse audio.mtes.fr"),
        ("ŒUVRE  collaborative\t\n", "oeuvre collaborative"),
    ],
)
def test_plain_words(text: str, expected: str) -> None:
    assert " ".join(plain_words(text, ABBREVIATIONS)) == expected


def test_zero_width_and_bidi_characters_vanish() -> None:
    assert fold("zo\u200bom\u202e") == "zoom"
    assert fold("Zoom\u0000\u0007!").strip("! ") == "zoom"


def test_tokens_are_stemmed_content_words() -> None:
    assert normalize("Partager des fichiers", ABBREVIATIONS, STOPWORDS).tokens == (
        normalize("partage de fichier", ABBREVIATIONS, STOPWORDS).tokens
    )
    assert normalize("je veux fusionner les appels", ABBREVIATIONS, STOPWORDS).tokens == (
        "veux",
        "fusion",
        "appel",
    )


def test_numbers_are_not_vocabulary() -> None:
    assert normalize("visio a 60", ABBREVIATIONS, STOPWORDS).tokens == ("visio",)


def test_long_input_is_cut() -> None:
    words = plain_words("zoom " * 100_000, ABBREVIATIONS)
    assert 0 < len(words) <= 500


def test_negated_words_are_marked() -> None:
    tokens = normalize("pas besoin de la vidéo, sans inscription", ABBREVIATIONS, STOPWORDS).tokens
    assert tokens == ("!video", "!inscript")


def test_ni_goes_on_denying_only_after_a_negation() -> None:
    denied = normalize("sans l'appeler ni lui faire un long mail", ABBREVIATIONS, STOPWORDS)
    assert denied.tokens == ("!appel", "!mail")
    assert normalize("ni oui ni non, un mail", ABBREVIATIONS, STOPWORDS).tokens[-1] == "mail"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # "sans" and a verb deny what the verb acts on.
        ("sans passer par un courriel", ("!pass", "!courriel")),
        ("sans installer d'appli, visio", ("!install", "!appli", "visio")),
        # Not after "pas": "je ne peux pas envoyer de mail" still speaks of mail.
        ("je ne peux pas envoyer de mail", ("ne", "peux", "!envoi", "mail")),
        # Without leaving a place, the place is wanted.
        ("sans sortir du webmél", ("webmel",)),
        # "pourquoi pas" asks, it denies nothing.
        ("pourquoi pas zoom", ("pourquoi", "zoom")),
        # What is preferred to: "plutôt que", "au lieu de", once something was asked.
        ("une visio plutôt que zoom", ("visio", "plutot", "!zoom")),
        ("tchap au lieu du mail", ("tchap", "au", "lieu", "!mail")),
        # What a wish is measured against: "plus rapide que", "mieux que".
        ("un outil plus rapide que le courriel", ("outil", "plus", "rapid", "!courriel")),
        ("une visio mieux que zoom", ("visio", "mieux", "!zoom")),
        # A verb after the foil, and what it acts on.
        ("plutôt que de lui écrire des mails", ("plutot", "!ecrir", "!mail")),
        # "ne ... plus que" means only: the mail is what is left, not denied.
        ("il ne reste plus que le mail", ("ne", "rest", "plus", "que", "mail")),
    ],
)
def test_without_a_verb_denies_its_object(text: str, tokens: tuple[str, ...]) -> None:
    assert normalize(text, ABBREVIATIONS, STOPWORDS).tokens == tokens


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("odyo", "audio"),
        ("konférence", "conférence"),
        ("ouebmel", "webmel"),
        ("charepoin", "sharepoint"),
        ("mesajri", "messagerie"),  # the "e" between consonants is not heard
        ("téléfonik", "telfonik"),
    ],
)
def test_spellings_that_sound_alike_share_a_phonetic_key(typed: str, written: str) -> None:
    assert phonetic_key(fold(typed)) == phonetic_key(fold(written))


@pytest.mark.parametrize(
    ("one", "other"), [("mail", "mal"), ("visio", "vision"), ("tchap", "chape")]
)
def test_words_that_sound_apart_keep_apart(one: str, other: str) -> None:
    assert phonetic_key(one) != phonetic_key(other)
