"""The data directory: one process at a time, private modes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.matrix.datadir import DataDirBusy, DataDirLock, prepare


def test_a_second_lock_on_the_same_directory_names_the_holder(tmp_path: Path) -> None:
    with DataDirLock(tmp_path), pytest.raises(DataDirBusy, match=f"PID {os.getpid()}"):
        DataDirLock(tmp_path).acquire()
    with DataDirLock(tmp_path):  # released: free again
        pass


def test_prepare_makes_an_existing_directory_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    config = parse_config(
        {
            "matrix": {"homeserver": "https://hs.test", "user_id": "@bot:hs.test"},
            "data_dir": "data",
        },
        base_dir=tmp_path,
        environ={"TCHAP_BOT_ACCESS_TOKEN": "t", "TCHAP_BOT_PICKLE_KEY": "k" * 32},
    )
    prepare(config)
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "crypto").stat().st_mode & 0o777 == 0o700
