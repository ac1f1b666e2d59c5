"""``log_format: json``: one JSON object per line, no secret, no question text."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.loader import load_knowledge
from bot.logs import MASK, formatter, setup_logging
from bot.matrix.main import core_responder
from tests.unit.test_matrix_router import DM, Harness, message, sync

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
TOKEN = "syt_b3V0aWxz_SecretToken_1a2b3c"


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("bot.matrix.session", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_json_line_holds_time_level_logger_message_and_the_exception() -> None:
    try:
        raise ValueError("boom\non two lines")
    except ValueError as exc:
        line = formatter("json").format(record("login as %s failed", "@bot:hs.test", exc=exc))
    assert "\n" not in line  # one record, one line
    data = json.loads(line)
    assert set(data) == {"time", "level", "logger", "message", "exc_info"}
    assert data["level"] == "ERROR" and data["logger"] == "bot.matrix.session"
    assert data["message"] == "login as @bot:hs.test failed"
    assert data["time"].endswith("+00:00") and "T" in data["time"]
    assert data["exc_info"].startswith("Traceback") and "ValueError: boom" in data["exc_info"]
    assert "exc_info" not in json.loads(formatter("json").format(record("fine")))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_configured_secrets_are_masked_even_in_a_traceback(fmt: str) -> None:
    try:
        raise RuntimeError(f"unexpected answer for token {TOKEN}")
    except RuntimeError as exc:
        line = formatter(fmt, secrets=(TOKEN, "", "pw")).format(
            record("request with %s", TOKEN, exc=exc)
        )
    assert TOKEN not in line and line.count(MASK) == 2


def test_setup_installs_one_json_handler_like_basic_config() -> None:
    with bot_logging("INFO", "json", secrets=(TOKEN,)) as stream:
        assert len(logging.getLogger().handlers) == 1
        logging.getLogger("bot.test").info("token %s", TOKEN)
        logging.getLogger("bot.test").debug("not at INFO")
        assert setup_logging("INFO", "json") is None  # a handler is there: left alone
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == f"token {MASK}"


@contextmanager
def bot_logging(level: str, fmt: str, **kwargs: Any) -> Iterator[io.StringIO]:
    """The bot's own set-up (``setup_logging``), pytest's handlers and levels put back after."""
    loggers = [logging.getLogger(name) for name in ("", "nio", "nio.responses", "peewee")]
    root = loggers[0]
    saved, levels = root.handlers[:], [logger.level for logger in loggers]
    root.handlers = []
    stream = io.StringIO()
    try:
        setup_logging(level, fmt, stream=stream, **kwargs)
        yield stream
    finally:
        root.handlers = saved
        for logger, old in zip(loggers, levels, strict=True):
            logger.setLevel(old)


async def test_a_handled_question_leaves_no_question_text_in_the_json_log(
    tmp_path: Path,
) -> None:
    """At DEBUG, the most the bot logs, nio's own loggers included."""
    h = Harness(tmp_path, respond=core_responder(KnowledgeHolder(load_knowledge(KNOWLEDGE))))
    question = "visio confidentielle avec Bérénice Zylberstein à 12"
    with bot_logging("DEBUG", "json") as json_log:
        await h.feed(sync(DM, message("$q1", question)))

    [item] = h.sender.items
    assert "WebConférence" in item.content["body"] or "Lifesize" in item.content["body"]
    lines = json_log.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any("$q1" in r["message"] for r in records)  # the question is named by its id
    for word in ("confidentielle", "Bérénice", "Zylberstein", "visio"):
        assert not [line for line in lines if word.lower() in line.lower()], word


def test_tchap_bot_run_logs_json_lines_when_configured(tmp_path: Path) -> None:
    """The wiring: ``log_format: json`` in the config reaches ``run``'s set-up."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "matrix:\n  homeserver: http://127.0.0.1:1\n  user_id: '@bot:hs.test'\n"
        "data_dir: state\nlog_format: json\nops:\n  health: {enabled: false}\n"
    )
    env = {**os.environ, "TCHAP_BOT_ACCESS_TOKEN": TOKEN, "TCHAP_BOT_PICKLE_KEY": "k" * 32}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    guard = threading.Timer(30, bot.kill)  # never hang the test run
    guard.start()
    try:
        assert bot.stderr is not None
        first = bot.stderr.readline()  # the homeserver is unreachable: it says so, and waits
    finally:
        bot.terminate()
        _, rest = bot.communicate(timeout=30)
        guard.cancel()
    assert bot.returncode == 0  # stopped as asked, while waiting
    records = [json.loads(line) for line in [first, *rest.splitlines()]]
    assert records[0]["level"] == "WARNING" and "homeserver unreachable" in records[0]["message"]
    assert records[-1]["message"] == "stopped"
