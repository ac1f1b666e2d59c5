"""A recording reverse proxy between the bot and Synapse, on 127.0.0.1.

By default it changes nothing: every request goes to the homeserver as sent and its
response comes back as received. It notes, for each request, when it arrived, when its
response left, its status and, for a 429, the `retry_after_ms` the homeserver asked for,
so a test can check what the bot did with real responses (e.g. no retry before the
delay). A test may also inject faults (`inject`): the next N requests matching a method
and a path fragment get a canned answer instead (a proxy's HTML page, a 429 asking for an
hour...), as the ministry's proxies and load balancers do.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aiohttp import ClientSession, ClientTimeout, web

from .homeserver import free_port

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    started: float  # time.monotonic() when the request arrived
    ended: float  # when its response was sent back
    status: int
    retry_after_ms: int | None


@dataclass
class Fault:
    method: str
    path_part: str
    status: int
    body: str
    content_type: str
    times: int  # how many matching requests it answers; -1: until removed

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and method == self.method and self.path_part in path


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.exchanges: list[Exchange] = []
        self.faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._session = ClientSession(timeout=ClientTimeout(total=None), auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def inject(
        self,
        method: str,
        path_part: str,
        status: int,
        body: str = "<html><body>Proxy error</body></html>",
        *,
        content_type: str = "text/html",
        times: int = 1,
    ) -> Fault:
        fault = Fault(method, path_part, status, body, content_type, times)
        self.faults.append(fault)
        return fault

    def sends(self) -> list[Exchange]:
        """Message sends (`PUT .../send/...`), in arrival order."""
        return [e for e in self.exchanges if e.method == "PUT" and "/send/" in e.path]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        started = time.monotonic()
        body = await request.read()
        for fault in self.faults:
            if fault.matches(request.method, request.path):
                fault.times -= 1 if fault.times > 0 else 0
                self.exchanges.append(
                    Exchange(
                        request.method, request.path, started, time.monotonic(), fault.status, None
                    )
                )
                return web.Response(
                    status=fault.status, text=fault.body, content_type=fault.content_type
                )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + request.rel_url.raw_path_qs,
            data=body or None,
            headers=headers,
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            out_headers = {
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP
            }
        retry_after = None
        if status == 429:
            try:
                retry_after = int(json.loads(payload).get("retry_after_ms"))
            except (ValueError, TypeError):
                retry_after = None
        response = web.Response(body=payload, status=status, headers=out_headers)
        self.exchanges.append(
            Exchange(request.method, request.path, started, time.monotonic(), status, retry_after)
        )
        return response
