"""Admin commands, sent in a direct chat: ``!outils recharger``, ``stats``, ``non-repondues``...

The Matrix bot hands every direct-chat message starting with the command prefix to
:meth:`AdminCommands.handle`. ``None`` means "not an admin command": the message is a
question for the core (``!outils quel outil pour une visio ?``), and so is ``aide`` from
someone who is not an admin (the core's own help answers it). Admin commands from anyone
else are refused politely.

French replies with a plain-text body and escaped HTML; English aliases are accepted.
"""

from __future__ import annotations

import html
import logging
import platform
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot import __version__
from bot.config import BehaviourConfig
from bot.knowledge.holder import KnowledgeHolder
from bot.ops.metrics import Metrics
from bot.ops.reload import Reloader
from bot.ops.store import Feedback, Store

log = logging.getLogger(__name__)

DEFAULT_PREFIX = BehaviourConfig.command_prefix  # written once, in bot.config
MAX_UNANSWERED = 50
MAX_PROBLEMS_SHOWN = 25  # in a reload reply; the log lists them all

_REASONS = {
    "none": "hors sujet",
    "clarify": "précision demandée",
    "low_confidence": "réponse incertaine",
}


@dataclass(frozen=True)
class AdminReply:
    text: str  # Matrix ``body``
    html: str  # Matrix ``formatted_body`` (escaped)


@dataclass(frozen=True)
class Command:
    name: str  # canonical French name
    argument: int | None = None


# Every accepted spelling (accents and case ignored) -> canonical name.
_ALIASES = {
    "aide": "aide",
    "help": "aide",
    "recharger": "recharger",
    "reload": "recharger",
    "stats": "stats",
    "statistiques": "stats",
    "non-repondues": "non-repondues",
    "nonrepondues": "non-repondues",
    "unanswered": "non-repondues",
    "version": "version",
}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", "-")


def parse_command(text: str, prefix: str = DEFAULT_PREFIX) -> Command | None:
    """``Command`` if ``text`` is exactly an admin command after the prefix, else None.

    Only the command word (and, for ``non-repondues``, a count) may follow the prefix:
    anything longer is a question.
    """
    stripped = text.strip()
    if not stripped.casefold().startswith(prefix.casefold()):
        return None
    rest = stripped[len(prefix) :]
    if rest and not rest[0].isspace():
        return None  # "!outilsX"
    words = [_fold(w) for w in rest.split()]
    if not words:
        return None
    for size in (2, 1):
        if len(words) < size:
            continue
        name = _ALIASES.get("-".join(words[:size]))
        if name is None:
            continue
        args = words[size:]
        if not args:
            return Command(name)
        if name == "non-repondues" and len(args) == 1 and args[0].isdigit():
            return Command(name, max(1, min(int(args[0]), MAX_UNANSWERED)))
        return None
    return None


def format_duration(seconds: float) -> str:
    """``2 j 3 h 5 min``, ``4 min``, ``12 s``."""
    s = int(max(seconds, 0))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if not (days or hours or minutes):
        return f"{s} s"
    parts = [f"{days} j" if days else "", f"{hours} h" if hours else ""]
    parts.append(f"{minutes} min" if minutes else "")
    return " ".join(p for p in parts if p)


def _count(n: int, noun: str) -> str:
    """``2 besoins``, ``1 astuce``, ``0 application hors offre`` (first word agrees)."""
    first, _, rest = noun.partition(" ")
    return " ".join(w for w in (str(n), first + ("s" if n > 1 else ""), rest) if w)


def _reply(heading: str, items: Iterable[str] = (), footer: Iterable[str] = ()) -> AdminReply:
    items, footer = list(items), list(footer)
    text = "\n".join([heading, *(f"- {i}" for i in items), *footer])
    parts = [f"<p>{html.escape(heading)}</p>"]
    if items:
        parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
    parts.extend(f"<p>{html.escape(f)}</p>" for f in footer)
    return AdminReply(text, "".join(parts))


