"""``tchap-bot run`` exit codes: 1 only for refused credentials (systemd does not restart
it), 3 for what a restart may fix (docs/operations.md, "Exit codes")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.matrix import main
from bot.matrix.errors import FatalAuthError, StateWriteError

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TCHAP_BOT_ACCESS_TOKEN", "syt_test")
    monkeypatch.setenv("TCHAP_BOT_PICKLE_KEY", KEY)
    path = tmp_path / "config.yaml"
    config = {"matrix": {"homeserver": "https://hs.test", "user_id": "@outils:hs.test"}}
    path.write_text(json.dumps({**config, "data_dir": "data"}))
    return path


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (None, 0),
        (FatalAuthError("the access token is invalid"), 1),
        (main.StartupError("health server cannot listen"), 2),
        (StateWriteError("disk full"), 3),
        (RuntimeError("a bug"), 3),
    ],
)
def test_exit_codes(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception | None, code: int
) -> None:
    async def serve(*args: Any) -> None:
        if error is not None:
            raise error

    monkeypatch.setattr(main, "_serve", serve)
    assert main.run(config_path) == code


def test_an_invalid_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("matrix: []\n")
    assert main.run(path) == 2
