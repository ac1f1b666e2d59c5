"""Login: token checked by whoami, device kept, refused credentials stop with a reason, a
stale crypto store never loaded.

A real nio client, with its real crypto store (restore_login loads it), against a small
scripted homeserver on 127.0.0.1 (aiohttp): no Synapse needed for these rules.
"""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from nio import AsyncClient

from bot.config import Config, parse_config
from bot.matrix import crypto
from bot.matrix.errors import FatalAuthError
from bot.matrix.session import open_session, session_path
from bot.matrix.store_generation import (
    ACCOUNT_DATA_TYPE,
    Mark,
    StaleStoreError,
    StoreGeneration,
    read_local,
)

BOT = "@outils:hs.test"
KEY = "0123456789abcdef0123456789abcdef"
Reply = tuple[int, dict[str, Any]]


class Homeserver:
    """Answers from scripts: each list is popped, its last answer repeated."""

    def __init__(self) -> None:
        self.whoami: list[Reply | str] = [(200, {"user_id": BOT, "device_id": "DEV1"})]
        self.login: list[Reply | str] = [
            (200, {"user_id": BOT, "device_id": "DEV9", "access_token": "syt_obtained"})
        ]
        self.account_data: dict[str, Any] | None = None
        self.logins: list[dict[str, Any]] = []
        self.tokens: list[str] = []

    @staticmethod
    def _next(script: list[Reply | str]) -> Reply | str:
        return script.pop(0) if len(script) > 1 else script[0]

    async def _answer(self, script: list[Reply | str]) -> web.StreamResponse:
        answer = self._next(script)
        if answer == "page":  # an HTML error page, as a proxy or a load balancer sends
            return web.Response(status=503, text="<html>Service Unavailable</html>")
        status, body = answer  # type: ignore[misc]
        return web.json_response(body, status=status)

    async def handle_whoami(self, request: web.Request) -> web.StreamResponse:
        self.tokens.append(request.headers.get("Authorization", ""))
        return await self._answer(self.whoami)

    async def handle_login(self, request: web.Request) -> web.StreamResponse:
        self.logins.append(await request.json())
        return await self._answer(self.login)

    async def handle_account_data(self, request: web.Request) -> web.StreamResponse:
        if request.method == "PUT":
            self.account_data = await request.json()
            return web.json_response({})
        if self.account_data is None:
            return web.json_response({"errcode": "M_NOT_FOUND", "error": "none"}, status=404)
        return web.json_response(self.account_data)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Homeserver, str]]:
    hs = Homeserver()
    app = web.Application()
    app.router.add_get("/_matrix/client/v3/account/whoami", hs.handle_whoami)
    app.router.add_post("/_matrix/client/v3/login", hs.handle_login)
    app.router.add_route(
        "*", "/_matrix/client/v3/user/{user}/account_data/{type}", hs.handle_account_data
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield hs, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def config(tmp_path: Path, url: str, **env: str) -> Config:
    return parse_config(
        {"matrix": {"homeserver": url, "user_id": BOT}, "data_dir": str(tmp_path)},
        base_dir=tmp_path,
        environ={"TCHAP_BOT_PICKLE_KEY": KEY, **env},
    )


def client_for(cfg: Config) -> AsyncClient:
    crypto.store_dir(cfg).mkdir(parents=True, exist_ok=True)
    return AsyncClient(
        cfg.matrix.homeserver,
        cfg.matrix.user_id,
        store_path=str(crypto.store_dir(cfg)),
        config=crypto.client_config(cfg),
    )


async def no_sleep(_: float) -> None:
    pass


Opener = Callable[..., Any]


@pytest.fixture
async def opened() -> AsyncIterator[list[AsyncClient]]:
    clients: list[AsyncClient] = []
    yield clients
    for client in clients:
        await client.close()


async def open_with(cfg: Config, clients: list[AsyncClient], **kwargs: Any) -> Any:
    client = client_for(cfg)
    clients.append(client)
    session = await open_session(client, cfg, sleep=kwargs.pop("sleep", no_sleep))
    return client, session


async def test_token_login_keeps_the_device_and_never_copies_the_token(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    cfg = config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="syt_secret")
    client, session = await open_with(cfg, opened)
    assert (session.user_id, session.device_id) == (BOT, "DEV1")
    assert client.access_token == "syt_secret" and hs.tokens == ["Bearer syt_secret"]
    assert client.olm is not None  # the real store was loaded, for this device
    assert client.olm.device_id == "DEV1"
    saved = session_path(cfg)
    assert json.loads(saved.read_text())["access_token"] is None
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("errcode", "reason"),
    [
        ("M_UNKNOWN_TOKEN", "invalid or has been revoked"),
        ("ORG_MATRIX_EXPIRED_ACCOUNT", "expired and must be renewed"),
    ],
)
async def test_refused_token_stops_with_the_reason(
    tmp_path: Path,
    server: tuple[Homeserver, str],
    opened: list[AsyncClient],
    errcode: str,
    reason: str,
) -> None:
    hs, url = server
    hs.whoami = [(401, {"errcode": errcode, "error": "refused"})]
    with pytest.raises(FatalAuthError, match=reason):
        await open_with(config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="t"), opened)


