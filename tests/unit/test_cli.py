"""The command line as users and the measurement harness call it (real subprocesses)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "bot"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_ask_json_single_question() -> None:
    done = run("ask", "--json", "fusionner deux appels sur mon iphone")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["subject"] == "tip:merge_calls_iphone"
    assert data["candidates"][0]["subject"] == "tip:merge_calls_iphone"
    assert "nouvel appel" in data["text"] and "<ol>" in data["html"]


def test_ask_json_lines_from_stdin_in_order() -> None:
    done = run("ask", "--json", stdin="zoom ?\n\ntixeo ?\nbonjour\n")
    subjects = [json.loads(line)["subject"] for line in done.stdout.splitlines()]
    assert subjects == ["tool:zoom", "none", "tool:tixeo", "help"]


def test_ask_plain_text() -> None:
    done = run("ask", "c quoi tixeo")
    assert done.returncode == 0 and "30 jours" in done.stdout and "{" not in done.stdout


def test_answering_path_never_imports_matrix_nio() -> None:
    code = (
        "import sys; from bot.cli import main; main(['ask', 'visio']); print('nio' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.strip().endswith("False")


def test_eval_prints_failures_then_accuracy(tmp_path: Path) -> None:
    cases = tmp_path / "set.yaml"
    cases.write_text(
        '- q: "tixeo ?"\n  expect: [tool:tixeo]\n  must_include: ["30 jours"]\n'
        '- q: "zoom ?"\n  expect: [tool:tixeo]\n',
        encoding="utf-8",
    )
    done = run("eval", str(cases))
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "accuracy: 1/2"
    assert lines[0].startswith("FAIL 'zoom ?'")
    assert run("eval", str(cases), "--min-accuracy", "0.9").returncode == 1


def test_check_exit_codes(tmp_path: Path) -> None:
    assert run("check", "knowledge").returncode == 0
    broken = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", broken)
    tools = broken / "tools.yaml"
    tools.write_text(tools.read_text(encoding="utf-8").replace("offer: DINUM", "offer: DINAM", 1))
    done = run("check", str(broken))
    assert done.returncode == 1
    assert "tools.yaml:" in done.stderr and "DINAM" in done.stderr


def test_chat_keeps_the_conversation() -> None:
    done = run("chat", stdin="conférence téléphonique\net sur iPhone ?\n")
    assert done.returncode == 0
    assert "nouvel appel" in done.stdout


def test_the_cli_and_the_config_share_one_default_knowledge_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import bot.cli
    import bot.config

    monkeypatch.delenv("TCHAP_BOT_KNOWLEDGE", raising=False)
    assert bot.cli.knowledge_dir(None) == bot.config.DEFAULT_KNOWLEDGE_DIR
    monkeypatch.setenv("TCHAP_BOT_KNOWLEDGE", str(tmp_path))
    assert bot.cli.knowledge_dir(None) == tmp_path
    assert bot.cli.knowledge_dir("elsewhere") == Path("elsewhere")  # the argument wins


def test_json_lines_share_one_context_per_conversation() -> None:
    lines = [
        '{"conversation": "a", "q": "scaleway"}',
        '{"conversation": "b", "q": "tixeo"}',
        '{"conversation": "a", "q": "c\'est quoi le lien ?"}',
        '{"conversation": "b", "q": "combien de participants au maximum ?"}',
        "c'est quoi le lien ?",  # a plain line is a question on its own
        '{"q": "bonjour"}',
    ]
    done = run("ask", "--json", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[2]["subject"] == "tool:scaleway" and "ensemble.scaleway.com" in out[2]["text"]
    assert out[3]["subject"] == "tool:tixeo" and "10" in out[3]["text"]
    assert out[4]["subject"] != "tool:scaleway"
    assert out[5]["subject"] == "help"


def test_eval_reads_conversation_files(tmp_path: Path) -> None:
    talks = tmp_path / "talks.yaml"
    talks.write_text(
        "- name: clarify-then-pick\n  turns:\n"
        '    - q: "réunion à distance"\n      expect: [clarify]\n'
        '    - q: "la deuxième"\n      expect: ["@choice"]\n'
        '      must_not_include: ["2 participants"]\n'
        "- name: wrong-on-purpose\n  turns:\n"
        '    - q: "zoom ?"\n      expect: [tool:zoom]\n'
        '    - q: "et à la place ?"\n      expect: [tool:tixeo]\n',
        encoding="utf-8",
    )
    done = run("eval", str(talks))
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "conversations: 1/2 (turns: 3/4)"
    assert lines[0].startswith("FAIL [wrong-on-purpose] turn 2")
    assert done.returncode == 0
    assert run("eval", str(talks), "--min-accuracy", "0.9").returncode == 1
    lengths = run("eval", str(talks), "--lengths").stdout.strip().splitlines()
    assert lengths[-1] == "conversations: 1/2 (turns: 3/4)"
    assert lengths[-2].startswith("lengths: 4 replies, median ")


def test_the_audience_can_be_simulated() -> None:
    outside = run("ask", "--audience-server", "agent.finances.tchap.gouv.fr", "visio")
    inside = run("ask", "visio")
    assert "pôle ministériel" in outside.stdout.split("\n")[0]
    assert "pôle ministériel" not in inside.stdout
