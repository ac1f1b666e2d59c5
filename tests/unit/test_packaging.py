"""The installed package: where its default knowledge lies, what overrides it, its version.

The wheel itself is checked by tests/packaging/wheel_check.sh (`make wheel-check`); these
run against the development install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import bot
from bot.cli import knowledge_dir
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.knowledge.shipped import shipped_knowledge_dir

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def tchap_bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_the_default_knowledge_is_the_directory_of_the_yaml_files() -> None:
    directory = shipped_knowledge_dir()
    assert directory.is_dir()
    shipped = sorted(p.name for p in directory.glob("*.yaml"))
    assert "needs.yaml" in shipped and "tools.yaml" in shipped
    # In development it is the repository's knowledge/ itself, not a copy that could lag.
    assert shipped == sorted(p.name for p in (ROOT / "knowledge").glob("*.yaml"))
    assert directory.samefile(ROOT / "knowledge")
    assert directory == DEFAULT_KNOWLEDGE_DIR


def test_tchap_bot_knowledge_overrides_the_default(tmp_path: Path) -> None:
    """Run from elsewhere, the variable's copy answers, with a change the shipped one lacks."""
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    tools = copy / "tools.yaml"
    text = tools.read_text(encoding="utf-8")
    assert "name: Tixéo\n" in text
    tools.write_text(text.replace("name: Tixéo\n", "name: Tixéo Surchargé\n", 1))
    env = {k: v for k, v in os.environ.items() if k != "TCHAP_BOT_KNOWLEDGE"}

    shipped = tchap_bot("ask", "--json", "tixeo ?", env=env, cwd=tmp_path)
    overridden = tchap_bot(
        "ask", "--json", "tixeo ?", env={**env, "TCHAP_BOT_KNOWLEDGE": str(copy)}, cwd=tmp_path
    )

    assert shipped.returncode == 0 and overridden.returncode == 0, shipped.stderr
    assert "Surchargé" not in json.loads(shipped.stdout)["text"]
    assert "Tixéo Surchargé" in json.loads(overridden.stdout)["text"]


def test_knowledge_option_then_variable_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TCHAP_BOT_KNOWLEDGE", raising=False)
    assert knowledge_dir(None) == DEFAULT_KNOWLEDGE_DIR
    monkeypatch.setenv("TCHAP_BOT_KNOWLEDGE", str(tmp_path))
    assert knowledge_dir(None) == tmp_path
    assert knowledge_dir("elsewhere") == Path("elsewhere")


def test_the_version_is_the_one_in_pyproject(tmp_path: Path) -> None:
    assert bot.__version__ == PROJECT["version"]
    done = tchap_bot("--version", env=dict(os.environ), cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout == f"tchap-bot {PROJECT['version']}\n"
