"""Entity reading on normalised text: participant counts, device, sensitivity."""

from pathlib import Path

import pytest

from bot.core.entities import MAX_PARTICIPANTS, read_count, read_entities, read_participants
from bot.core.normalize import plain_words
from bot.knowledge.loader import load_knowledge

APPROX = {"dizaine": 10, "quinzaine": 15, "vingtaine": 20, "trentaine": 30, "deux": 2}
DEVICES = {"android": ("android", "samsung", "galaxy", "pixel"), "iphone": ("iphone", "apple")}


def count(text: str) -> int | None:
    return read_participants(" ".join(plain_words(text, {})), APPROX)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visio a 60", 60),
        ("audioconf pour 12 personnes demain matin", 12),
        # Who they are by trade still counts them.
        ("on est 6 inspecteurs sur le terrain", 6),
        ("and with only 3?", 3),
        ("finalement on ne sera que 3, moi compris", 3),
        ("prévoir environ soixante-dix journalistes", 70),
        ("et à seulement 4 ?", 4),
        ("nous sommes 4 juristes et 2 techniciens", 6),
        ("on est 30 pour une réunion téléphonique", 30),
        ("conférence à trois", 3),
        ("visio à soixante", 60),
        ("une quinzaine de collègues", 15),
        ("webinaire avec 120 participants", 120),
        ("plus de 50 participants", 51),
        ("plus de cinquante", 51),
        ("moins de 10 personnes", 9),
        ("entre 10 et 20 personnes", 20),
        ("ajouter une 3e personne à un appel", 3),
        ("réunion à deux", 2),
        ("réunion à 14h", None),
        ("rendez-vous le 12 mai", None),
        ("je veux faire une visio", None),
        ("juste moi et ma cheffe au téléphone", 2),
        ("moi et deux collègues", 3),
        ("moi et l'équipe", None),
    ],
)
def test_participants(text: str, expected: int | None) -> None:
    assert count(text) == expected


def test_absurd_counts_are_capped() -> None:
    assert count("à 99999999999 personnes") == MAX_PARTICIPANTS


@pytest.mark.parametrize(
    ("text", "device"),
    [
        ("j'ai un samsung", "android"),
        ("sur mon Galaxy S20", "android"),
        ("sur iPhone svp", "iphone"),
        ("téléphone Apple", "iphone"),
        ("mon portable", None),
        ("pixelisé", None),  # a device word only counts as a whole word
    ],
)
def test_device(text: str, device: str | None) -> None:
    plain = " ".join(plain_words(text, {}))
    found = read_entities(plain, devices=DEVICES, sensitive_words=(), approximate_numbers={})
    assert found.device == device


def test_sensitivity() -> None:
    words = ("sensible", "confidentiel", "diffusion restreinte")
    for text, expected in [
        ("un dossier sensible", True),
        ("réunion Diffusion Restreinte", True),
        ("un dossier banal", False),
        # Said not to be: "rien de sensible", "pas confidentiel", "non sensible".
        ("juste un apéro d'équipe, rien de sensible ?", False),
        ("ce n'est pas confidentiel", False),
        ("un sujet non sensible", False),
        ("rien de grave mais c'est sensible", True),
    ]:
        plain = " ".join(plain_words(text, {}))
        found = read_entities(plain, devices={}, sensitive_words=words, approximate_numbers={})
        assert found.sensitive is expected


