"""The bot as a real subprocess (`python -m bot run --config ...`) for integration tests.

`BotProcess` writes a config into its own directory (data directory, config, log), with
the homeserver's URL and a registered bot account whose token and pickle key go through
the environment, as in production. Start, stop with SIGTERM, kill with SIGKILL, start
again: the data directory is kept, so restarts are real restarts. `entry` names another
module to run instead of `bot`: a test-only entry point (e.g. `faulty_bot`) that changes
the bot from outside before calling its real `main`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from .agents import Agent, create_dm, wait_for_join
from .homeserver import Account, Homeserver

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "ready: first sync handled"
BOT_DISPLAY_NAME = "Outils numériques [Intérieur]"


def bot_config(homeserver: Homeserver, account: Account, **overrides: Any) -> dict[str, Any]:
    """A config for tests: fast sync polling, the homeserver's own server name allowed."""
    config: dict[str, Any] = {
        "matrix": {
            "homeserver": homeserver.url,
            "user_id": account.user_id,
            "request_timeout": "20s",
        },
        "data_dir": "data",
        "log_level": "INFO",
        "invites": {"allowed_servers": [homeserver.server_name]},
        "behaviour": {"greet_on_join": True},
        "sync": {"timeout": "10s", "backoff_initial": 0.2, "backoff_max": 2},
        "encryption": {"undecryptable_notice_after": "20s"},
        # Any free port: several bots run at once. Tests that read it pass their own.
        "ops": {"health": {"port": 0}},
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(config.get(section), dict):
            config[section] = {**config[section], **values}
        else:
            config[section] = values
    return config


class BotProcess:
    def __init__(
        self,
        homeserver: Homeserver,
        account: Account,
        directory: Path,
        *,
        env: dict[str, str] | None = None,
        entry: str = "bot",
        new_session: bool = False,
        **overrides: Any,
    ) -> None:
        self.homeserver = homeserver
        self.entry = entry
        self.new_session = new_session  # as Homeserver's: out of reach of a terminal's Ctrl-C
        self.account = account
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path = directory / "config.yaml"
        self.log_path = directory / "bot.log"
        # JSON is YAML.
        self.config_path.write_text(json.dumps(bot_config(homeserver, account, **overrides)))
        self.env = {
            **os.environ,
            "TCHAP_BOT_ACCESS_TOKEN": account.access_token,
            "TCHAP_BOT_PICKLE_KEY": secrets.token_hex(32),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.env.pop("TCHAP_BOT_PASSWORD", None)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self.starts = 0

    @property
    def user_id(self) -> str:
        return self.account.user_id

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_since_start(self) -> str:
        return self.log()[self._log_offset :]

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", self.entry, "run", "--config", str(self.config_path)],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.new_session,
            )

    async def astart(self, *, ready_timeout: float = 30.0) -> None:
        """Spawn the bot and wait until its first sync is handled."""
        assert not self.running, "bot already running"
        self._log_offset = len(self.log())
        self._process = await asyncio.to_thread(self._spawn)
        self.starts += 1
        deadline = time.monotonic() + ready_timeout
        while READY_LINE not in self.log_since_start():
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"bot exited with {self._process.returncode} during start-up:\n"
                    + self.log_since_start()[-3000:]
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot not ready in {ready_timeout} s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)

    async def astop(self, grace: float = 40.0) -> int:
        """SIGTERM and wait (the bot finishes replies in flight); SIGKILL after `grace`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return process.returncode if process else 0
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(process.wait, grace)
        except subprocess.TimeoutExpired:
            process.kill()
            return await asyncio.to_thread(process.wait)

    def send_signal(self, sig: int) -> None:
        """Send a signal to the running bot (e.g. SIGHUP: reload the knowledge)."""
        assert self._process is not None and self.running, "bot not running"
        self._process.send_signal(sig)

    async def akill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)

    async def await_exit(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Wait for the process to end by itself (e.g. refused credentials)."""
        assert self._process is not None
        process, self._process = self._process, None
        return await asyncio.to_thread(process.wait, timeout)


async def dm_with_bot(agent: Agent, bot: BotProcess) -> str:
    """An encrypted direct chat between the agent and the bot, once the bot has joined."""
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id)
    return room_id


# -- fixtures (import them into a test module to use them) ------------------------------

BotFactory = Callable[..., Awaitable[BotProcess]]


@pytest.fixture(name="start_bot")
async def start_bot_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BotFactory]:
    """`await start_bot(server=None, env=None, entry="bot", **config_overrides)`: a registered bot
    account on the server (default: the session homeserver), its process started."""
    bots: list[BotProcess] = []

    async def factory(
        server: Homeserver | None = None, *, start: bool = True, **overrides: Any
    ) -> BotProcess:
        target: Homeserver = server or request.getfixturevalue("homeserver")
        account = await target.aregister(
            f"outils-{uuid.uuid4().hex[:8]}", displayname=BOT_DISPLAY_NAME
        )
        bot = BotProcess(target, account, tmp_path / f"bot-{len(bots)}", **overrides)
        bots.append(bot)
        if start:
            await bot.astart()
        return bot

    try:
        yield factory
    finally:
        for bot in bots:
            await bot.astop(grace=10)
