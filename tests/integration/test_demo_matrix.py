"""`make demo-matrix` (tests/demo_matrix.py), run as a person would: it answers over Matrix,
its printed login works, and EOF or Ctrl-C leaves no process and no file behind."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.demo_matrix import READY, children

from .conftest import require_synapse
from .homeserver import REPO_ROOT

START_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0


@dataclass
class Demo:
    """The demo's process, its output read line by line in a thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)  # Synapse and the bot, once seen

    def read_until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r}:\n" + "".join(self.output))
            self.output.append(line)
            if found := re.search(pattern, line):
                return found

    def stopped(self) -> int:
        """Wait for the exit, then the rest of the output is read."""
        code = self.process.wait(STOP_TIMEOUT)
        while (line := self.lines.get(timeout=5)) is not None:
            self.output.append(line)
        return code


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo started with its temporary directory under `tmp_path`, and in its own
    process group: Ctrl-C at a terminal signals that group (see `killpg` below)."""
    python = require_synapse()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.demo_matrix"],
        cwd=REPO_ROOT,
        env={**os.environ, "SYNAPSE_PYTHON": str(python), "TMPDIR": str(tmp_path)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    started = Demo(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            started.lines.put(line)
        started.lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield started
    finally:  # a failed test must not leave the demo or its children running
        if process.poll() is None:
            started.children += children(process.pid)
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in started.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def ready(demo: Demo) -> list[int]:
    """Wait for the prompt; check the bot's device is cross-signed and that the printed login
    works; the demo's processes (Synapse and the bot, each checked by its command line)."""
    # The bot's device, checked from the console agent's /keys/query: cross-signed.
    demo.read_until(r"^  signé par sa clé maîtresse \S+ \(cross-signing\)$", START_TIMEOUT)
    url = demo.read_until(r"serveur d'accueil : (http://127\.0\.0\.1:\d+)", START_TIMEOUT)[1]
    user = demo.read_until(r"identifiant +: (\S+)", 5)[1]
    password = demo.read_until(r"mot de passe +: (\S+)", 5)[1]
    demo.read_until(re.escape(READY), START_TIMEOUT)
    # The printed login is what a person types into Element: the homeserver accepts it.
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}}
    request = urllib.request.Request(
        f"{url}/_matrix/client/v3/login",
        data=json.dumps({**body, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["user_id"] == f"@{user}:localhost"
    pids = demo.children = children(demo.process.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in pids]
    kinds = [
        "synapse"
        if b"synapse.app.homeserver" in c
        else "bot"
        if c[1:4] == [b"-m", b"bot", b"run"]
        else repr(c)
        for c in commands
    ]
    assert sorted(kinds) == ["bot", "synapse"]
    return pids


def assert_nothing_left(pids: list[int], tmp_path: Path) -> None:
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list(tmp_path.iterdir()) == []  # the demo's temporary directory is gone


def test_the_demo_answers_a_question_and_stops_everything_at_eof(
    demo: Demo, tmp_path: Path
) -> None:
    pids = ready(demo)
    assert demo.process.stdin is not None
    demo.process.stdin.write("visio à 8\n")
    demo.process.stdin.flush()
    # The bot's reply, over the encrypted direct chat, as the console prints it.
    demo.read_until(r"Pour 8 participants : WebConférence de l'État", 30)
    demo.process.stdin.close()
    assert demo.stopped() == 0
    assert "Tout est arrêté." in "".join(demo.output)
    assert_nothing_left(pids, tmp_path)


def test_ctrl_c_stops_everything(demo: Demo, tmp_path: Path) -> None:
    pids = ready(demo)
    os.killpg(demo.process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    assert demo.stopped() == 0
    assert_nothing_left(pids, tmp_path)
