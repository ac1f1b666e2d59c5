"""Logging in: access token (preferred) or password, device kept across restarts.

The session (user id, device id, and the access token obtained by a password login) is
kept in ``<data_dir>/session.json`` (mode 600), so a restart reuses the same device and
its crypto store. ``whoami`` checks the token at every start. Refused credentials raise
``FatalAuthError`` with a message for the operator: no retry loop. An unreachable
homeserver (network error, timeout, 5xx, 429) is not fatal: login and ``whoami`` are
retried until it answers, with the sync loop's backoff (``sync.backoff_*``), so a bot
started during an outage (a reboot) comes up when the homeserver does. The caller stops
the wait by cancelling (SIGTERM).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

from nio import AsyncClient, LoginError, LoginResponse, WhoamiResponse

from bot.config import Config
from bot.matrix import crypto, store_generation
from bot.matrix.backoff import Backoff
from bot.matrix.errors import FatalAuthError, auth_message
from bot.matrix.raw_api import call
from bot.matrix.retry import Retry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedSession:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str | None = None  # only when obtained by a password login

    def __repr__(self) -> str:
        return f"SavedSession({self.user_id}, device {self.device_id})"


def session_path(config: Config) -> Path:
    return config.data_dir / "session.json"


def load_saved(path: Path) -> SavedSession | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SavedSession(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable session file %s: %s", path, exc)
        return None


def save(path: Path, session: SavedSession) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(session), handle)
    os.replace(tmp, path)


async def open_session(
    client: AsyncClient,
    config: Config,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SavedSession:
    """Authenticate ``client``, load its crypto store, and return the session in use."""
    path = session_path(config)
    backoff = Backoff(config.sync.backoff_initial, config.sync.backoff_max)
    saved = load_saved(path)
    if saved is not None and (
        saved.user_id != config.matrix.user_id or saved.homeserver != config.matrix.homeserver
    ):
        log.warning("the saved session is for another account or server; starting afresh")
        saved = None

    token = config.secrets.access_token
    if token is None and saved is not None and saved.access_token:
        token = saved.access_token  # from an earlier password login
    session: SavedSession | None = None
    if token is not None:
        try:
            session = await _with_token(
                client, config, token, saved, Retry(backoff, sleep, config.matrix.max_retry_after)
            )
        except FatalAuthError:
            if config.secrets.access_token is not None or config.secrets.password is None:
                raise
            log.info("the saved access token is no longer valid; logging in with the password")
    if session is None:
        session = await _with_password(
            client, config, saved, Retry(backoff, sleep, config.matrix.max_retry_after)
        )

    session = await _unless_stale(
        client, config, session, Retry(backoff, sleep, config.matrix.max_retry_after)
    )
    client.restore_login(session.user_id, session.device_id, client.access_token)
    if saved != session:
        save(path, session)
    log.info("logged in as %s, device %s", session.user_id, session.device_id)
    return session


async def _unless_stale(
    client: AsyncClient, config: Config, session: SavedSession, retry: Retry
) -> SavedSession:
    """Never load a crypto store that went back in time (``store_generation``): with a
    password, put it aside and log in as a new device (signed at start with the kept
    identity); without one, stop with what to do."""
    store = crypto.store_dir(config)
    server = await store_generation.read_server(client, session.user_id)
    if not store_generation.is_stale(store_generation.read_local(store), server, session.device_id):
        return session
    what = (
        f"the encryption store {store} is older than device {session.device_id}'s last use "
        "(restored from a backup?): using it would leave agents' messages unreadable"
    )
    if config.secrets.password is None:
        raise store_generation.StaleStoreError(
            f"{what}. Move {store} and {session_path(config)} aside and give the bot a new "
            "access token (a new device, signed at start with the kept identity)"
        )
    aside = store.with_name(f"{store.name}.stale-{int(time.time())}")
    store.rename(aside)
    store.mkdir(mode=0o700)
    log.error("%s: moved to %s; logging in as a new device", what, aside)
    return await _with_password(client, config, None, retry)


async def log_in_again(
    client: AsyncClient,
    config: Config,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The homeserver dropped the access token while running (``M_UNKNOWN_TOKEN``, soft
    logout): with a password configured, log in once more on the same device (its
    crypto store stays valid) and save the new token. ``FatalAuthError`` otherwise."""
    if config.secrets.password is None:
        raise FatalAuthError("the access token is no longer valid and no password is set")
    saved = load_saved(session_path(config))
    backoff = Backoff(config.sync.backoff_initial, config.sync.backoff_max)
    retry = Retry(backoff, sleep, config.matrix.max_retry_after)
    session = await _with_password(client, config, saved, retry)
    if saved is not None and session.device_id != saved.device_id:
        # A new device would need a new crypto store: not something to do under a running
        # bot. Stop; the next start uses the new session (and signs the new device).
        save(session_path(config), session)
        raise FatalAuthError("logged in again, but on a new device: restart the bot")
    client.access_token = session.access_token
    save(session_path(config), session)
    log.info("logged in again with the password, device %s", session.device_id)


