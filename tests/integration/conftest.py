"""Fixtures for tests against a real Synapse (see homeserver.py and agents.py).

- `homeserver`: one Synapse for the whole session, relaxed rate limits.
- `make_agent`: `await make_agent("alice")` registers a fresh user on it (or on
  `server=`) and returns a connected E2EE `Agent`; all are closed after the test.
- `fresh_homeserver_factory`: `await fresh_homeserver_factory(ratelimits="default")`
  for a test that needs its own server (Tchap-like limits, restarts); stopped after it.
- `make_js_agent`: like `make_agent`, but an Element-family client (matrix-js-sdk with Rust
  crypto, cross-signed; see js_agent.py), optionally with its device isolation mode set.

Without a Synapse virtualenv these tests are skipped, except in CI (`CI` set) where
they fail: a CI run that silently skipped them would prove nothing. The same goes for
Node and the js agent's node_modules, for the tests that use `make_js_agent`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from .agents import Agent
from .homeserver import Homeserver, RateLimits, synapse_python
from .js_agent import IsolationMode, JsAgent, js_agent_problem

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


def require_synapse() -> Path:
    python = synapse_python()
    if not python.exists():
        message = (
            f"no Synapse interpreter at {python}: run `make integration`, or set "
            "SYNAPSE_PYTHON to the python of a virtualenv with matrix-synapse installed"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


def require_js_agent() -> None:
    problem = js_agent_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


def unique_localpart(prefix: str) -> str:
    return f"{prefix.lower()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    python = require_synapse()
    server = Homeserver(tmp_path_factory.mktemp("synapse"), ratelimits="relaxed", python=python)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class AgentFactory(Protocol):
    def __call__(
        self,
        prefix: str = "agent",
        *,
        server: Homeserver | None = None,
        displayname: str | None = None,
    ) -> Awaitable[Agent]: ...


@pytest.fixture
async def make_agent(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AgentFactory]:
    agents: list[Agent] = []

    async def factory(
        prefix: str = "agent",
        *,
        server: Homeserver | None = None,
        displayname: str | None = None,
    ) -> Agent:
        # The session server is started only if a test asks for an agent on it.
        target: Homeserver = server or request.getfixturevalue("homeserver")
        account = await target.aregister(unique_localpart(prefix), displayname=displayname)
        store = tmp_path / "stores" / f"{account.localpart}-{account.device_id}"
        agent = await Agent.connect(target.url, account, store)
        agents.append(agent)
        return agent

    try:
        yield factory
    finally:
        for agent in reversed(agents):
            await agent.close()


class JsAgentFactory(Protocol):
    def __call__(
        self,
        prefix: str = "element",
        *,
        server: Homeserver | None = None,
        displayname: str | None = None,
        isolation: IsolationMode | None = None,
    ) -> Awaitable[JsAgent]: ...


@pytest.fixture
async def make_js_agent(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[JsAgentFactory]:
    """`await make_js_agent("alice", isolation="exclude")`; `isolation=None` keeps the sdk's
    default (legacy: AllDevicesIsolationMode(false))."""
    require_js_agent()
    agents: list[JsAgent] = []

    async def factory(
        prefix: str = "element",
        *,
        server: Homeserver | None = None,
        displayname: str | None = None,
        isolation: IsolationMode | None = None,
    ) -> JsAgent:
        target: Homeserver = server or request.getfixturevalue("homeserver")
        account = await target.aregister(unique_localpart(prefix), displayname=displayname)
        workdir = tmp_path / "js-agents" / f"{account.localpart}-{account.device_id}"
        agent = await JsAgent.start(target.url, account, workdir)
        agents.append(agent)
        if isolation is not None:
            await agent.set_isolation(isolation)
        return agent

    try:
        yield factory
    finally:
        for agent in reversed(agents):
            await agent.close()


class HomeserverFactory(Protocol):
    def __call__(
        self, *, ratelimits: RateLimits = "default", server_name: str = "localhost"
    ) -> Awaitable[Homeserver]: ...


@pytest.fixture
async def fresh_homeserver_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[HomeserverFactory]:
    servers: list[Homeserver] = []

    async def factory(
        *, ratelimits: RateLimits = "default", server_name: str = "localhost"
    ) -> Homeserver:
        python = require_synapse()
        server = Homeserver(
            tmp_path_factory.mktemp("synapse-fresh"),
            server_name=server_name,
            ratelimits=ratelimits,
            python=python,
        )
        servers.append(server)
        await server.astart()
        return server

    try:
        yield factory
    finally:
        for server in servers:
            await server.astop()
