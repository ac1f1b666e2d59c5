"""Login: token checked by whoami, device kept, refused credentials stop with a reason."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientConnectionError
from nio import AsyncClient, LoginError, LoginResponse, WhoamiError, WhoamiResponse

from bot.config import Config, parse_config
from bot.matrix.errors import FatalAuthError
from bot.matrix.session import open_session, session_path

BOT = "@outils:hs.test"
KEY = "0123456789abcdef0123456789abcdef"


def config(tmp_path: Path, **env: str) -> Config:
    return parse_config(
        {"matrix": {"homeserver": "https://hs.test", "user_id": BOT}, "data_dir": str(tmp_path)},
        base_dir=tmp_path,
        environ={"TCHAP_BOT_PICKLE_KEY": KEY, **env},
    )


class FakeClient(AsyncClient):  # type: ignore[misc]
    """A real nio client whose two auth requests are scripted."""

    def __init__(self, tmp_path: Path, whoami: Any = None, login: Any = None) -> None:
        super().__init__("https://hs.test", BOT, store_path=str(tmp_path))
        self._whoami, self._login = whoami, login
        self.logins: list[str | None] = []

    async def whoami(self) -> Any:
        return self._whoami

    async def login(
        self, password: str | None = None, device_name: str = "", token: Any = None
    ) -> Any:
        self.logins.append(self.device_id)
        return self._login

    def restore_login(self, user_id: str, device_id: str, access_token: str) -> None:
        self.user_id, self.device_id, self.access_token = user_id, device_id, access_token


async def no_sleep(_: float) -> None:
    pass


async def test_token_login_keeps_the_device_and_never_copies_the_token(tmp_path: Path) -> None:
    client = FakeClient(tmp_path, whoami=WhoamiResponse(BOT, "DEV1", False))
    cfg = config(tmp_path, TCHAP_BOT_ACCESS_TOKEN="syt_secret")
    session = await open_session(client, cfg, sleep=no_sleep)
    assert (session.user_id, session.device_id) == (BOT, "DEV1")
    assert client.access_token == "syt_secret"
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
    tmp_path: Path, errcode: str, reason: str
) -> None:
    error = WhoamiError.from_dict({"errcode": errcode, "error": "refused"})
    client = FakeClient(tmp_path, whoami=error)
    with pytest.raises(FatalAuthError, match=reason):
        await open_session(client, config(tmp_path, TCHAP_BOT_ACCESS_TOKEN="t"), sleep=no_sleep)


async def test_token_of_another_account_is_refused(tmp_path: Path) -> None:
    client = FakeClient(tmp_path, whoami=WhoamiResponse("@other:hs.test", "D", False))
    with pytest.raises(FatalAuthError, match=r"belongs to @other:hs\.test"):
        await open_session(client, config(tmp_path, TCHAP_BOT_ACCESS_TOKEN="t"), sleep=no_sleep)


async def test_wrong_password_stops(tmp_path: Path) -> None:
    error = LoginError.from_dict({"errcode": "M_FORBIDDEN", "error": "Invalid password"})
    client = FakeClient(tmp_path, login=error)
    with pytest.raises(FatalAuthError, match="wrong user id or password"):
        await open_session(client, config(tmp_path, TCHAP_BOT_PASSWORD="pw"), sleep=no_sleep)


async def test_password_login_token_is_reused_then_the_device_on_relogin(tmp_path: Path) -> None:
    cfg = config(tmp_path, TCHAP_BOT_PASSWORD="pw")
    first = FakeClient(tmp_path, login=LoginResponse(BOT, "DEV9", "syt_obtained"))
    await open_session(first, cfg, sleep=no_sleep)
    assert first.logins == [None]
    # Next start: the saved token is still valid, no login.
    second = FakeClient(tmp_path, whoami=WhoamiResponse(BOT, "DEV9", False))
    await open_session(second, cfg, sleep=no_sleep)
    assert second.logins == [] and second.access_token == "syt_obtained"
    # Token revoked: log in again, on the same device (its keys are in the store).
    revoked = WhoamiError.from_dict({"errcode": "M_UNKNOWN_TOKEN", "error": "gone"})
    third = FakeClient(tmp_path, whoami=revoked, login=LoginResponse(BOT, "DEV9", "syt_new"))
    await open_session(third, cfg, sleep=no_sleep)
    assert third.logins == ["DEV9"]


async def test_an_unreachable_homeserver_at_start_is_waited_for_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Network errors and 5xx, more than any fixed number of attempts: still retried, with
    a growing delay, until whoami answers."""
    answers: list[Any] = [ClientConnectionError("refused")] * 12
    answers += [WhoamiError.from_dict({"errcode": "M_UNKNOWN", "error": "bad gateway"})] * 3
    answers.append(WhoamiResponse(BOT, "DEV1", False))
    statuses = iter([None] * 12 + [502] * 3 + [200])

    class Flaky(FakeClient):
        async def whoami(self) -> Any:
            answer, status = answers.pop(0), next(statuses)
            if isinstance(answer, Exception):
                raise answer
            if status is not None and isinstance(answer, WhoamiError):
                answer.transport_response = SimpleNamespace(status=status)
            return answer

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    cfg = config(tmp_path, TCHAP_BOT_ACCESS_TOKEN="t")
    session = await open_session(Flaky(tmp_path), cfg, sleep=sleep)
    assert session.device_id == "DEV1" and answers == []
    assert len(sleeps) == 15
    assert sleeps[3] > sleeps[0] and max(sleeps) <= cfg.sync.backoff_max  # the sync's backoff
    assert "whoami: homeserver unreachable" in caplog.text and "retrying in" in caplog.text


async def test_a_refused_password_after_an_outage_is_still_fatal(tmp_path: Path) -> None:
    class DownThenRefused(FakeClient):
        calls = 0

        async def login(self, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls < 4:
                raise ClientConnectionError("refused")
            return LoginError.from_dict({"errcode": "M_FORBIDDEN", "error": "Invalid password"})

    client = DownThenRefused(tmp_path)
    with pytest.raises(FatalAuthError, match="wrong user id or password"):
        await open_session(client, config(tmp_path, TCHAP_BOT_PASSWORD="pw"), sleep=no_sleep)
    assert client.calls == 4
