"""The guide's audience: an agent of another homeserver is told once whose offers these are,
and its answers lead with the offers open to all; the Matrix side says who is asking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core import Context, answer
from bot.core.audience import Audience
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.matrix.main import core_responder
from bot.matrix.questions import Question

TODAY = date(2026, 11, 28)
POLE = frozenset({"agent.developpement-durable.tchap.gouv.fr"})
OUTSIDER = Audience(POLE, "agent.finances.tchap.gouv.fr")
INSIDER = Audience(POLE, "agent.developpement-durable.tchap.gouv.fr")


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


def test_the_audience_is_compared_not_guessed() -> None:
    assert OUTSIDER.outsider and not INSIDER.outsider
    assert not Audience(frozenset(), "agent.finances.tchap.gouv.fr").outsider  # no list
    assert Audience.of("@a.b-finances.gouv.fr:agent.finances.tchap.gouv.fr", POLE).outsider


def test_an_outsider_is_told_once_per_conversation(knowledge: Knowledge) -> None:
    notice = knowledge.conversation.audience_notice
    first, context = answer("visio", knowledge, today=TODAY, audience=OUTSIDER)
    second, context = answer("et à 80 ?", knowledge, context, today=TODAY, audience=OUTSIDER)
    assert first.text.startswith(notice) and notice not in second.text
    fresh, _ = answer(
        "autre question : tchap ?", knowledge, context, today=TODAY, audience=OUTSIDER
    )
    assert notice not in fresh.text  # still the same conversation
    inside, _ = answer("visio", knowledge, today=TODAY, audience=INSIDER)
    assert notice not in inside.text


def test_an_outsider_gets_the_offers_open_to_all_first(knowledge: Knowledge) -> None:
    files, _ = answer("partager des fichiers", knowledge, today=TODAY, audience=OUTSIDER)
    body = files.text.split("\n\n", 1)[1]
    assert body.index("Osmose") < body.index("SharePoint")  # DINUM before the pôle's own
    inside, _ = answer("partager des fichiers", knowledge, today=TODAY, audience=INSIDER)
    assert inside.text.index("SharePoint") < inside.text.index("Osmose")
    big, _ = answer(
        "visio à 80", knowledge, Context(told_audience=True), today=TODAY, audience=OUTSIDER
    )
    assert "webconf.numerique.gouv.fr" in big.text  # beside the pôle's Lifesize rooms


def test_the_matrix_responder_passes_the_senders_server(knowledge: Knowledge) -> None:
    respond = core_responder(KnowledgeHolder(knowledge), tuple(POLE))
    notice = knowledge.conversation.audience_notice

    def ask(sender: str) -> str:
        reply, _ = respond(Question("!r:hs", "$q", sender, "visio", True), None)  # type: ignore[misc]
        return reply.text

    assert notice in ask("@x:agent.finances.tchap.gouv.fr")
    assert notice not in ask("@x:agent.developpement-durable.tchap.gouv.fr")
    assert (
        notice
        not in core_responder(KnowledgeHolder(knowledge))(
            Question("!r:hs", "$q", "@x:elsewhere", "visio", True), None
        )[0].text
    )  # type: ignore[index]
