"""Health, readiness and metrics endpoints, on a real server bound to 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.config import HealthSettings
from bot.ops.health import BotStatus, HealthServer, health_verdict, ready_verdict
from bot.ops.metrics import Metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def status(clock: Clock) -> BotStatus:
    return BotStatus(clock=clock)


@pytest.fixture
async def server(status: BotStatus) -> AsyncIterator[HealthServer]:
    settings = HealthSettings(host="127.0.0.1", port=0, max_sync_age=60, startup_grace=30)
    srv = HealthServer(status, Metrics(), settings)
    await srv.start()
    yield srv
    await srv.stop()


async def get(server: HealthServer, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


async def test_healthz_flips_to_503_when_the_last_sync_is_too_old(
    server: HealthServer, status: BotStatus, clock: Clock
) -> None:
    status.record_sync_ok()
    code, _, body = await get(server, "/healthz")
    assert code == 200 and body.startswith("ok")

    clock.now += 59
    assert (await get(server, "/healthz"))[0] == 200
    clock.now += 2
    code, _, body = await get(server, "/healthz")
    assert code == 503
    assert body == "dernière synchronisation réussie il y a 61 s (limite 60 s)\n"

    status.record_sync_ok()  # the sync loop recovered
    assert (await get(server, "/healthz"))[0] == 200


async def test_healthz_before_the_first_sync_uses_the_grace_period(
    server: HealthServer, clock: Clock
) -> None:
    code, _, body = await get(server, "/healthz")
    assert code == 200 and body.startswith("démarrage")
    clock.now += 31
    code, _, body = await get(server, "/healthz")
    assert code == 503 and "aucune synchronisation réussie depuis le démarrage" in body


async def test_readyz_waits_for_login_first_sync_and_knowledge(
    server: HealthServer, status: BotStatus
) -> None:
    code, _, body = await get(server, "/readyz")
    assert code == 503
    assert body == (
        "en attente : connexion, première synchronisation, connaissances, signature de l'appareil\n"
    )
    status.logged_in = True
    status.knowledge_loaded = True
    status.record_identity(True, None)
    assert (await get(server, "/readyz"))[2] == "en attente : première synchronisation\n"
    status.record_sync_ok()
    assert await get(server, "/readyz") == (200, "text/plain; charset=utf-8", "prêt\n")


async def test_readyz_says_why_a_device_that_is_not_cross_signed_is_not_ready(
    server: HealthServer, status: BotStatus
) -> None:
    status.logged_in = status.knowledge_loaded = True
    status.record_sync_ok()
    status.record_identity(False, "clé maîtresse du compte non détenue")
    code, _, body = await get(server, "/readyz")
    assert code == 503
    assert "non signé" in body and "clé maîtresse du compte non détenue" in body
    assert "tchap-bot identity status" in body
    assert (await get(server, "/healthz"))[0] == 200  # alive: no restart loop for this


async def test_metrics_shows_counts_after_recording(server: HealthServer) -> None:
    m = server.metrics
    m.record_reply("need:web_conference", latency=0.012)
    m.record_reply("need:web_conference", latency=0.3)
    m.record_reply("tool:zoom", latency=0.02)
    m.record_reply("none", latency=0.004)
    m.record_reply("clarify")
    m.record_sync_error("network")
    m.record_sync_error("weird")  # folded onto "other"
    m.record_reload(ok=True)
    m.record_reload(ok=False)
    m.record_undecryptable()
    m.set_rooms_joined(7)
    m.record_feedback("tool:zoom", "down")
    m.record_sync_ok()

    code, content_type, body = await get(server, "/metrics")

    assert code == 200 and content_type.startswith("text/plain")
    lines = set(body.splitlines())
    for expected in [
        "tchapbot_questions_total 5.0",
        'tchapbot_answers_total{subject="need:web_conference"} 2.0',
        'tchapbot_answers_total{subject="tool:zoom"} 1.0',
        "tchapbot_out_of_scope_total 1.0",
        "tchapbot_clarifications_total 1.0",
        'tchapbot_reply_latency_seconds_bucket{le="0.005"} 1.0',
        'tchapbot_reply_latency_seconds_bucket{le="0.025"} 3.0',
        'tchapbot_reply_latency_seconds_bucket{le="10.0"} 4.0',
        "tchapbot_reply_latency_seconds_count 4.0",
        'tchapbot_sync_errors_total{kind="network"} 1.0',
        'tchapbot_sync_errors_total{kind="other"} 1.0',
        'tchapbot_reloads_total{outcome="ok"} 1.0',
        'tchapbot_reloads_total{outcome="error"} 1.0',
        "tchapbot_undecryptable_total 1.0",
        "tchapbot_rooms_joined 7.0",
        'tchapbot_feedback_total{subject="tool:zoom",vote="down"} 1.0',
    ]:
        assert expected in lines, expected
    (last_sync,) = [x for x in lines if x.startswith("tchapbot_last_sync_success_timestamp")]
    assert float(last_sync.split()[1]) > 1.7e9  # a Unix time, not the initial 0


def test_each_metrics_object_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.record_reply("help")
    assert b"tchapbot_questions_total 0.0" in b.render()
    snap = a.snapshot()
    assert (snap.questions, snap.answers, snap.reloads) == (1, {"help": 1}, {"ok": 0, "error": 0})


def test_verdicts_without_a_server(clock: Clock) -> None:
    status = BotStatus(clock=clock)
    assert health_verdict(status, max_sync_age=10, startup_grace=0).status == 200
    clock.now += 1
    assert health_verdict(status, max_sync_age=10, startup_grace=0).status == 503
    assert not ready_verdict(status).ok


async def test_start_refuses_a_port_in_use_and_stop_is_idempotent(
    server: HealthServer, status: BotStatus
) -> None:
    assert server.port
    other = HealthServer(status, Metrics(), HealthSettings(port=server.port))
    with pytest.raises(OSError):
        await other.start()
    await other.stop()
    await other.stop()


def test_healthz_fails_when_replies_wait_without_one_leaving(clock: Clock) -> None:
    status = BotStatus(clock=clock)
    status.record_sync_ok()
    stalled: list[float | None] = [None]
    status.replies_stalled_since = lambda: stalled[0]
    assert health_verdict(status, max_sync_age=60, startup_grace=0).ok  # nothing waits
    stalled[0] = clock.now
    clock.now += 61
    status.record_sync_ok()  # syncing fine, but the replies do not leave
    verdict = health_verdict(status, max_sync_age=60, startup_grace=0)
    assert not verdict.ok and "aucune envoyée depuis 61 s" in verdict.reason
    stalled[0] = clock.now  # one was sent
    assert health_verdict(status, max_sync_age=60, startup_grace=0).ok
