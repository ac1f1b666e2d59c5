"""The pure core is light: importing it loads no YAML reader, no checker, no I/O library.

Run in a fresh interpreter, since this test process has imported everything already. The
import contracts between packages are checked by import-linter (pyproject.toml, make lint).
"""

from __future__ import annotations

import json
import subprocess
import sys

# What the core must not bring in: knowledge loading and checking, transport, operations.
NOT_IMPORTED = (
    "yaml",
    "jsonschema",
    "bot.knowledge.loader",
    "bot.knowledge.check",
    "bot.knowledge.yaml_lines",
    "bot.knowledge.schema_check",
    "aiohttp",
    "nio",
    "asyncio",
    "sqlite3",
    "prometheus_client",
    "bot.config",
)
ALLOWED_BOT_MODULES = ("bot.core", "bot.knowledge.model", "bot.knowledge.subject")


def modules_after(statement: str) -> set[str]:
    code = f"{statement}; import json, sys; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def test_importing_the_core_loads_neither_the_loader_nor_any_io_module() -> None:
    loaded = modules_after("import bot.core")
    assert "bot.core.answer" in loaded  # the core itself did load
    assert sorted(m for m in NOT_IMPORTED if m in loaded) == []
    ours = {m for m in loaded if m == "bot" or m.startswith("bot.")}
    extra = {
        m
        for m in ours - {"bot", "bot.knowledge"}
        if not any(m == a or m.startswith(a + ".") for a in ALLOWED_BOT_MODULES)
    }
    assert extra == set()


def test_the_loader_is_what_brings_yaml() -> None:
    """The check above is not vacuous: the loader does import the YAML reader."""
    assert "yaml" in modules_after("import bot.knowledge.loader")
