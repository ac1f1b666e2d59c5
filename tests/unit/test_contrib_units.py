"""The systemd units shipped in contrib/ are valid and say what the docs say."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib"
UNITS = ("tchap-bot.service", "tchap-bot-health.service", "tchap-bot-health.timer")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(CONTRIB / name)
    return parser


def test_the_service_runs_the_bot_and_does_not_restart_what_a_restart_cannot_fix() -> None:
    service = unit("tchap-bot.service")["Service"]
    assert service["ExecStart"].endswith("tchap-bot run --config /etc/tchap-bot/config.yaml")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # reload = SIGHUP
    assert service["RestartPreventExitStatus"] == "1 2"  # bot.matrix.main's exit codes
    assert service["StateDirectoryMode"] == "0700"
    assert int(service["TimeoutStopSec"]) > 30  # the bot's drain of replies in flight


def test_the_docs_point_to_the_files_instead_of_copying_them() -> None:
    docs = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "[Service]" not in docs
    for name in UNITS:
        assert f"contrib/{name}" in docs


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    bot = shutil.which("tchap-bot") or str(REPO / ".venv" / "bin" / "tchap-bot")
    for name in UNITS:  # the executable must exist for verify: point it at this one
        text = (CONTRIB / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/tchap-bot/.venv/bin/tchap-bot", bot))
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
