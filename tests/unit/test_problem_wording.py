"""One problem, one wording: ``tchap-bot check``, the reload reply in Matrix and the log
print the same line for the same problem of the knowledge (``format_problem``)."""

from __future__ import annotations

import logging
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.ops.admin import AdminCommands
from bot.ops.metrics import Metrics
from bot.ops.reload import Reloader

SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"
ADMIN = "@admin:agent.tchap.gouv.fr"


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` once; the line number where ``new`` starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, target)
    return target


async def reload_reply(directory: Path, good: Path) -> str:
    """What an admin reads in Tchap after ``!outils recharger`` (the bot runs on ``good``)."""
    holder = KnowledgeHolder(load_knowledge(good))
    reloader = Reloader(holder, directory, metrics=Metrics())
    admin = AdminCommands([ADMIN], metrics=Metrics(), holder=holder, reloader=reloader)
    reply = await admin.handle(ADMIN, "!outils recharger")
    assert reply is not None
    return reply.text


def items(text: str) -> list[str]:
    return [line.removeprefix("- ") for line in text.splitlines() if line.startswith("- ")]


async def test_an_error_is_worded_alike_by_check_the_reload_reply_and_the_log(
    knowledge: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    at = edit(knowledge / "tools.yaml", "  - id: tixeo\n", "  - id: tixeo\n    tips: [nulle]\n")
    assert main(["check", str(knowledge)]) == 1
    checked = capsys.readouterr().err.splitlines()[:-1]  # the last line is the count
    assert checked == [f"tools.yaml:{at + 1}: outil « tixeo » : tips[1] : astuce inconnu « nulle »"]

    with caplog.at_level(logging.ERROR, logger="bot.ops.reload"):
        reply = await reload_reply(knowledge, SHIPPED)

    assert reply.startswith("Rechargement refusé (1 erreur)")
    assert items(reply) == checked
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "bot.ops.reload"]
    assert items(logged) == checked


async def test_an_expiry_is_worded_alike_by_check_the_reload_reply_and_the_log(
    knowledge: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    soon = date.today() + timedelta(days=10)
    at = edit(
        knowledge / "tools.yaml", "  - id: tixeo\n", f"  - id: tixeo\n    valid_until: {soon}\n"
    )
    assert main(["check", str(knowledge), "--warn-days", "30"]) == 0
    checked = [line for line in capsys.readouterr().out.splitlines() if "valid_until" in line]
    expected = (
        f"tools.yaml:{at + 1}: avertissement : outil « tixeo » : valid_until : l'outil expire le "
        f"{soon:%d/%m/%Y}, dans 10 jours"
    )
    assert expected in checked and len(checked) == 2  # and the shipped OVH caveat, ended

    with caplog.at_level(logging.WARNING, logger="bot.ops.reload"):
        reply = await reload_reply(knowledge, SHIPPED)

    validity = reply[reply.index("Validité :") :]
    assert sorted(items(validity)) == sorted(checked)
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "bot.ops.reload"]
    assert sorted(items(logged[logged.index("Validité :") :])) == sorted(checked)
