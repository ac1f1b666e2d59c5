"""Shared by the ``test_ops_*`` tests: a small knowledge and a stand-in YAML loader.

The stand-in reads one ``knowledge.yaml`` and fails the way ``bot.knowledge``'s loader
does (a ``KnowledgeError`` whose ``Problem``s carry file, line, entry, message), so the
reloader is tested on its own; ``test_ops_reload`` also runs against the real loader and
the shipped ``knowledge/`` directory when they are there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.model import (
    Category,
    Conversation,
    Knowledge,
    Lexicon,
    Need,
    Option,
    OutsideApp,
    Tip,
    Tool,
)
from bot.knowledge.problems import KnowledgeError, Problem

SMALL_YAML = """\
needs:
  audio_conference:
    title: Audio conférence
    phrasings: [audio conférence, conférence téléphonique]
    tools: [audioconf_ministere]
  web_conference:
    title: Web conférence
    phrasings: [visio, visioconférence]
    tools: [webconf_etat, zoom]
tools:
  audioconf_ministere:
    name: Audioconférence du ministère
    phrasings: [audio.mtes.fr]
  webconf_etat:
    name: WebConférence de l'État
    phrasings: [webconf]
  zoom:
    name: Zoom
    phrasings: [zoom]
tips:
  merge_calls_android:
    title: Fusionner des appels sur Android
    phrasings: [fusionner appels android]
"""


def conversation() -> Conversation:
    return Conversation(
        help_phrasings=("aide",),
        out_of_scope_phrasings=("météo",),
        greeting="Bonjour, je vous aide à choisir un outil numérique.",
        menu_intro="Je peux vous aider pour :",
        out_of_scope="Je ne sais répondre qu'aux questions sur les outils numériques.",
        clarify_intro="Précisez :",
        outside_offer_rule="Hors offre : pas d'assistance.",
        category_labels={c: c.value for c in Category},
        source="Guide des offres numériques",
    )


def lexicon() -> Lexicon:
    return Lexicon({}, {"android": ("android",)}, ("sensible",), {"quinzaine": 15}, ("le",))


def build(data: dict[str, Any]) -> Knowledge:
    """Knowledge from the stand-in's plain data (no checks)."""
    needs = {
        nid: Need(
            nid,
            n["title"],
            n.get("summary", ""),
            tuple(n.get("phrasings", ())),
            tuple(Option(Category.RECOMMANDE, t) for t in n.get("tools", ())),
        )
        for nid, n in (data.get("needs") or {}).items()
    }
    tools = {
        tid: Tool(
            tid,
            t["name"],
            t.get("offer", "SNUM"),
            t.get("summary", ""),
            tuple(t.get("phrasings", ())),
            valid_until=t.get("valid_until"),
        )
        for tid, t in (data.get("tools") or {}).items()
    }
    tips = {
        tid: Tip(tid, t["title"], "android", "audio_conference", (), tuple(t["phrasings"]))
        for tid, t in (data.get("tips") or {}).items()
    }
    apps = {
        aid: OutsideApp(aid, a["name"], tuple(a.get("needs", ())), tuple(a["phrasings"]))
        for aid, a in (data.get("outside_apps") or {}).items()
    }
    return Knowledge(needs, tools, tips, apps, lexicon(), conversation())


def small_knowledge() -> Knowledge:
    return build(yaml.safe_load(SMALL_YAML))


def fake_loader(directory: Path) -> Knowledge:
    """Reads ``directory/knowledge.yaml``; raises ``KnowledgeError`` with located problems."""
    path = directory / "knowledge.yaml"
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise KnowledgeError(
            [Problem(path.name, line, None, f"YAML invalide : {exc.problem}")]
        ) from exc
    problems = []
    for tid, tool in (data.get("tools") or {}).items():
        if not isinstance(tool, dict) or "name" not in tool:
            line = next(i for i, s in enumerate(text.splitlines(), 1) if s.strip() == f"{tid}:")
            problems.append(Problem(path.name, line, f"tool:{tid}", "champ « name » manquant"))
    if problems:
        raise KnowledgeError(problems)
    return build(data)


def write_small(directory: Path, text: str = SMALL_YAML) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "knowledge.yaml"
    path.write_text(text, encoding="utf-8")
    return path