async def test_token_of_another_account_is_refused(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    hs.whoami = [(200, {"user_id": "@other:hs.test", "device_id": "D"})]
    with pytest.raises(FatalAuthError, match=r"belongs to @other:hs\.test"):
        await open_with(config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="t"), opened)


async def test_wrong_password_stops(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    hs.login = [(403, {"errcode": "M_FORBIDDEN", "error": "Invalid password"})]
    with pytest.raises(FatalAuthError, match="wrong user id or password"):
        await open_with(config(tmp_path, url, TCHAP_BOT_PASSWORD="pw"), opened)


async def test_password_login_token_is_reused_then_the_device_on_relogin(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    cfg = config(tmp_path, url, TCHAP_BOT_PASSWORD="pw")
    _, first = await open_with(cfg, opened)
    assert first.device_id == "DEV9" and "device_id" not in hs.logins[0]
    # Next start: the saved token is still valid, no login.
    hs.whoami = [(200, {"user_id": BOT, "device_id": "DEV9"})]
    client, _ = await open_with(cfg, opened)
    assert len(hs.logins) == 1 and client.access_token == "syt_obtained"
    # Token revoked: log in again, on the same device (its keys are in the store).
    hs.whoami = [(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "gone"})]
    await open_with(cfg, opened)
    assert hs.logins[-1]["device_id"] == "DEV9"


async def test_an_unreachable_homeserver_at_start_is_waited_for_not_fatal(
    tmp_path: Path,
    server: tuple[Homeserver, str],
    opened: list[AsyncClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Proxy pages, 5xx and a 401 page without a Matrix error code: all retried, with a
    growing delay, until whoami answers."""
    hs, url = server
    hs.whoami = ["page"] * 8 + [(502, {"errcode": "M_UNKNOWN", "error": "bad gateway"})] * 3
    hs.whoami += [(401, {})]  # a proxy's 401 page: not a refused token
    hs.whoami += [(200, {"user_id": BOT, "device_id": "DEV1"})]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    cfg = config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="t")
    _, session = await open_with(cfg, opened, sleep=sleep)
    assert session.device_id == "DEV1" and len(sleeps) == 12
    assert sleeps[3] > sleeps[0] and max(sleeps) <= cfg.sync.backoff_max  # the sync's backoff
    assert "whoami:" in caplog.text and "retrying in" in caplog.text


async def test_a_refused_password_after_an_outage_is_still_fatal(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    hs.login = ["page"] * 3 + [(403, {"errcode": "M_FORBIDDEN", "error": "Invalid password"})]
    with pytest.raises(FatalAuthError, match="wrong user id or password"):
        await open_with(config(tmp_path, url, TCHAP_BOT_PASSWORD="pw"), opened)
    assert len(hs.logins) == 4


async def test_a_stale_store_is_never_loaded(
    tmp_path: Path, server: tuple[Homeserver, str], opened: list[AsyncClient]
) -> None:
    hs, url = server
    cfg = config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="t")
    client, _ = await open_with(cfg, opened)
    marks = StoreGeneration(client, crypto.store_dir(cfg))
    await marks.advance()
    assert hs.account_data == {"device_id": "DEV1", "generation": 1}
    hs.account_data = {"device_id": "DEV1", "generation": 5}  # used since this copy
    with pytest.raises(StaleStoreError, match="older than device DEV1's last use"):
        await open_with(cfg, opened)
    # With a password, the stale store is put aside, unopened, and a new device starts.
    cfg = config(tmp_path, url, TCHAP_BOT_ACCESS_TOKEN="t", TCHAP_BOT_PASSWORD="pw")
    client, session = await open_with(cfg, opened)
    assert session.device_id == "DEV9" and "device_id" not in hs.logins[-1]
    [aside] = [p for p in sorted(tmp_path.glob("crypto.stale-*"))]  # noqa: ASYNC240
    assert read_local(aside) == Mark("DEV1", 1)
    assert read_local(crypto.store_dir(cfg)) is None  # a new, empty store for DEV9
    assert ACCOUNT_DATA_TYPE.startswith("fr.gouv.tchap.")
