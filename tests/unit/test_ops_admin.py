"""Admin commands: who may run them, how they are recognised, what each one says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ops_support import SMALL_YAML, fake_loader, write_small

from bot.config import StoreSettings
from bot.knowledge.holder import KnowledgeHolder
from bot.ops.admin import AdminCommands, Command, format_duration, parse_command
from bot.ops.metrics import Metrics
from bot.ops.reload import Reloader
from bot.ops.store import Store

ADMIN = "@admin.outils:agent.dinum.tchap.gouv.fr"
AGENT = "@jeanne.martin:agent.agriculture.tchap.gouv.fr"
ALLOWED_TAGS = {"p", "ul", "li", "strong"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.path = write_small(tmp_path / "knowledge")
        self.holder = KnowledgeHolder(fake_loader(self.path.parent))
        self.metrics = Metrics(clock=self.clock)
        self.reloader = Reloader(
            self.holder, self.path.parent, loader=fake_loader, metrics=self.metrics
        )
        self.store = Store(tmp_path / "ops.sqlite3", StoreSettings(), clock=self.clock)
        self.admin = AdminCommands(
            [ADMIN],
            metrics=self.metrics,
            holder=self.holder,
            reloader=self.reloader,
            store=self.store,
            version="1.2.3",
            clock=self.clock,
        )


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def tags(html: str) -> set[str]:
    return set(re.findall(r"</?([a-z0-9]+)", html))


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("!outils aide", Command("aide")),
        ("!outils help", Command("aide")),
        ("  !Outils   RECHARGER ", Command("recharger")),
        ("!outils reload", Command("recharger")),
        ("!outils stats", Command("stats")),
        ("!outils non-repondues", Command("non-repondues")),
        ("!outils non-répondues 5", Command("non-repondues", 5)),
        ("!outils non repondues", Command("non-repondues")),
        ("!outils unanswered 500", Command("non-repondues", 50)),
        ("!outils version", Command("version")),
        ("!outils", None),
        ("!outils quel outil pour une visio ?", None),
        ("!outils recharger la batterie", None),
        ("!outils stats 3", None),
        ("!outilsstats", None),
        ("stats", None),
    ],
)
def test_parse_command(text: str, command: Command | None) -> None:
    assert parse_command(text) == command


async def test_non_admin_is_refused_politely(env: Env) -> None:
    for text in ["!outils recharger", "!outils stats", "!outils non-repondues", "!outils version"]:
        reply = await env.admin.handle(AGENT, text)
        assert reply is not None
        assert reply.text.startswith("Désolé, cette commande est réservée aux administrateurs")
    assert env.holder.generation == 1  # nothing was reloaded
    assert env.metrics.snapshot().reloads == {"ok": 0, "error": 0}


async def test_help_from_an_agent_and_questions_go_to_the_core(env: Env) -> None:
    assert await env.admin.handle(AGENT, "!outils aide") is None
    assert await env.admin.handle(ADMIN, "!outils quel outil pour une visio ?") is None
    assert await env.admin.handle(ADMIN, "bonjour") is None


async def test_help(env: Env) -> None:
    reply = await env.admin.handle(ADMIN, "!outils aide")
    assert reply is not None
    assert reply.text.splitlines()[0] == "Commandes d'administration (en message direct) :"
    for command in ["recharger", "stats", "non-repondues [N]", "version", "aide"]:
        assert f"- !outils {command} : " in reply.text
    assert "Alias anglais : help, reload, stats, unanswered, version." in reply.text
    assert tags(reply.html) <= ALLOWED_TAGS


async def test_reload_good_and_broken(env: Env) -> None:
    env.path.write_text(SMALL_YAML.replace("[zoom]", "[zoom, zoom <pro>]"), encoding="utf-8")
    reply = await env.admin.handle(ADMIN, "!outils recharger")
    assert reply is not None
    assert reply.text.startswith("Connaissances rechargées (version 2")
    assert "tool:zoom : + « zoom <pro> »" in reply.text
    assert "zoom &lt;pro&gt;" in reply.html and tags(reply.html) <= ALLOWED_TAGS

    env.path.write_text(SMALL_YAML.replace("name: Zoom", "name: Zoom: oops"), encoding="utf-8")
    reply = await env.admin.handle(ADMIN, "!outils reload")
    assert reply is not None
    assert reply.text.startswith("Rechargement refusé (1 erreur)")
    assert "- knowledge.yaml:18: YAML invalide" in reply.text
    assert env.holder.generation == 2
    assert env.metrics.snapshot().reloads == {"ok": 1, "error": 1}


async def test_stats_since_start(env: Env) -> None:
    m = env.metrics
    for subject in ["need:web_conference", "need:web_conference", "tool:zoom", "none", "clarify"]:
        m.record_reply(subject, 0.01)
    env.store.record_vote("$r1", "tool:zoom", "up")
    env.store.record_vote("$r1", "tool:zoom", "down")  # changed: counts once
    env.store.record_vote("$r2", "need:web_conference", "up")
    m.record_reload(ok=True)
    m.set_rooms_joined(3)
    env.clock.now += 2 * 86400 + 3 * 3600 + 5 * 60

    reply = await env.admin.handle(ADMIN, "!outils stats")

    assert reply is not None
    assert reply.text == (
        "Statistiques depuis le démarrage (il y a 2 j 3 h 5 min) :\n"
        "- Questions : 5\n"
        "- Réponses : 3 (need:web_conference 2, tool:zoom 1)\n"
        "- Hors sujet : 1\n"
        "- Demandes de précision : 1\n"
        "- Avis (👍 / 👎) : need:web_conference 1 / 0, tool:zoom 0 / 1\n"
        "- Rechargements : 1 réussi(s), 0 refusé(s)\n"
        "- Salons : 3"
    )
    assert reply.html.startswith("<p>Statistiques depuis le démarrage")
    assert "<li>Questions : 5</li>" in reply.html


async def test_unanswered(env: Env) -> None:
    reply = await env.admin.handle(ADMIN, "!outils non-repondues")
    assert reply is not None and reply.text == (
        "Aucune question sans bonne réponse ces 30 derniers jours."
    )
    for q in ["Poser un congé ?", "poser un congé", "<script>météo</script>"]:
        env.store.record_unanswered(q, "none")
    env.store.record_unanswered("un outil pour dessiner", "low_confidence")

    reply = await env.admin.handle(ADMIN, "!outils unanswered 2")

    assert reply is not None
    lines = reply.text.splitlines()
    assert lines[0] == "Questions sans bonne réponse les plus fréquentes (30 derniers jours) :"
    assert lines[1].startswith("- « poser un congé » : 2 fois (hors sujet), dernière le ")
    assert len(lines) == 3
    reply = await env.admin.handle(ADMIN, "!outils non-repondues")
    assert reply is not None
    assert "&lt;script&gt;" in reply.html and "<script>" not in reply.html
    assert "(réponse incertaine)" in reply.text


async def test_version(env: Env) -> None:
    reply = await env.admin.handle(ADMIN, "!outils version")
    assert reply is not None
    lines = reply.text.splitlines()
    assert lines[0].startswith("tchap-bot 1.2.3 (Python 3.")
    assert lines[1].startswith("- Connaissances : version 1, chargées le ")
    assert lines[2] == "- 2 besoins, 3 outils, 1 astuce, 0 application hors offre"


async def test_without_store_or_reloader(env: Env) -> None:
    admin = AdminCommands([ADMIN], metrics=env.metrics, holder=env.holder)
    reply = await admin.handle(ADMIN, "!outils recharger")
    assert reply is not None and "n'est pas disponible" in reply.text
    reply = await admin.handle(ADMIN, "!outils non-repondues")
    assert reply is not None and "ne sont pas enregistrées" in reply.text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(12, "12 s"), (240, "4 min"), (3600, "1 h"), (90061, "1 j 1 h 1 min")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
