"""A second need asked in the same message gets its tool in a line (also.py); a need the
message only mentions does not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core import Context, answer
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import Subject

TODAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


@pytest.mark.parametrize(
    ("question", "subject", "first", "also"),
    [
        # In the order asked: the count said with the visio is the visio's.
        (
            "on doit faire une visio à 20 et ensuite partager les documents",
            "need:web_conference",
            "Pour 20 participants : WebConférence de l'État",
            "Et pour espace de travail collaboratif : SharePoint",
        ),
        (
            "quel outil pour discuter en équipe et pour stocker nos fichiers ?",
            "need:instant_messaging",
            "Tchap",
            "Et pour espace de travail collaboratif : SharePoint",
        ),
        # Each need with the count said on its side.
        (
            "visio à 20 et audio à 5",
            "need:web_conference",
            "Pour 20 participants : WebConférence de l'État",
            "Et pour audio conférence, pour 5 participants : Service d'audio conférence",
        ),
        (
            "une audio à 3 puis une visio à 60",
            "tool:mobile_phone",
            "Pour 3 participants : Mobile",
            "Et pour web conférence, pour 60 participants : Lifesize",
        ),
        (
            "je dois envoyer un mail et faire une visio",
            "need:email",
            "Mél et webMél",
            "Et pour web conférence : WebConférence de l'État",
        ),
        # Two needs that would be asked apart ("lequel ?") when asked one after the other.
        (
            "partager un fichier lourd et le montrer en visio",
            "need:collaborative_workspace",
            "SharePoint",
            "Et pour web conférence : WebConférence de l'État",
        ),
    ],
)
def test_a_second_need_asked_gets_its_tool_in_a_line(
    knowledge: Knowledge, question: str, subject: str, first: str, also: str
) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert reply.subject == Subject.parse(subject)
    assert reply.text.startswith(first)
    assert also in reply.text
    assert reply.text.count("Et pour") == 1


@pytest.mark.parametrize(
    "question",
    [
        # The second need is the complaint, not a request.
        "j'ai plein de petits messages a echanger avec le secretariat toute la journee et ca"
        " pollue ma boite mail",
        # One need in several words.
        "une visio pour présenter un document à 20 et répondre aux questions",
        "réunion à 8 et on veut se voir",
        "visio à 20",
    ],
)
def test_a_need_only_mentioned_gets_no_line(knowledge: Knowledge, question: str) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert "Et pour" not in reply.text
