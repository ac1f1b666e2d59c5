"""A reload that takes time, while agents keep asking, through the bot's real path.

Real nio events go through the Router, ``ops_responder`` and the core; the reload is the
``recharger`` admin command in a direct chat. The loader blocks (in the reloader's worker
thread) until the test lets it finish, so questions really arrive while it is pending:
each one is answered, whole, with the old knowledge until the swap and with the new one
after it, never a mix, never dropped.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from pathlib import Path

from ops_support import SMALL_YAML, fake_loader, write_small

from bot.config import HealthSettings, OpsSettings
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.model import Knowledge
from bot.matrix.main import core_responder
from bot.matrix.ops import OpsObserver, ops_responder
from bot.ops.runtime import OpsRuntime
from tests.unit.test_matrix_router import AGENT, DM, GROUP, Harness, message, sync

PAUL = "@paul:hs.test"  # a member of GROUP in the harness
NEW_YAML = SMALL_YAML.replace("title: Web conférence", "title: Visioconférence").replace(
    "name: WebConférence de l'État", "name: WebConf nationale"
)
# A short reply names the tool it leads with, not the need's title.
OLD_MARKS = ("WebConférence de l'État",)
NEW_MARKS = ("WebConf nationale",)


class BlockingLoader:
    """``fake_loader``, held in its worker thread until ``release`` is set."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, directory: Path) -> Knowledge:
        self.started.set()
        if not self.release.wait(timeout=10):  # never hang the test run
            raise TimeoutError("the test never released the reload")
        return fake_loader(directory)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def version(body: str) -> str:
    """'old' or 'new' when the reply is wholly one knowledge; fails on a mix or neither."""
    old = [mark in body for mark in OLD_MARKS]
    new = [mark in body for mark in NEW_MARKS]
    if all(old) and not any(new):
        return "old"
    if all(new) and not any(old):
        return "new"
    raise AssertionError(f"reply from neither or both knowledge versions: {body!r}")


async def test_questions_during_a_slow_reload_get_the_old_then_the_new_knowledge(
    tmp_path: Path,
) -> None:
    directory = write_small(tmp_path / "knowledge").parent
    holder = KnowledgeHolder(fake_loader(directory))
    loader = BlockingLoader()
    ops = OpsRuntime(
        OpsSettings(admins=frozenset({AGENT}), health=HealthSettings(enabled=False)),
        holder=holder,
        knowledge_dir=directory,
        data_dir=tmp_path / "data",
        loader=loader,
    )
    h = Harness(
        tmp_path,
        respond=ops_responder(core_responder(holder), ops, "!outils"),
        observer=OpsObserver(ops),
    )
    replies: dict[str, str] = {}  # question event id -> reply body
    ids = itertools.count()

    def collect() -> None:
        for item in h.sender.items:
            question_id = item.content["m.relates_to"]["m.in_reply_to"]["event_id"]
            assert question_id not in replies, f"{question_id} answered twice"
            replies[question_id] = item.content["body"]
        h.sender.deliver_all()

    def ask(n: int) -> list[tuple[str, str]]:
        """n questions in the direct chat and n in the group room, one sync each."""
        return [(room, f"$q{next(ids)}") for _ in range(n) for room in (DM, GROUP)]

    async def feed(asked: list[tuple[str, str]]) -> None:
        for room, eid in asked:
            if room == DM:
                event = message(eid, "visio")
            else:
                event = message(eid, "!outils visio", sender=PAUL)
            await h.feed(sync(room, event, token=f"s-{eid}"))
            collect()

    try:
        await feed(before := ask(2))

        write_small(directory, NEW_YAML)
        await h.feed(sync(DM, message("$reload", "!outils recharger"), token="s-reload"))
        await until(loader.started.is_set, "the reload to start loading")

        await feed(during := ask(5))
        await asyncio.sleep(0.05)  # the event loop keeps running; the reload still waits
        await feed(during_late := ask(3))
        assert "$reload" not in replies and holder.generation == 1  # still pending

        loader.release.set()
        await until(lambda: bool(h.sender.items), "the reload's reply")
        collect()
        assert holder.generation == 2
        assert replies["$reload"].startswith("Connaissances rechargées (version 2"), replies
        assert "web_conference" in replies["$reload"]  # the summary names what changed

        await feed(after := ask(2))
    finally:
        loader.release.set()
        ops.store.close()

    # never dropped: every question has exactly its own reply
    asked = before + during + during_late + after
    assert set(replies) == {eid for _, eid in asked} | {"$reload"}
    old = before + during + during_late
    assert [version(replies[eid]) for _, eid in old] == ["old"] * len(old) == ["old"] * 20
    assert [version(replies[eid]) for _, eid in after] == ["new"] * len(after) == ["new"] * 4
    assert ops.metrics.snapshot().reloads == {"ok": 1, "error": 0}
