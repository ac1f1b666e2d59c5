"""Health, readiness and metrics over HTTP, for systemd, Kubernetes and Prometheus.

The Matrix bot updates a :class:`BotStatus` (after login, after each successful sync,
once the knowledge is loaded); :class:`HealthServer` only reads it.

- ``/healthz``: 200 while the last successful sync is younger than ``max_sync_age`` and
  replies leave (none waiting longer than that without one being sent); before the first
  sync, 200 during ``startup_grace`` then 503. A stuck sync loop or sender thus fails the
  probe and the supervisor restarts the bot.
- ``/readyz``: 200 once logged in, first sync done, knowledge loaded and the bot's device
  cross-signed (503 with the reason while it is not: agents' clients would not read it).
- ``/metrics``: Prometheus text format.

Bound to 127.0.0.1 by default: nothing here is for the outside world.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.config import HealthSettings
from bot.ops.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)


@dataclass
class BotStatus:
    """What the bot reports about itself. Times are ``time.monotonic()`` values.

    Single writer (the bot's event loop); the health server reads it on the same loop.
    """

    clock: Callable[[], float] = time.monotonic
    started_at: float = field(default=0.0)
    logged_in: bool = False
    knowledge_loaded: bool = False
    last_sync_ok: float | None = None
    # While replies wait to be sent: the time of the last progress (Sender.stalled_since).
    replies_stalled_since: Callable[[], float | None] | None = None
    device_signed: bool = False  # cross-signed by the bot's identity (bot.matrix.identity)
    identity_problem: str | None = None  # why it is not, once checked

    def record_identity(self, signed: bool, problem: str | None) -> None:
        self.device_signed, self.identity_problem = signed, None if signed else problem

    def __post_init__(self) -> None:
        if not self.started_at:
            self.started_at = self.clock()

    def record_sync_ok(self) -> None:
        self.last_sync_ok = self.clock()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str

    @property
    def status(self) -> int:
        return 200 if self.ok else 503


def _seconds(value: float) -> str:
    return f"{value:.0f} s"


def health_verdict(status: BotStatus, max_sync_age: float, startup_grace: float) -> Verdict:
    now = status.clock()
    if status.last_sync_ok is None:
        waited = now - status.started_at
        if waited <= startup_grace:
            return Verdict(
                True, f"démarrage : première synchronisation attendue ({_seconds(waited)})"
            )
        return Verdict(
            False,
            f"aucune synchronisation réussie depuis le démarrage il y a {_seconds(waited)} "
            f"(délai de grâce {_seconds(startup_grace)})",
        )
    stalled = status.replies_stalled_since() if status.replies_stalled_since else None
    if stalled is not None and now - stalled > max_sync_age:
        # Syncing but not answering (a send stuck in retries): as dead for agents.
        return Verdict(
            False,
            f"réponses en attente, aucune envoyée depuis {_seconds(now - stalled)} "
            f"(limite {_seconds(max_sync_age)})",
        )
    age = now - status.last_sync_ok
    if age > max_sync_age:
        return Verdict(
            False,
            f"dernière synchronisation réussie il y a {_seconds(age)} "
            f"(limite {_seconds(max_sync_age)})",
        )
    return Verdict(True, f"ok : dernière synchronisation il y a {_seconds(age)}")


def ready_verdict(status: BotStatus) -> Verdict:
    missing = [
        label
        for done, label in (
            (status.logged_in, "connexion"),
            (status.last_sync_ok is not None, "première synchronisation"),
            (status.knowledge_loaded, "connaissances"),
            (status.device_signed or status.identity_problem, "signature de l'appareil"),
        )
        if not done
    ]
    if missing:
        return Verdict(False, "en attente : " + ", ".join(missing))
    if not status.device_signed:
        # Answering, but most agents cannot read it: not ready for them (issue of trust,
        # not of liveness: /healthz stays 200 so that no restart loop follows).
        return Verdict(
            False,
            f"appareil du bot non signé par son identité ({status.identity_problem}) : les "
            "clients qui excluent les appareils non sécurisés (Tchap, Element) ne lisent pas "
            "ses messages ; voir « tchap-bot identity status »",
        )
    return Verdict(True, "prêt")


class HealthServer:
    """Owns the HTTP server: ``await start()`` binds, ``await stop()`` releases the port."""

    def __init__(self, status: BotStatus, metrics: Metrics, settings: HealthSettings) -> None:
        self.status = status
        self.metrics = metrics
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the bound port (useful with port 0)

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        addresses = runner.addresses  # [(host, port, ...)] actually bound
        self.port = int(addresses[0][1]) if addresses else self.settings.port
        log.info("Health server on http://%s:%s", self.settings.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        verdict = health_verdict(
            self.status, self.settings.max_sync_age, self.settings.startup_grace
        )
        return web.Response(status=verdict.status, text=verdict.reason + "\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        verdict = ready_verdict(self.status)
        return web.Response(status=verdict.status, text=verdict.reason + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response
