"""The operations glue of the Matrix bot: admin commands around the respond seam,
unanswered questions, feedback from reactions."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import HealthSettings, OpsSettings, StoreSettings
from bot.core import Candidate, Reply
from bot.knowledge import subject as subjects
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.knowledge.subject import Subject
from bot.matrix.main import core_responder
from bot.matrix.ops import ADMIN_LABEL, OpsObserver, ops_responder, unanswered_reason
from bot.matrix.questions import Answer, Question
from bot.ops.runtime import OpsRuntime
from bot.ops.store import Feedback

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
ADMIN = "@admin:example.org"
AGENT = "@agent:example.org"


@pytest.fixture(scope="module")
def holder() -> KnowledgeHolder:
    return KnowledgeHolder(load_knowledge(KNOWLEDGE))


def runtime(holder: KnowledgeHolder, tmp_path: Path, **store: bool) -> OpsRuntime:
    settings = OpsSettings(
        admins=frozenset({ADMIN}),
        health=HealthSettings(enabled=False),
        store=StoreSettings(**store),
    )
    return OpsRuntime(settings, holder=holder, knowledge_dir=KNOWLEDGE, data_dir=tmp_path)


@pytest.fixture
def ops(holder: KnowledgeHolder, tmp_path: Path) -> Iterator[OpsRuntime]:
    runtime_ = runtime(holder, tmp_path)
    yield runtime_
    runtime_.store.close()


def question(
    text: str, sender: str = AGENT, *, direct: bool = True, via: str = "prefix"
) -> Question:
    return Question("!room:example.org", "$q", sender, text, direct, via)


async def respond(ops: OpsRuntime, holder: KnowledgeHolder, q: Question) -> tuple[Answer, bool]:
    """(answer, whether it came asynchronously)."""
    result = ops_responder(core_responder(holder), ops, "!outils")(q, None)
    if inspect.isawaitable(result):
        return await result, True
    return result, False


def reply(subject: str, *scores: float) -> Reply:
    candidates = tuple(Candidate(Subject.parse(f"tool:s{i}"), s) for i, s in enumerate(scores))
    return Reply(Subject.parse(subject), candidates, "t", "h")


@pytest.mark.parametrize(
    ("subject", "scores", "reason"),
    [
        ("none", (), "none"),
        ("clarify", (1.0, 0.5), "clarify"),
        ("need:web_conference", (0.9,), None),
        ("need:web_conference", (0.4, 0.3), "low_confidence"),
        ("need:web_conference", (), None),  # a follow-up answered from the context
        ("help", (0.2,), None),
        ("admin", (), None),
    ],
)
def test_unanswered_reason(subject: str, scores: tuple[float, ...], reason: str | None) -> None:
    assert unanswered_reason(reply(subject, *scores)) == reason


async def test_admin_command_in_a_dm_goes_to_the_admin_commands(
    ops: OpsRuntime, holder: KnowledgeHolder
) -> None:
    (answer, _context), deferred = await respond(ops, holder, question("version", ADMIN))
    assert deferred and answer.subject == subjects.ADMIN
    assert answer.text.startswith("tchap-bot ")
    (answer, _), _ = await respond(ops, holder, question("aide", ADMIN))
    assert "Commandes d'administration" in answer.text


async def test_agents_are_refused_admin_commands_but_get_the_help_menu(
    ops: OpsRuntime, holder: KnowledgeHolder
) -> None:
    (answer, _), _ = await respond(ops, holder, question("recharger"))
    assert answer.subject == subjects.ADMIN and "réservée aux administrateurs" in answer.text
    (answer, _), _ = await respond(ops, holder, question("aide"))
    assert answer.subject == subjects.HELP
    assert ops.holder.generation == 1  # nothing reloaded


@pytest.mark.parametrize(
    "q",
    [
        question("recharger", ADMIN, via="direct"),  # no prefix: a question
        question("recharger", ADMIN, direct=False),  # a group room: a question
        question("visio à 30 personnes", ADMIN),  # not a command word
    ],
)
async def test_everything_else_goes_to_the_core(
    ops: OpsRuntime, holder: KnowledgeHolder, q: Question
) -> None:
    (answer, _), deferred = await respond(ops, holder, q)
    assert not deferred and answer.subject != subjects.ADMIN


async def test_questions_not_answered_well_are_stored_without_user_id(
    ops: OpsRuntime, holder: KnowledgeHolder
) -> None:
    for text in ("bidulophone", "Bidulophone ?", "réunion", "visio à 30 personnes"):
        await respond(ops, holder, question(text, via="direct"))
    top = {q.text: (q.count, q.reason) for q in ops.store.top_unanswered()}
    assert top == {"bidulophone": (2, "none"), "réunion": (1, "clarify")}
    stored = ops.store._db.execute("SELECT COUNT(*) FROM unanswered WHERE user_id IS NOT NULL")
    assert stored.fetchone() == (0,)


def test_only_the_askers_reaction_counts_and_a_redaction_withdraws_it(ops: OpsRuntime) -> None:
    observer = OpsObserver(ops)
    observer.reply_sent("!r", "$answer", AGENT, "need:web_conference")
    observer.reaction("!r", "@colleague:example.org", "$answer", "👎", "$down")
    observer.reaction("!r", AGENT, "$other", "👍", "$unknown-reply")
    observer.reaction("!r", AGENT, "$answer", "🎉", "$party")
    observer.reaction("!r", AGENT, "$answer", "👍🏿", "$up")
    assert ops.store.feedback_summary()["need:web_conference"] == Feedback(1, 0)
    observer.redaction("!r", "$up")
    assert ops.store.feedback_summary() == {}


def test_votes_from_anyone_when_configured(holder: KnowledgeHolder, tmp_path: Path) -> None:
    ops = runtime(holder, tmp_path, votes_from_anyone=True)
    observer = OpsObserver(ops)
    observer.reply_sent("!r", "$answer", AGENT, "tool:tchap")
    observer.reaction("!r", "@colleague:example.org", "$answer", "👎", "$down")
    assert ops.store.feedback_summary()["tool:tchap"] == Feedback(0, 1)
    ops.store.close()


def test_admin_replies_are_neither_counted_nor_voted_on(ops: OpsRuntime) -> None:
    observer = OpsObserver(ops, max_tracked=2)
    observer.record_reply(ADMIN_LABEL, 0.1)
    observer.reply_sent("!r", "$admin", ADMIN, ADMIN_LABEL)
    observer.reaction("!r", ADMIN, "$admin", "👍", "$up")
    assert ops.metrics.snapshot().questions == 0
    assert ops.store.feedback_summary() == {}
    for i in range(3):  # only the most recent answers are remembered
        observer.reply_sent("!r", f"$a{i}", AGENT, "need:email")
    observer.reaction("!r", AGENT, "$a0", "👍", "$r0")
    observer.reaction("!r", AGENT, "$a2", "👍", "$r2")
    assert ops.store.feedback_summary()["need:email"] == Feedback(1, 0)


async def test_an_admin_command_from_a_device_the_trust_check_refuses_does_not_run(
    ops: OpsRuntime, holder: KnowledgeHolder
) -> None:
    checked: list[str] = []

    async def trust(q: Question) -> str | None:
        checked.append(q.text)
        return "Commande refusée : session non vérifiée."

    respond = ops_responder(core_responder(holder), ops, "!outils", trust)
    for text in ("recharger", "stats", "version"):
        result = respond(question(text, ADMIN), None)
        assert inspect.isawaitable(result)
        answered, _ = await result
        assert answered.subject == subjects.ADMIN
        assert answered.text == "Commande refusée : session non vérifiée."
    assert ops.metrics.snapshot().reloads == {"ok": 0, "error": 0}  # nothing was reloaded
    # Help lists commands and changes nothing: not checked. Agents are not checked either
    # (they are refused as non-admins, whatever their device).
    help_result = respond(question("aide", ADMIN), None)
    assert inspect.isawaitable(help_result)
    assert "Commandes d'administration" in (await help_result)[0].text
    agent_result = respond(question("stats", AGENT), None)
    assert inspect.isawaitable(agent_result)
    assert "réservée aux administrateurs" in (await agent_result)[0].text
    assert checked == ["recharger", "stats", "version"]
