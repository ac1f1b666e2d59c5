"""Logging for ``tchap-bot run``: one line per record on stderr, as text or as JSON.

``json`` writes one object per line — ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message`` and, for an exception, ``exc_info`` — for a log collector (journald, Loki, a
Kubernetes node agent). Both formats hold what the code logs and nothing more: the bot
never logs the agents' questions (events are named by id) nor its secrets, and the
configured secrets are masked anyway should one reach a message or a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "<hidden>"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a traceback are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False)


class _Masking(logging.Formatter):
    """Wraps a formatter: every occurrence of a secret in its output becomes ``<hidden>``."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line


def formatter(fmt: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    """The formatter of ``log_format`` (``text`` or ``json``), masking ``secrets``."""
    inner = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    return _Masking(inner, secrets)


def setup_logging(
    level: str, fmt: str = "text", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler | None:
    """Send every record of ``level`` and above to ``stream`` (stderr); returns the handler.

    As ``logging.basicConfig``: nothing is installed if the root logger already has a
    handler (a test runner's, an embedding program's)."""
    root = logging.getLogger()
    handler = None
    if not root.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(formatter(fmt, secrets))
        root.addHandler(handler)
        root.setLevel(level)
    if level != "DEBUG":
        logging.getLogger("nio").setLevel(logging.ERROR)  # nio warns on every retried 429
        logging.getLogger("peewee").setLevel(logging.WARNING)
    else:
        # nio.responses logs whole response bodies at DEBUG: the access token of a
        # password login, the agents' decrypted messages. Never logged.
        logging.getLogger("nio.responses").setLevel(logging.INFO)
    return handler
