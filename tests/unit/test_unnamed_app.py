"""An application nothing names, read by its place in the sentence (bot/core/unnamed.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core import Context, answer
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.subject import Subject

S = Subject.parse
TODAY = date(2026, 12, 3)
RULE = "Le guide ne cite pas cette application"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("est-ce que je peux utiliser bidulechat ?", "clarify"),  # which need is it for?
        ("l'application bidulechat est-elle autorisée ?", "clarify"),
        ("la plateforme zapzap est-elle sûre ?", "clarify"),
        ("zapzap c'est autorisé ?", "clarify"),
        ("j'utilise pidgin pour discuter, c'est ok ?", "need:instant_messaging"),
        ("le logiciel zapzap pour une visio à 12", "need:web_conference"),
    ],
)
def test_an_application_nothing_names_gets_the_guides_rule(
    knowledge: Knowledge, question: str, subject: str
) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert reply.subject == S(subject)
    assert reply.text.startswith(RULE)
    # The agent's word is not repeated: it is their text, not the guide's.
    assert "bidulechat" not in reply.text and "zapzap" not in reply.text


@pytest.mark.parametrize(
    "question",
    [
        "astuce pour fusionner les appels",
        "what app should I use to chat?",
        "une application gratuite pour discuter",
        "quelle application utiliser pour une visio",
        "on peut utiliser quoi pour une visio",
        "utiliser plusieurs écrans",
        "est-ce que je peux utiliser la webconf",
        "utiliser teams",  # named by outside_apps.yaml: its own name and rule
        "installer windows",  # off-topic
        "télécharger tchap",
        "juste un call a deux avec mon chef, faut un outil special ?",
        "Par quelle application dois-je passer ?",
        "on paie un logiciel payant pour se voir à 6",  # what the software is, not its name
        # A word after an article opening the message is a thing, not an application.
        "le débit est faible, quelle solution ?",
        "la box c'est quoi",
    ],
)
def test_common_words_and_known_names_are_no_unnamed_application(
    knowledge: Knowledge, question: str
) -> None:
    reply, _ = answer(question, knowledge, Context(), today=TODAY)
    assert RULE not in reply.text


def test_the_pick_after_an_unnamed_application_answers_the_need(knowledge: Knowledge) -> None:
    first, context = answer("on peut utiliser bidulechat ?", knowledge, Context(), today=TODAY)
    assert first.subject == S("clarify")
    assert "Messagerie instantanée" in first.text  # every need is offered
    second, _ = answer("5", knowledge, context, today=TODAY)
    assert second.subject == S("need:instant_messaging")
