"""Client-server API calls nio has no method for (cross-signing, UIA), through nio's session.

They go through ``AsyncClient.send``, so they use the same HTTP session, proxy, TLS
settings and timeouts as every other request of the bot. The response is returned as is
(status and JSON body): the callers decide what a refusal means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nio import AsyncClient


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def errcode(self) -> str | None:
        code = self.body.get("errcode")
        return code if isinstance(code, str) else None

    def describe(self) -> str:
        """For a log line: the status and the Matrix error, never the request's content."""
        error = self.body.get("error")
        detail = f" {self.errcode}: {str(error)[:200]}" if self.errcode else ""
        return f"HTTP {self.status}{detail}"


async def call(
    client: AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> ApiResult:
    """``method path`` with the client's access token; network errors propagate."""
    headers = {"Content-Type": "application/json"}
    if client.access_token:
        headers["Authorization"] = f"Bearer {client.access_token}"
    if client.config.custom_headers:
        headers.update(client.config.custom_headers)
    data = None if body is None else json.dumps(body)
    response = await client.send(method, path, data, headers)
    async with response:
        try:
            payload = await response.json(content_type=None)
        except (ValueError, UnicodeDecodeError):
            payload = {}  # a proxy's HTML page: the status says enough
    return ApiResult(response.status, payload if isinstance(payload, dict) else {})
