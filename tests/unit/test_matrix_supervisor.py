"""The sync loop: backoff, retry_after, refused tokens (fatal, or one login again), stop."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from nio import AsyncClient, SyncError, SyncResponse

from bot.config import SyncConfig
from bot.matrix.callbacks import Router
from bot.matrix.errors import FatalAuthError
from bot.matrix.state import Checkpoint
from bot.matrix.supervisor import Supervisor

SETTINGS = SyncConfig(timeout=30, timeline_limit=100, backoff_initial=1.0, backoff_max=60.0)


def ok(token: str) -> SyncResponse:
    response = SyncResponse.from_dict({"next_batch": token, "rooms": {}})
    assert isinstance(response, SyncResponse)
    return response


def error(status: int, errcode: str | None = None, **extra: Any) -> SyncError:
    body = {"errcode": errcode, "error": "x", **extra} if errcode else {}
    response = SyncError.from_dict(body)
    response.transport_response = SimpleNamespace(status=status)  # type: ignore[assignment]
    return response


class Client:
    """A homeserver answering /sync from a script; then the supervisor is stopped."""

    should_upload_keys = should_query_keys = should_claim_keys = False

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.sinces: list[str | None] = []
        self.supervisor: Supervisor | None = None

    async def sync(self, *, since: str | None = None, **_: Any) -> object:
        if not self.answers:  # the script is over: stop, abandoning this long poll
            assert self.supervisor is not None
            self.supervisor.stop()
            await asyncio.Event().wait()
        self.sinces.append(since)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def send_to_device_messages(self) -> None:
        pass


class RecordingRouter:
    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def handle_sync(self, response: SyncResponse, batch: int, **_: Any) -> None:
        self.tokens.append(response.next_batch)


def supervisor(
    client: Client, sleeps: list[float], **kwargs: Any
) -> tuple[Supervisor, RecordingRouter, list[str]]:
    router = RecordingRouter()
    saved: list[str] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    sup = Supervisor(
        cast(AsyncClient, client),
        SETTINGS,
        router=cast(Router, router),
        checkpoint=Checkpoint(saved.append),
        crypto_lock=asyncio.Lock(),
        start_token="s0",
        sleep=sleep,
        **kwargs,
    )
    client.supervisor = sup
    return sup, router, saved


async def test_network_errors_and_5xx_back_off_exponentially_then_recover() -> None:
    sleeps: list[float] = []
    client = Client(
        OSError("down"), error(502), TimeoutError(), error(503, "M_UNKNOWN"), ok("s1"), ok("s2")
    )
    sup, router, saved = supervisor(client, sleeps)
    await asyncio.wait_for(sup.run(), 5)
    assert router.tokens == ["s1", "s2"] and saved == ["s1", "s2"]
    assert client.sinces == ["s0"] * 5 + ["s1"]  # the position only moves on success
    assert len(sleeps) == 4 and sleeps[2] > sleeps[0] and sleeps[3] > sleeps[1]
    assert all(s <= SETTINGS.backoff_max for s in sleeps)


async def test_retry_after_is_honoured_and_capped() -> None:
    sleeps: list[float] = []
    client = Client(
        error(429, "M_LIMIT_EXCEEDED", retry_after_ms=2500),
        error(429, "M_LIMIT_EXCEEDED", retry_after_ms=3_600_000),
        ok("s1"),
    )
    sup, router, _ = supervisor(client, sleeps)
    await asyncio.wait_for(sup.run(), 5)
    assert sleeps == [2.5, SETTINGS.backoff_max] and router.tokens == ["s1"]


async def test_a_refused_token_is_fatal_without_a_password() -> None:
    client = Client(error(401, "M_UNKNOWN_TOKEN"))
    sup, router, _ = supervisor(client, [])
    with pytest.raises(FatalAuthError, match="M_UNKNOWN_TOKEN"):
        await asyncio.wait_for(sup.run(), 5)
    assert router.tokens == []


async def test_a_401_page_without_a_matrix_error_is_a_network_fault() -> None:
    sleeps: list[float] = []
    client = Client(error(401), ok("s1"))
    sup, router, _ = supervisor(client, sleeps)
    await asyncio.wait_for(sup.run(), 5)
    assert router.tokens == ["s1"] and len(sleeps) == 1


async def test_with_a_password_the_bot_logs_in_once_more_then_a_second_refusal_is_fatal() -> None:
    logins: list[int] = []

    async def log_in_again() -> None:
        logins.append(1)

    client = Client(error(401, "M_UNKNOWN_TOKEN", soft_logout=True), ok("s1"))
    sup, router, _ = supervisor(client, [], log_in_again=log_in_again)
    await asyncio.wait_for(sup.run(), 5)
    assert logins == [1] and router.tokens == ["s1"]

    client = Client(error(401, "M_UNKNOWN_TOKEN"), error(401, "M_UNKNOWN_TOKEN"))
    sup, router, _ = supervisor(client, [], log_in_again=log_in_again)
    with pytest.raises(FatalAuthError):
        await asyncio.wait_for(sup.run(), 5)
    assert logins == [1, 1] and router.tokens == []


async def test_stop_abandons_a_pending_long_poll() -> None:
    class Hanging(Client):
        async def sync(self, **_: Any) -> object:
            await asyncio.Event().wait()
            raise AssertionError

    client = Hanging()
    sup, _, _ = supervisor(client, [])
    task = asyncio.create_task(sup.run())
    await asyncio.sleep(0.01)
    sup.stop()
    await asyncio.wait_for(task, 1)  # returns, no exception