class AdminCommands:
    def __init__(
        self,
        admins: Iterable[str],
        *,
        metrics: Metrics,
        holder: KnowledgeHolder,
        reloader: Reloader | None = None,
        store: Store | None = None,
        prefix: str = DEFAULT_PREFIX,
        version: str = __version__,
        unanswered_days: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.admins = frozenset(admins)
        self.metrics = metrics
        self.holder = holder
        self.reloader = reloader
        self.store = store
        self.prefix = prefix
        self.version = version
        self.unanswered_days = unanswered_days
        self._clock = clock
        self._handlers: dict[str, Callable[[Command], Awaitable[AdminReply]]] = {
            "aide": self._help,
            "recharger": self._reload,
            "stats": self._stats,
            "non-repondues": self._unanswered,
            "version": self._version,
        }

    def is_admin(self, sender: str) -> bool:
        return sender in self.admins

    async def handle(self, sender: str, text: str) -> AdminReply | None:
        command = parse_command(text, self.prefix)
        if command is None:
            return None
        if not self.is_admin(sender):
            if command.name == "aide":
                return None  # the core's help menu answers agents
            log.info("Admin command %r refused: sender is not an admin", command.name)
            return _reply(
                "Désolé, cette commande est réservée aux administrateurs du bot. "
                "Pour une question sur les outils numériques, écrivez-la simplement, "
                "par exemple « quel outil pour une visioconférence à 20 ? »."
            )
        log.info("Admin command %r", command.name)
        return await self._handlers[command.name](command)

    # -- commands ------------------------------------------------------------------------

    async def _help(self, command: Command) -> AdminReply:
        p = self.prefix
        return _reply(
            "Commandes d'administration (en message direct) :",
            [
                f"{p} recharger : relit les fichiers de connaissances ; en cas d'erreur, "
                "les connaissances en service restent inchangées",
                f"{p} stats : chiffres depuis le démarrage",
                f"{p} non-repondues [N] : les N questions sans bonne réponse les plus "
                f"fréquentes des {self.unanswered_days} derniers jours (10 par défaut)",
                f"{p} version : version du bot et des connaissances",
                f"{p} aide : cette aide",
            ],
            ["Alias anglais : help, reload, stats, unanswered, version."],
        )

    async def _reload(self, command: Command) -> AdminReply:
        if self.reloader is None:
            return _reply("Le rechargement n'est pas disponible sur cette instance.")
        outcome = await self.reloader.reload("admin")
        return AdminReply(outcome.text(MAX_PROBLEMS_SHOWN), outcome.html(MAX_PROBLEMS_SHOWN))

    async def _stats(self, command: Command) -> AdminReply:
        snap = self.metrics.snapshot()
        uptime = format_duration(self._clock() - snap.started_at)
        answered = sum(snap.answers.values())
        by_subject = ", ".join(
            f"{subject} {n}"
            for subject, n in sorted(snap.answers.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        items = [
            f"Questions : {snap.questions}",
            f"Réponses : {answered}" + (f" ({by_subject})" if by_subject else ""),
            f"Hors sujet : {snap.out_of_scope}",
            f"Demandes de précision : {snap.clarifications}",
        ]
        feedback = self._feedback(snap.started_at, snap.feedback)
        votes = ", ".join(f"{s} {f.up} / {f.down}" for s, f in sorted(feedback.items()))
        items.append(f"Avis (👍 / 👎) : {votes or 'aucun'}")
        ok, failed = snap.reloads.get("ok", 0), snap.reloads.get("error", 0)
        items.append(f"Rechargements : {ok} réussi(s), {failed} refusé(s)")
        if snap.undecryptable:
            items.append(f"Messages indéchiffrables : {snap.undecryptable}")
        if snap.sync_errors:
            errors = ", ".join(f"{k} {v}" for k, v in sorted(snap.sync_errors.items()))
            items.append(f"Erreurs de synchronisation : {errors}")
        items.append(f"Salons : {snap.rooms_joined}")
        return _reply(f"Statistiques depuis le démarrage (il y a {uptime}) :", items)

    def _feedback(self, since: float, counted: dict[str, dict[str, int]]) -> dict[str, Feedback]:
        if self.store is not None:  # de-duplicated votes: a changed vote counts once
            return self.store.feedback_summary(since=since)
        return {s: Feedback(v.get("up", 0), v.get("down", 0)) for s, v in counted.items()}

    async def _unanswered(self, command: Command) -> AdminReply:
        days = self.unanswered_days
        if self.store is None:
            return _reply("Les questions sans réponse ne sont pas enregistrées sur cette instance.")
        top = self.store.top_unanswered(limit=command.argument or 10, days=days)
        if not top:
            return _reply(f"Aucune question sans bonne réponse ces {days} derniers jours.")
        items = [
            f"« {q.text} » : {q.count} fois ({_REASONS.get(q.reason, q.reason)}), "
            f"dernière le {datetime.fromtimestamp(q.last_seen).strftime('%d/%m/%Y')}"
            for q in top
        ]
        return _reply(
            f"Questions sans bonne réponse les plus fréquentes ({days} derniers jours) :", items
        )

    async def _version(self, command: Command) -> AdminReply:
        k = self.holder.current
        loaded = datetime.fromtimestamp(self.holder.loaded_at).strftime("%d/%m/%Y à %H:%M")
        return _reply(
            f"tchap-bot {self.version} (Python {platform.python_version()})",
            [
                f"Connaissances : version {self.holder.generation}, chargées le {loaded}",
                ", ".join(
                    _count(n, word)
                    for n, word in (
                        (len(k.needs), "besoin"),
                        (len(k.tools), "outil"),
                        (len(k.tips), "astuce"),
                        (len(k.outside_apps), "application hors offre"),
                    )
                ),
            ],
        )
