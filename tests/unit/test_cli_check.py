"""``tchap-bot check`` warns ``warn_days`` ahead, taken from the bot's config if given."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A knowledge copy whose Tixéo offer ends in 20 days."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    tools = target / "tools.yaml"
    end = date.today() + timedelta(days=20)
    text = tools.read_text(encoding="utf-8")
    tools.write_text(text.replace("  - id: tixeo\n", f"  - id: tixeo\n    valid_until: {end}\n"))
    return target


def warned(capsys: pytest.CaptureFixture[str]) -> bool:
    return "outil « tixeo » : valid_until : l'outil expire le" in capsys.readouterr().out


def test_warn_days_from_the_command_line(
    knowledge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(knowledge)]) == 0 and warned(capsys)  # default 30
    assert main(["check", str(knowledge), "--warn-days", "10"]) == 0 and not warned(capsys)


def test_warn_days_and_directory_from_the_config(
    knowledge: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps({"knowledge_dir": "knowledge", "ops": {"knowledge": {"warn_days": 10}}})
    )
    assert main(["check", "--config", str(config)]) == 0 and not warned(capsys)
    assert main(["check", "--config", str(config), "--warn-days", "25"]) == 0 and warned(capsys)


def test_a_wrong_ops_section_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"ops": {"knowledge": {"warn_days": "trente"}}}))
    with pytest.raises(SystemExit) as exited:
        main(["check", "--config", str(config)])
    assert exited.value.code == 2
    assert "ops.knowledge.warn_days: doit être un nombre" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["- knowledge_dir: x\n", "just a sentence\n", "42\n"])
def test_a_config_whose_top_level_is_not_a_mapping_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with pytest.raises(SystemExit) as exited:
        main(["check", "--config", str(config)])
    assert exited.value.code == 2
    assert "the top level must be a mapping of keys" in capsys.readouterr().err


def test_an_ops_section_that_is_a_list_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ops: []\n")
    with pytest.raises(SystemExit) as exited:
        main(["check", "--config", str(config)])
    assert exited.value.code == 2
    assert f"{config}: ops: " in capsys.readouterr().err
