"""Every reply the knowledge can produce says only what the guide says.

Walks every need, tool and tip through the composer: short answer, details, every
attribute, under counts, sensitivity, devices and services, and checks the rendered text
for the patterns an expert found: layout leftovers of the guide ("lien « ici »", help
"consultable en ligne" with no link), OVH named once its offer has ended, years the guide
does not give, exclusions it does not make, ranges it does not say, commands to type,
stacked headers, repeated sentences, and tools the conditions rule out.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

import pytest

from bot.core.compose import Composer
from bot.core.decision import Decision
from bot.core.entities import Entities
from bot.core.render import to_text
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import ATTRIBUTES, Knowledge
from bot.knowledge.subject import Subject

TODAY = date(2026, 11, 28)  # after the OVH offer's end (1 July)
FORBIDDEN = [
    (re.compile(r"« ?ici ?»|cliquant ici|cliquez ici"), "a link to nowhere"),
    (re.compile(r"consultable en ligne|guide utilisateur|manuel de prise en main"), "no link"),
    (re.compile(r"vidéo de démonstration"), "no link"),
    (re.compile(r"SFR et OVH"), "OVH named after its offer ended"),
    (re.compile(r"\b(19|20)\d\d\b"), "a year the guide does not give"),
    (re.compile(r"exclut|ne sont pas proposés"), "an exclusion the guide does not make"),
    (re.compile(r"à partir de 51|51 participants"), "a range the guide does not say"),
    (re.compile(r"demandez «|tapez «"), "a command to type instead of an answer"),
    (re.compile(r"Pour 1 participants"), "a pick read as a count"),
]
ENTITIES = [
    Entities(),
    Entities(2, said="2 participants"),
    Entities(3, said="3 participants"),
    Entities(8, said="8 participants"),
    Entities(12, said="12 participants"),
    Entities(60, said="60 participants"),
    Entities(sensitive=True),
    Entities(80, sensitive=True, said="80 participants"),
    Entities(device="iphone"),
    Entities(services=frozenset({"ddi", "services_deconcentres"})),
    Entities(services=frozenset({"administration_centrale"})),
]


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


def replies(knowledge: Knowledge) -> list[tuple[str, Subject, str]]:
    """(what, first line's subject, text) of every reply the walk composes."""
    framed: list[tuple[Subject, str | None]] = [(n.subject, n.id) for n in knowledge.needs.values()]
    for tool in knowledge.tools.values():
        need = next(
            (n.id for n in knowledge.needs.values() for o in n.options if o.tool == tool.id), None
        )
        framed.append((tool.subject, need))
    framed += [(t.subject, t.need) for t in knowledge.tips.values()]
    modes: list[dict[str, object]] = [{}, {"details": True}, {"yes_no": True}]
    modes += [{"attributes": (a,), "follow_up": True} for a in ATTRIBUTES]
    out = []
    for (subject, need), entities, mode in itertools.product(framed, ENTITIES, modes):
        decision = Decision(subject, entities, (), need=need, **mode)  # type: ignore[arg-type]
        for outsider in (False, True):
            text = to_text(Composer(knowledge, decision, TODAY, outsider=outsider).blocks())
            out.append((f"{subject} {entities} {mode} outsider={outsider}", subject, text))
    return out


def test_no_reply_says_what_the_guide_does_not(knowledge: Knowledge) -> None:
    found = []
    for what, _, text in replies(knowledge):
        for pattern, why in FORBIDDEN:
            if pattern.search(text):
                found.append(f"{what}: {why}: {pattern.search(text).group(0)!r}")  # type: ignore[union-attr]
    assert not found, "\n".join(found[:20])


def test_headers_never_stack_placements(knowledge: Knowledge) -> None:
    labels = list(knowledge.conversation.category_labels.values())
    for what, _, text in replies(knowledge):
        first = text.split("\n")[0]
        assert sum(first.count(label) for label in labels) <= 1, (what, first)


def test_no_sentence_is_said_twice(knowledge: Knowledge) -> None:
    for what, _, text in replies(knowledge):
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 30]
        assert len(sentences) == len(set(sentences)), what


def test_the_conditions_filter_the_tools_offered(knowledge: Knowledge) -> None:
    from bot.core import Context, answer

    for n, absent in [(8, ["Scaleway"]), (12, ["Scaleway", "Tixéo"]), (30, ["Scaleway", "Tixéo"])]:
        for question in (f"visio à {n}", f"web conférence pour {n} personnes"):
            short, context = answer(question, knowledge, Context(), today=TODAY)
            more, _ = answer("détails", knowledge, context, today=TODAY)
            for name in absent:
                assert name not in short.text and name not in more.text, (question, name)
    sensitive, context = answer("visio pour un sujet sensible", knowledge, today=TODAY)
    more, _ = answer("détails", knowledge, context, today=TODAY)
    assert "hors offres" not in sensitive.text + more.text


def test_alfresco_is_never_offered_for_a_new_space(knowledge: Knowledge) -> None:
    from bot.core import answer

    for question in ("partager des fichiers", "je veux créer un espace collaboratif", "sharepoint"):
        reply, _ = answer(question, knowledge, today=TODAY)
        assert "Alfresco" not in reply.text, question
    alfresco, _ = answer("je veux créer un nouvel espace alfresco", knowledge, today=TODAY)
    assert "SharePoint" in alfresco.text


def test_the_knowledge_texts_have_no_layout_leftovers(knowledge: Knowledge) -> None:
    texts = [t.summary for t in knowledge.tools.values()]
    texts += [c.text for t in knowledge.tools.values() for c in t.caveats]
    texts += [o.text for n in knowledge.needs.values() for o in n.options]
    for text in texts:
        for pattern, why in FORBIDDEN[:3]:
            assert not pattern.search(text), (why, text)
