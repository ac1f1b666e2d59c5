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
    end = date.today() + timedelta(days=20)
    return (
        f"avertissement : outil « tixeo » : valid_until : l'outil expire le {end:%d/%m/%Y}, "
        "dans 20 jours\n"
    ) in capsys.readouterr().out


def test_warn_days_from_the_command_line(
    knowledge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(knowledge)]) == 0 and warned(capsys)  # default 30
    assert main(["check", str(knowledge), "--warn-days", "10"]) == 0 and not warned(capsys)


def bot_config(**extra: object) -> dict[str, object]:
    """A whole config as `run` needs it, its secrets apart (check does not read them)."""
    return {
        "matrix": {"homeserver": "https://hs.test", "user_id": "@bot:hs.test"},
        "data_dir": "state",
        "secrets": {"pickle_key_file": "/nonexistent/pickle_key"},
        **extra,
    }


def test_warn_days_and_directory_from_the_config(
    knowledge: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(bot_config(knowledge_dir="knowledge", ops={"knowledge": {"warn_days": 10}}))
    )
    assert main(["check", "--config", str(config)]) == 0 and not warned(capsys)
    assert main(["check", "--config", str(config), "--warn-days", "25"]) == 0 and warned(capsys)


def test_the_config_is_checked_by_the_reader_run_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every error `run` would stop on, secrets apart: durations, placeholders, paths."""
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {
                "matrix": {"homeserver": "https://hs.test", "user_id": "@bot:hs.test"},
                "behaviour": {"context_idle": "soon"},
                "ops": {
                    "admins": ["@CHANGE-ME:hs.test"],
                    "health": {"max_sync_age": "5m"},
                    "knowledge": {"warn_days": "trente"},
                },
            }
        )
    )
    with pytest.raises(SystemExit) as exited:
        main(["check", "--config", str(config)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{config}: invalid configuration:\n")
    lines = [line.removeprefix("  - ") for line in err.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == [
        "behaviour.context_idle",
        "data_dir",
        "ops.admins[0]",
        "ops.knowledge.warn_days",
    ]
    assert "ops.knowledge.warn_days: must be an integer >= 0" in lines
    assert not any("secrets" in line for line in lines)  # none is required here


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
    assert "  - ops: must be a mapping of keys" in capsys.readouterr().err
