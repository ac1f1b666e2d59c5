"""The index is built with the knowledge, in the reload's worker thread, not by the first
question on the event loop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.core import answer, index
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.ops.reload import Reloader

SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"


async def test_a_reload_builds_the_index_in_its_worker_before_any_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = KnowledgeHolder(load_knowledge(SHIPPED))
    reloader = Reloader(holder, SHIPPED)  # the real loader, as the bot runs it
    built: list[tuple[Knowledge, threading.Thread]] = []
    real_build = index.build_index

    def spy(knowledge: Knowledge) -> index.Index:
        built.append((knowledge, threading.current_thread()))
        return real_build(knowledge)

    monkeypatch.setattr(index, "build_index", spy)
    outcome = await reloader.reload("admin")
    assert outcome.ok and outcome.generation == 2
    assert [k for k, _ in built] == [holder.current]
    assert built[0][1] is not threading.main_thread()  # the event loop's thread

    def no_build(knowledge: Knowledge) -> index.Index:
        raise AssertionError("the index was built at question time")

    monkeypatch.setattr(index, "build_index", no_build)
    reply, _ = answer("visio à 60 personnes", holder.current)
    assert str(reply.subject) == "tool:lifesize"
