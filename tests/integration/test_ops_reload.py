"""Knowledge reloads on a running bot: admin command, refusal, errors located, SIGHUP,
dated entries."""

from __future__ import annotations

import asyncio
import signal
from datetime import date, timedelta
from pathlib import Path

from .agents import Agent
from .botproc import BotFactory, BotProcess, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .cross_signing import cross_sign
from .ops_support import ask, copy_knowledge, edit

NEW_PHRASING = "bidulophone"  # a word no knowledge file knows
OUT_OF_SCOPE = "Je ne peux pas vous aider sur ce sujet"


async def start(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> tuple[Path, BotProcess, tuple[Agent, str], tuple[Agent, str]]:
    """A bot on a copy of the knowledge; an admin and an agent, each in a DM with it."""
    knowledge = copy_knowledge(tmp_path)
    admin, agent = await make_agent("admin"), await make_agent("agent")
    bot = await start_bot(
        knowledge_dir=str(knowledge),
        behaviour={"greet_on_join": False},
        ops={"admins": [admin.user_id], "health": {"port": 0}},
    )
    await cross_sign(admin, bot.homeserver)  # admin commands need a verified device
    admin_room, agent_room = await asyncio.gather(dm_with_bot(admin, bot), dm_with_bot(agent, bot))
    return knowledge, bot, (admin, admin_room), (agent, agent_room)


async def test_broken_reload_keeps_the_knowledge_and_a_good_one_changes_the_answer(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    knowledge, bot, (admin, admin_room), (agent, agent_room) = await start(
        tmp_path, make_agent, start_bot
    )
    needs, tools = knowledge / "needs.yaml", knowledge / "tools.yaml"
    good_tools = tools.read_text(encoding="utf-8")

    # An agent may not reload; "aide" gets the agents' help, not a refusal.
    refused, _ = await ask(agent, agent_room, "!outils recharger")
    assert "réservée aux administrateurs" in refused
    help_text, _ = await ask(agent, agent_room, "!outils aide")
    assert "Je peux vous aider" in help_text and "administrat" not in help_text

    # A new phrasing and a broken file: refused as a whole, while agents keep asking.
    edit(needs, "      - visioconférence\n", f"      - visioconférence\n      - {NEW_PHRASING}\n")
    tools.write_text(good_tools + "  - id: [cassé\n", encoding="utf-8")
    questions = ["visio à 30 personnes", "partager un fichier", "audio conférence", NEW_PHRASING]
    summary, *answers = await asyncio.gather(
        ask(admin, admin_room, "!outils recharger"), *(ask(agent, agent_room, q) for q in questions)
    )
    assert summary[0].startswith("Rechargement refusé"), summary[0]
    assert "\n- tools.yaml:" in summary[0] and "syntaxe YAML" in summary[0]
    assert all(body for body, _ in answers)  # nothing lost
    assert answers[-1][0].startswith(OUT_OF_SCOPE)  # the new phrasing is not in service
    assert "Reload (admin): Rechargement refusé" in bot.log()

    # Fixed: the reload goes through, its summary says what changed, answers change.
    tools.write_text(good_tools, encoding="utf-8")
    summary = await ask(admin, admin_room, "!outils recharger")
    assert summary[0].startswith("Connaissances rechargées (version 2"), summary[0]
    assert f"need:web_conference : + « {NEW_PHRASING} »" in summary[0]
    body, _ = await ask(agent, agent_room, NEW_PHRASING)
    assert body.startswith("WebConférence de l'État"), body  # the web conference's answer

    version, _ = await ask(admin, admin_room, "!outils version")
    assert "Connaissances : version 2" in version


async def test_expired_tool_is_no_longer_recommended_after_a_reload(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    knowledge, bot, (admin, admin_room), (agent, agent_room) = await start(
        tmp_path, make_agent, start_bot
    )
    tools = knowledge / "tools.yaml"
    # Without a count: at 30 the conditions already rule both out (Scaleway 5, Tixéo 10).
    before, _ = await ask(agent, agent_room, "visio")
    assert "Tixéo" in before and "Scaleway" in before

    today = date.today()
    edit(tools, "  - id: tixeo\n", f"  - id: tixeo\n    valid_until: {today - timedelta(days=1)}\n")
    soon = today + timedelta(days=10)
    edit(tools, "  - id: scaleway\n", f"  - id: scaleway\n    valid_until: {soon}\n")
    summary, _ = await ask(admin, admin_room, "!outils recharger")
    assert "Validité :" in summary, summary
    assert "avertissement : outil « tixeo » : valid_until : l'outil a expiré le" in summary
    assert "et n'est plus recommandé" in summary
    assert (
        f"outil « scaleway » : valid_until : l'outil expire le {soon:%d/%m/%Y}, dans 10 jours"
        in (summary)
    )

    after, _ = await ask(agent, agent_room, "visio")
    assert "Tixéo" not in after and "Scaleway" in after  # warned, still valid

    # SIGHUP reloads too; the outcome (and the warning) goes to the log.
    bot.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "Reload (sighup)" in bot.log():
            break
        await asyncio.sleep(0.05)
    log = bot.log()
    assert "Reload (sighup): Connaissances rechargées (version 3" in log
    assert "Aucun changement" in log and "outil « tixeo » : valid_until : l'outil a expiré" in log


async def test_a_reload_adding_1500_phrasings_is_summed_up_in_one_readable_message(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    knowledge, _, (admin, admin_room), (agent, agent_room) = await start(
        tmp_path, make_agent, start_bot
    )
    many = "".join(f"      - visio numéro {i}\n" for i in range(1500))
    edit(knowledge / "needs.yaml", "    phrasings:\n", "    phrasings:\n" + many)
    summary, _ = await ask(admin, admin_room, "!outils recharger", timeout=60)
    assert summary.startswith("Connaissances rechargées"), summary[:200]
    assert "+1500 : « visio numéro 0 »" in summary and "et 1495 autres" in summary
    assert len(summary) < 5000
    body, _ = await ask(agent, agent_room, "visio numéro 77")
    assert body  # still answering
