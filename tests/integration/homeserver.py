"""A real Synapse homeserver for integration tests, run as a child process.

One `Homeserver` owns one directory: its config, SQLite database, media store, signing
key and logs live there, so `restart()` keeps every user, device, room and event.
It listens on 127.0.0.1 only, on a free port chosen once and kept across restarts,
with federation off. Users are created through the shared-secret admin registration
API, which is not rate-limited (unlike `/login`: see the notes).

The harness API is synchronous (`urllib`, `subprocess`): each call is a short loopback
request. Async tests should use the `a`-prefixed twins (`astart`, `arestart`,
`aregister`, ...), which keep the event loop running so that clients and the bot
living in that loop keep working while the server starts or stops.

The Synapse interpreter comes from `SYNAPSE_PYTHON`, else `<repo>/.venv-synapse/bin/python`.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SYNAPSE_PYTHON = REPO_ROOT / ".venv-synapse" / "bin" / "python"

RateLimits = Literal["relaxed", "default"]

# High enough that no test is ever throttled, low enough for Synapse's int parsing.
_RELAXED = {"per_second": 1000, "burst_count": 10000}

# Every rate limiter Synapse 1.163 reads (synapse/config/ratelimiting.py), relaxed.
# `rc_federation` is irrelevant here: federation is off.
RELAXED_RATELIMITS: dict[str, Any] = {
    "rc_message": _RELAXED,
    "rc_registration": _RELAXED,
    "rc_registration_token_validity": _RELAXED,
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_admin_redaction": _RELAXED,
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_joins_per_room": _RELAXED,
    "rc_key_requests": _RELAXED,
    "rc_3pid_validation": _RELAXED,
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_third_party_invite": _RELAXED,
    "rc_media_create": _RELAXED,
    "rc_presence": {"per_user": _RELAXED},
    "rc_delayed_event_mgmt": _RELAXED,
    "rc_room_creation": _RELAXED,
    "rc_reports": _RELAXED,
    "rc_user_directory": _RELAXED,
    "rc_profile": _RELAXED,
}

_LOG_CONFIG = """\
version: 1
disable_existing_loggers: false
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
filters:
  context:
    (): synapse.logging.context.LoggingContextFilter
    request: ""
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {log_file}
    filters: [context]
root:
  level: WARNING
  handlers: [file]
