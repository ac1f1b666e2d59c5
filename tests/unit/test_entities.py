"""Entity reading on normalised text: participant counts, device, sensitivity."""

import pytest

from bot.core.entities import MAX_PARTICIPANTS, read_entities, read_participants
from bot.core.normalize import plain_words

APPROX = {"dizaine": 10, "quinzaine": 15, "vingtaine": 20, "deux": 2}
DEVICES = {"android": ("android", "samsung", "galaxy", "pixel"), "iphone": ("iphone", "apple")}


def count(text: str) -> int | None:
    return read_participants(" ".join(plain_words(text, {})), APPROX)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visio a 60", 60),
        ("audioconf pour 12 personnes demain matin", 12),
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
    ]:
        plain = " ".join(plain_words(text, {}))
        found = read_entities(plain, devices={}, sensitive_words=words, approximate_numbers={})
        assert found.sensitive is expected
