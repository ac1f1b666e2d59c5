"""What a ministry's proxy or a load balancer does between the bot and the homeserver:
HTML error pages on sends and syncs, a 429 asking for an hour. Nothing is lost, nothing
answered twice, and /healthz says when replies no longer leave.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from .agents import answered_counts, collect_replies, replies_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .homeserver import Homeserver
from .ops_support import base_url, health_settings, http_get, wait_for_status
from .proxy import RecordingProxy


@pytest.fixture
async def proxy(homeserver: Homeserver) -> AsyncIterator[RecordingProxy]:
    recording = RecordingProxy(homeserver.url)
    await recording.start()
    try:
        yield recording
    finally:
        await recording.stop()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("status", [403, 413, 502])
async def test_proxy_pages_on_sends_delay_the_answer_never_drop_it(
    proxy: RecordingProxy, make_agent: AgentFactory, start_bot: BotFactory, status: int
) -> None:
    bot = await start_bot(matrix={"homeserver": proxy.url}, behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    proxy.inject("PUT", "/send/", status, times=2)
    question = await send_text(agent, room_id, "visio à 12 ?")
    await collect_replies(agent, room_id, 30, replies_to(question), after=question)
    assert [e.status for e in proxy.sends()][:3] == [status, status, 200]
    assert (await answered_counts(agent, room_id))[question] == 1


@pytest.mark.timeout(60)
async def test_a_huge_retry_after_is_capped(
    proxy: RecordingProxy, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(
        matrix={"homeserver": proxy.url, "max_retry_after": "3s"},
        behaviour={"greet_on_join": False},
    )
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    hour = json.dumps(
        {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 3_600_000}
    )
    proxy.inject("PUT", "/send/", 429, hour, content_type="application/json")
    asked = time.monotonic()
    question = await send_text(agent, room_id, "zoom c'est autorisé ?")
    await collect_replies(agent, room_id, 30, replies_to(question), after=question)
    assert time.monotonic() - asked < 20  # waited the cap, not the hour


@pytest.mark.timeout(60)
async def test_a_401_page_on_sync_is_a_network_fault_not_an_exit(
    proxy: RecordingProxy, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(matrix={"homeserver": proxy.url}, behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    proxy.inject("GET", "/sync", 401, times=2)
    await asyncio.sleep(12)  # the bot's long poll ends (sync.timeout 10 s) and hits the page
    assert bot.running, bot.log_since_start()[-2000:]
    question = await send_text(agent, room_id, "fusionner appels android")
    await collect_replies(agent, room_id, 30, replies_to(question), after=question)
    assert any(e.status == 401 for e in proxy.exchanges)


@pytest.mark.timeout(90)
async def test_healthz_fails_while_replies_do_not_leave_and_recovers(
    proxy: RecordingProxy, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(
        matrix={"homeserver": proxy.url},
        behaviour={"greet_on_join": False},
        sync={"timeout": "2s"},  # syncs stay fresh: only the replies are stuck
        ops={"health": health_settings(max_sync_age=8, startup_grace=8)},
    )
    url = base_url(bot) + "/healthz"
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    fault = proxy.inject("PUT", "/send/", 503, times=-1)
    question = await send_text(agent, room_id, "visio à 12 ?")
    _, reason = await wait_for_status(url, 503, timeout=30)
    assert "aucune envoyée depuis" in reason  # the syncs still succeed meanwhile
    fault.times = 0  # the proxy recovers
    await collect_replies(agent, room_id, 60, replies_to(question), after=question)
    await wait_for_status(url, 200, timeout=10)
    assert (await http_get(url))[0] == 200
