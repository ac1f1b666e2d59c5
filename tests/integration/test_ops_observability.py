"""Health, readiness, metrics and agents' feedback on a running bot."""

from __future__ import annotations

import asyncio

from nio import RoomRedactResponse

from .agents import (
    collect_replies,
    create_group_room,
    join_room,
    replies_to,
    send_text,
    wait_for_join,
)
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory, HomeserverFactory
from .cross_signing import cross_sign
from .ops_support import (
    ask,
    base_url,
    health_settings,
    http_get,
    metric,
    react,
    wait_for_status,
)


async def test_metrics_stats_and_feedback_after_traffic(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    admin, agent, colleague = (
        await make_agent("admin"),
        await make_agent("agent"),
        await make_agent("colleague"),
    )
    bot = await start_bot(
        behaviour={"greet_on_join": False},
        ops={"admins": [admin.user_id], "health": health_settings()},
    )
    await cross_sign(admin, bot.homeserver)  # admin commands need a verified device
    url = base_url(bot)
    assert (await http_get(url + "/readyz")) == (200, "prêt\n")
    admin_room, agent_room = await asyncio.gather(dm_with_bot(admin, bot), dm_with_bot(agent, bot))

    _, answer_id = await ask(agent, agent_room, "visio à 30 personnes")
    await ask(agent, agent_room, "bidulophone")  # out of scope
    await ask(agent, agent_room, "réunion")  # the bot asks which need

    # A 👍 (any skin tone) from the agent who asked counts once; the repeat changes nothing.
    await react(agent, agent_room, answer_id, "👍🏽")
    await react(agent, agent_room, answer_id, "👍")
    stats, _ = await ask(admin, admin_room, "!outils stats")
    assert "Questions : 3" in stats, stats
    assert "Réponses : 1 (need:web_conference 1)" in stats
    assert "Hors sujet : 1" in stats and "Demandes de précision : 1" in stats
    assert "Avis (👍 / 👎) : need:web_conference 1 / 0" in stats

    # In a group room, only the asker's vote counts; a withdrawn reaction is forgotten.
    group = await create_group_room(agent, [bot.user_id, colleague.user_id], name="Équipe")
    await join_room(colleague, group)
    await wait_for_join(agent, group, bot.user_id)
    question = await send_text(agent, group, "!outils partager un fichier à 10")
    [reply] = await collect_replies(agent, group, after=question, predicate=replies_to(question))
    await react(colleague, group, reply.event_id, "👎")
    down = await react(agent, group, reply.event_id, "👎")
    stats, _ = await ask(admin, admin_room, "!outils stats")
    subject = next(line.split(" : ")[1] for line in stats.splitlines() if line.startswith("- Avis"))
    assert subject.count("0 / 1") == 1, stats  # the agent's vote only
    assert isinstance(await agent.client.room_redact(group, down), RoomRedactResponse)
    stats, _ = await ask(admin, admin_room, "!outils stats")
    assert "0 / 1" not in stats, stats

    unanswered, _ = await ask(admin, admin_room, "!outils non-repondues")
    assert "« bidulophone » : 1 fois (hors sujet)" in unanswered
    assert "« réunion » : 1 fois (précision demandée)" in unanswered

    status, text = await http_get(url + "/metrics")
    assert status == 200
    assert metric(text, "tchapbot_questions_total") == 4
    assert metric(text, "tchapbot_answers_total", subject="need:web_conference") == 1
    assert metric(text, "tchapbot_out_of_scope_total") == 1
    assert metric(text, "tchapbot_clarifications_total") == 1
    assert metric(text, "tchapbot_reply_latency_seconds_count") == 4
    assert metric(text, "tchapbot_reply_latency_seconds_bucket", le="2.5") == 4
    assert metric(text, "tchapbot_feedback_total", subject="need:web_conference", vote="up") == 1
    assert metric(text, "tchapbot_rooms_joined") == 3
    assert metric(text, "tchapbot_reloads_total", outcome="error") == 0
    assert metric(text, "tchapbot_last_sync_success_timestamp_seconds") > 0


async def test_healthz_fails_when_sync_stops_and_recovers(
    fresh_homeserver_factory: HomeserverFactory, start_bot: BotFactory
) -> None:
    server = await fresh_homeserver_factory(ratelimits="relaxed")
    bot = await start_bot(
        server,
        sync={"timeout": "1s", "backoff_initial": 0.2, "backoff_max": 1},
        ops={"health": health_settings(max_sync_age=3)},
    )
    url = base_url(bot)
    assert (await http_get(url + "/healthz"))[0] == 200
    assert (await http_get(url + "/readyz"))[0] == 200

    await server.astop()
    waited, reason = await wait_for_status(url + "/healthz", 503, timeout=15)
    assert waited < 10, waited
    assert reason.startswith("dernière synchronisation réussie il y a"), reason
    _, text = await http_get(url + "/metrics")
    assert metric(text, "tchapbot_sync_errors_total", kind="network") > 0

    await server.astart()
    await wait_for_status(url + "/healthz", 200, timeout=20)
    assert bot.running