"""


class HomeserverError(RuntimeError):
    """Synapse could not be set up, started or called; the message holds the log tail."""


@dataclass(frozen=True)
class Account:
    """A registered user with its own device and access token."""

    user_id: str
    access_token: str
    device_id: str
    password: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


def synapse_python() -> Path:
    """The interpreter of Synapse's virtualenv (it may not exist: callers check)."""
    configured = os.environ.get("SYNAPSE_PYTHON")
    return Path(configured) if configured else DEFAULT_SYNAPSE_PYTHON


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: get SIGKILLed if the spawning thread dies (Linux)."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Homeserver:
    """A Synapse process owned by the test suite (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        *,
        server_name: str = "localhost",
        ratelimits: RateLimits = "relaxed",
        python: Path | None = None,
        start_timeout: float = 60.0,
        new_session: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.server_name = server_name
        self.ratelimits = ratelimits
        self.python = python or synapse_python()
        self.start_timeout = start_timeout
        # Its own session: a terminal's Ctrl-C reaches only the owner, which stops the
        # processes it started in order (the demo: bot first, then the homeserver).
        self.new_session = new_session
        self.config_path = self.directory / "homeserver.yaml"
        self.log_path = self.directory / "homeserver.log"
        self.output_path = self.directory / "synapse.out"
        self._port: int | None = None
        self._shared_secret = secrets.token_hex(16)
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: Account | None = None
        self._t0 = 0.0
        self.last_start_seconds: float | None = None

    # -- lifecycle ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise HomeserverError("the homeserver has never been started: no port yet")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Write the config on first start, spawn Synapse and wait for /health = 200."""
        self._spawn()
        deadline = time.monotonic() + self.start_timeout
        while not self._healthy():
            self._check_alive_before(deadline)
            time.sleep(0.1)
        self._started()

    async def astart(self) -> None:
        """`start()` without blocking the event loop."""
        await asyncio.to_thread(self._prepare)
        self._spawn()
        deadline = time.monotonic() + self.start_timeout
        while not await asyncio.to_thread(self._healthy):
            self._check_alive_before(deadline)
            await asyncio.sleep(0.1)
        self._started()

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds. Idempotent."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    async def astop(self, grace: float = 15.0) -> None:
        await asyncio.to_thread(self.stop, grace)

    def restart(self) -> None:
        """Stop and start again: same port, same data, same users and tokens."""
        self.stop()
        self.start()

    async def arestart(self) -> None:
        await self.astop()
        await self.astart()

    def __enter__(self) -> Homeserver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Synapse's log and of its raw stdout/stderr."""
        parts = []
        for path in (self.log_path, self.output_path):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(no log written)"

    def _prepare(self) -> None:
        if not self.python.exists():
            raise HomeserverError(
                f"no Synapse interpreter at {self.python}: run `make integration`, or set "
                "SYNAPSE_PYTHON to the python of a virtualenv with matrix-synapse installed"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._port is None:
            self._port = free_port()
        if not self.config_path.exists():
            self._write_config()
        if not (self.directory / "signing.key").exists():
            self._generate_keys()

    def _spawn(self) -> None:
        if self.running:
            raise HomeserverError(f"already running at {self.url}")
        self._prepare()
        self._t0 = time.monotonic()
        with self.output_path.open("ab") as output:
            self._process = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Dies with pytest even if pytest is SIGKILLed. The signal follows the
                # spawning *thread*, hence only from the main thread.
                preexec_fn=_die_with_parent
                if sys.platform == "linux" and threading.current_thread() is threading.main_thread()
                else None,
                start_new_session=self.new_session,
            )

    def _check_alive_before(self, deadline: float) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            self._process = None
            raise HomeserverError(f"Synapse exited during start-up\n{self.log_tail()}")
        if time.monotonic() > deadline:
            self.stop()
            raise HomeserverError(
                f"Synapse not healthy after {self.start_timeout:.0f} s\n{self.log_tail()}"
            )

    def _started(self) -> None:
        self.last_start_seconds = time.monotonic() - self._t0

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _write_config(self) -> None:
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "public_baseurl": f"http://127.0.0.1:{self.port}/",
            "pid_file": str(self.directory / "homeserver.pid"),
            "report_stats": False,
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.directory / "homeserver.db")},
            },
            "media_store_path": str(self.directory / "media_store"),
            "signing_key_path": str(self.directory / "signing.key"),
            "log_config": str(self.directory / "log.yaml"),
            "registration_shared_secret": self._shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "enable_registration": False,
            # Password hashing dominates registration time at the default 12 rounds.
            "bcrypt_rounds": 4,
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "enable_metrics": False,
            "url_preview_enabled": False,
        }
        if self.ratelimits == "relaxed":
            config.update(RELAXED_RATELIMITS)
        elif self.ratelimits != "default":
            raise ValueError(f"ratelimits must be 'relaxed' or 'default', not {self.ratelimits!r}")
        (self.directory / "log.yaml").write_text(
            _LOG_CONFIG.format(log_file=json.dumps(str(self.log_path)))
        )
        # JSON is YAML: no YAML library needed in the test environment for this.
        self.config_path.write_text(json.dumps(config, indent=2))

    def _generate_keys(self) -> None:
        result = subprocess.run(
            [
                str(self.python),
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.config_path),
                "--generate-keys",
            ],
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise HomeserverError(
                f"signing key generation failed ({result.returncode})\n"
                f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )

    # -- HTTP -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        access_token: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """One JSON request to the homeserver; raises `HomeserverError` unless 2xx."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if access_token:
            request.add_header("Authorization", f"Bearer {access_token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload: dict[str, Any] = json.loads(response.read() or b"{}")
                return payload
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise HomeserverError(f"{method} {path} -> {error.code}: {detail}") from error

    # -- users ----------------------------------------------------------------------

    def register(
        self,
        localpart: str,
        password: str | None = None,
        admin: bool = False,
        displayname: str | None = None,
    ) -> Account:
        """Create a user (and its first device) with the shared-secret admin API."""
        password = password or secrets.token_urlsafe(12)
        path = "/_synapse/admin/v1/register"
        nonce = str(self.request("GET", path)["nonce"])
        mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        reply = self.request(
            "POST",
            path,
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
                **({"displayname": displayname} if displayname else {}),
            },
        )
        return Account(
            user_id=str(reply["user_id"]),
            access_token=str(reply["access_token"]),
            device_id=str(reply["device_id"]),
            password=password,
        )

    async def aregister(
        self,
        localpart: str,
        password: str | None = None,
        admin: bool = False,
        displayname: str | None = None,
    ) -> Account:
        return await asyncio.to_thread(self.register, localpart, password, admin, displayname)

    @property
    def admin(self) -> Account:
        """A server admin created on first use (`harness-admin`)."""
        if self._admin is None:
            self._admin = self.register("harness-admin", admin=True)
        return self._admin

    @property
    def admin_token(self) -> str:
        return self.admin.access_token

    def override_ratelimit(
        self, user_id: str, messages_per_second: float = 0, burst_count: int = 0
    ) -> None:
        """Exempt one user from message rate limits (0/0 means unlimited)."""
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit",
            {"messages_per_second": messages_per_second, "burst_count": burst_count},
            access_token=self.admin_token,
        )

    async def aoverride_ratelimit(
        self, user_id: str, messages_per_second: float = 0, burst_count: int = 0
    ) -> None:
        await asyncio.to_thread(self.override_ratelimit, user_id, messages_per_second, burst_count)