async def _with_token(
    client: AsyncClient,
    config: Config,
    token: str,
    saved: SavedSession | None,
    retry: Retry,
) -> SavedSession:
    client.access_token = token
    response = await retry(client.whoami, "whoami")
    if not isinstance(response, WhoamiResponse):
        raise FatalAuthError(f"whoami failed: {auth_message(response)}")
    if response.user_id != config.matrix.user_id:
        raise FatalAuthError(
            f"the access token belongs to {response.user_id}, "
            f"but matrix.user_id is {config.matrix.user_id}"
        )
    device_id = response.device_id or (saved.device_id if saved else None)
    if not device_id:
        raise FatalAuthError("the homeserver did not tell the device of this access token")
    if saved is not None and saved.device_id != device_id:
        log.warning(
            "new device %s (was %s): a new crypto store is started", device_id, saved.device_id
        )
    keep = token if config.secrets.access_token is None else None  # never copy a given token
    return SavedSession(config.matrix.homeserver, response.user_id, device_id, keep)


async def _login(
    client: AsyncClient, config: Config, password: str, device_id: str | None
) -> LoginResponse | LoginError:
    """``POST /login`` without nio's ``login()``, which loads the crypto store at once:
    the store must not be loaded before it is known not to be stale."""
    body: dict[str, object] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": config.matrix.user_id},
        "password": password,
        "initial_device_display_name": config.matrix.device_name,
    }
    if device_id:
        body["device_id"] = device_id
    token, client.access_token = client.access_token, ""  # /login takes no token
    try:
        result = await call(client, "POST", "/_matrix/client/v3/login", body)
    finally:
        client.access_token = token
    if result.ok:
        response = LoginResponse.from_dict(result.body)
        if isinstance(response, LoginResponse):
            return response
    error = LoginError.from_dict(result.body)
    error.transport_response = SimpleNamespace(status=result.status)
    return error


async def _with_password(
    client: AsyncClient,
    config: Config,
    saved: SavedSession | None,
    retry: Retry,
) -> SavedSession:
    password = config.secrets.password
    if password is None:
        raise FatalAuthError("no valid access token and no password to log in with")
    device_id = saved.device_id if saved else None  # reuse the device and its keys
    response = await retry(lambda: _login(client, config, password, device_id), "login")
    if not isinstance(response, LoginResponse):
        code = getattr(response, "status_code", None)
        if code == "M_FORBIDDEN":
            raise FatalAuthError(f"wrong user id or password (M_FORBIDDEN: {response.message})")
        raise FatalAuthError(f"login failed: {auth_message(response)}")
    client.access_token = response.access_token
    return SavedSession(
        config.matrix.homeserver, response.user_id, response.device_id, response.access_token
    )