# Issue 11: a number counts participants only where it counts people. Each row: the text,
# the count read (None: no count), and how a reply says it back.
COUNTS = [
    # "voire": plan for the larger, said back as said.
    (
        "on sera une vingtaine voire une trentaine",
        30,
        "une vingtaine à une trentaine de participants",
    ),
    ("on sera 20 voire 30", 30, "20 à 30 participants"),
    ("non pardon, 20 pas 200", 20, "20 participants"),
    ("12 et non 120", 12, "12 participants"),
    ("on veut se parler à quatre sans se voir, vers 14h", 4, "4 participants"),
    # "1" typed for "une": the count is the other number.
    ("slt kel outil pr 1 visio a 10 stp", 10, "10 participants"),
    ("on fait 1 point a 6", 6, "6 participants"),
    ("visio pour quatre-vingt-dix personnes", 90, "90 participants"),
    ("réunion téléphonique à quatre-vingts", 80, "80 participants"),
    ("webinaire pour soixante-dix personnes", 70, "70 participants"),
    ("visio à soixante et onze", 71, "71 participants"),
    ("une web conférence avec cent cinquante participants", 150, "150 participants"),
    ("on sera 12", 12, "12 participants"),
    ("comment faire pour qu'on soit 15 au téléphone", 15, "15 participants"),
    ("si nous étions 8, nous serions 8 en visio", 8, "8 participants"),
    ("formation à distance pour 40 nouveaux arrivants", 40, "40 participants"),
    ("accueillir 6 jeunes recrues en visio", 6, "6 participants"),
    ("nous serons 25", 25, "25 participants"),
    ("nous serons donc trois en tout", 3, "3 participants"),
    ("on est environ 40 pour la visio", 40, "40 participants"),
    ("et si on n'est que 10 ?", 10, "10 participants"),
    ("une douzaine de collègues", 12, "une douzaine de participants"),
    ("une formation à distance pour 80 stagiaires", 80, "80 participants"),
    ("webinar for 300 attendees", 300, "300 participants"),
    ("best tool for an online meeting with 8 people?", 8, "8 participants"),
    ("plus de 50 participants", 51, "plus de 50 participants"),
    ("et au-dessus de 10 ?", 11, "plus de 10 participants"),
    ("en dessous de 4 personnes", 3, "moins de 4 participants"),
    ("on sera 5-6 en visio", 6, "5 à 6 participants"),
    # Comparisons typed as signs: never the bare number.
    ("visio + de 50 personnes", 51, "plus de 50 participants"),
    ("visio +de 50", 51, "plus de 50 participants"),
    ("visio > 50", 51, "plus de 50 participants"),
    ("visio +50 personnes", 51, "plus de 50 participants"),
    ("audio < 4 personnes", 3, "moins de 4 participants"),
    ("audio - de 4 personnes", 3, "moins de 4 participants"),
    ("visio >= 50 pers", 50, "50 participants"),
    ("moi et deux collègues", 3, "vous et 2 autres participants"),
    ("trois collègues et moi au téléphone", 4, "vous et 3 autres participants"),
    ("we will be 12", 12, "12 participants"),
    ("video meeting, we are 30", 30, "30 participants"),
    # Whom the agent calls or meets are the others.
    ("je voudrais téléphoner à deux collègues en même temps", 3, "vous et 2 collègues"),
    ("réunion avec mes 12 collègues", 13, "vous et 12 collègues"),
    ("un point avec les neuf chefs d'unité", 10, "vous et 9 collègues"),
    ("visio avec 1 collègue", 2, "vous et une autre personne"),
    ("qu'on discute tous les trois", 3, "3 participants"),
    # A word after the count that is no noun of its own.
    ("on peut être 20 dessus ?", 20, "20 participants"),
    ("ils seront environ 120, chacun chez soi", 120, "120 participants"),
    ("visio 80", 80, "80 participants"),
    ("visio pour 12 perssonnes", 12, "12 participants"),
    ("sur iOS je veux add un 3e dans le call", 3, "3 participants"),
    # Not head counts: times, durations, dates, floors, sizes, prices, choices, models.
    ("il me faut un outil pour 1 visio demain", None, None),
    ("audio conférence de 30 minutes", None, None),
    ("visio de 45 minutes demain à 14h", None, None),
    ("réunion téléphonique à 8h30", None, None),
    ("rendez-vous le 12 mai", None, None),
    ("webinaire le 3 mars", None, None),
    ("je suis au 3e étage, je veux faire une visio", None, None),
    ("réunion au 4e étage en visio", None, None),
    ("ma pièce jointe fait 40 Mo", None, None),
    ("le fichier fait 2 Go", None, None),
    ("j'ai 2 écrans et je veux partager l'un d'eux", None, None),
    ("tixeo coûte 20 euros", None, None),
    ("je prends le 2", None, None),
    ("2", None, None),
    ("iPhone 12 : comment faire une conférence", None, None),
    ("un échange de 3 messages avec ma cheffe", None, None),
    ("une dizaine de minutes", None, None),
    ("pour 3 réunions par semaine", None, None),
    ("soit 3 heures de visio", None, None),
    ("40 nouveaux fichiers à partager", None, None),
    ("un point tous les 15 jours", None, None),
    # Said in parts: the parts add up, and are said back as given.
    ("on est 5 dans la salle et 3 à distance", 8, "5 + 3 participants"),
    ("5 en présentiel et 12 en distanciel, quel outil ?", 17, "5 + 12 participants"),
    ("10 agents et 4 partenaires extérieurs en visio", 14, "10 + 4 participants"),
    ("avec 3 intervenants et environ 80 inscrits", 83, "3 + 80 participants"),
    ("3 personnes sur place + 6 en visio", 9, "3 + 6 participants"),
    ("entre 10 et 20 personnes", 20, "10 à 20 participants"),
    ("2 salles de 10 personnes", 10, "10 participants"),
    ("réunion à 10h et 3 personnes à distance", 3, "3 participants"),
    # Both: only the people are counted.
    ("conférence téléphonique vendredi à 10h avec 6 personnes", 6, "6 participants"),
    ("visio de 45 minutes à 8 demain à 14h", 8, "8 participants"),
    ("visio à 9h30 avec cinq collègues", 6, "vous et 5 collègues"),
    ("webinaire de 3 heures pour soixante participants", 60, "60 participants"),
    ("audio conférence de 30 minutes à 6", 6, "6 participants"),
]


@pytest.mark.parametrize(("text", "expected", "said"), COUNTS)
def test_counts_only_people(text: str, expected: int | None, said: str | None) -> None:
    plain = " ".join(plain_words(text, {}))
    found = read_count(plain, APPROX | {"douzaine": 12})
    assert (found[0] if found else None) == expected
    assert (found[1] if found else None) == said


# The shipped lexicon: "quarantaine" is also a quarantine, counted only where it counts
# people ("une quarantaine de", after "être"), and said back by its own word.
SHIPPED = [
    ("on sera une quarantaine", 40, "une quarantaine de participants"),
    ("nous serons une quarantaine en visio", 40, "une quarantaine de participants"),
    ("une quarantaine de personnes au téléphone", 40, "une quarantaine de participants"),
    ("je suis en quarantaine, quelle visio ?", None, None),
    ("pendant la quarantaine on fait comment", None, None),
    ("we will be twelve", 12, "12 participants"),
]


@pytest.mark.parametrize(("text", "expected", "said"), SHIPPED)
def test_counts_of_the_shipped_lexicon(text: str, expected: int | None, said: str | None) -> None:
    lexicon = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge").lexicon
    plain = " ".join(plain_words(text, lexicon.abbreviations))
    found = read_count(plain, lexicon.approximate_numbers)
    assert (found[0] if found else None) == expected
    assert (found[1] if found else None) == said
