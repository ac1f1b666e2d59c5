"""The operations runtime: one owner starts and stops everything, the bot reports to it.

Replies reach it the way production sends them: through ``bot.matrix.ops``
(``ops_responder`` around the core, ``OpsObserver`` for each reply sent).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import aiohttp
from ops_support import fake_loader, write_small

from bot.config import HealthSettings, KnowledgeOpsSettings, OpsSettings
from bot.knowledge.holder import KnowledgeHolder
from bot.matrix.main import core_responder
from bot.matrix.ops import OpsObserver, ops_responder
from bot.matrix.questions import Question
from bot.ops.runtime import OpsRuntime
from bot.ops.store import VoteChange

ADMIN = "@admin:agent.tchap.gouv.fr"
AGENT = "@agent:agent.tchap.gouv.fr"


def test_replies_are_recorded_only_by_the_matrix_layer() -> None:
    """One path for replies (``bot.matrix.ops``), not a second one on the runtime that
    could drift from it."""
    assert not hasattr(OpsRuntime, "record_reply")


async def test_runtime_wires_metrics_store_health_and_admin(tmp_path: Path) -> None:
    directory = write_small(tmp_path / "knowledge").parent
    settings = OpsSettings(
        admins=frozenset({ADMIN}),
        health=HealthSettings(port=0),
        knowledge=KnowledgeOpsSettings(watch=True, watch_interval=0.05),
    )
    ops = OpsRuntime(
        settings,
        holder=KnowledgeHolder(fake_loader(directory)),
        knowledge_dir=directory,
        data_dir=tmp_path / "data",
        loader=fake_loader,
    )
    await ops.start(sighup=False)
    try:
        ops.status.logged_in = True
        ops.status.record_identity(True, None)
        ops.record_sync_ok()
        respond = ops_responder(core_responder(ops.holder), ops, "!outils")
        observer = OpsObserver(ops)
        for i, text in enumerate(("Quelle météo demain ?", "conférence", "zoom", "visio")):
            answered = respond(Question("!r", f"$q{i}", AGENT, text, True, "direct"), None)
            assert not inspect.isawaitable(answered)  # a question, not an admin command
            sent, _ = answered
            label = str(sent.subject)  # what the Router does once sent
            observer.record_reply(label, 0.02)
            observer.reply_sent("!r", f"$reply{i}", AGENT, label)
        assert ops.record_reaction("$reply2", "tool:zoom", "👍", "$r1") is VoteChange.NEW
        assert ops.record_reaction("$reply2", "tool:zoom", "👍️", "$r2") is VoteChange.UNCHANGED
        assert ops.record_reaction("$reply2", "tool:zoom", "🎉", "$r3") is None
        assert ops.record_redaction("$r1")

        assert {(q.text, q.reason) for q in ops.store.top_unanswered()} == {
            ("quelle météo demain", "none"),
            ("conférence", "clarify"),
        }
        assert ops.health is not None
        base = f"http://127.0.0.1:{ops.health.port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/readyz") as response:
                assert response.status == 200
            async with session.get(base + "/metrics") as response:
                body = await response.text()
        assert "tchapbot_questions_total 4.0" in body
        assert 'tchapbot_feedback_total{subject="tool:zoom",vote="up"} 1.0' in body

        reply = await ops.admin.handle(ADMIN, "!outils stats")
        assert reply is not None and "- Questions : 4" in reply.text
        assert "Avis (👍 / 👎) : aucun" in reply.text  # the vote was withdrawn
    finally:
        await ops.stop()
