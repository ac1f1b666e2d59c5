"""Settings of the operations components, as small frozen dataclasses.

They are meant to be embedded in the main configuration (``bot/config.py``) under an
``ops:`` key; :func:`parse_ops_settings` turns that mapping into :class:`OpsSettings` and
lists every error with its key path, so the main config can report them with its own.

Proposed YAML (every key optional, defaults shown)::

    ops:
      admins: []                 # exact Matrix ids: ["@jeanne.martin:agent.tchap.gouv.fr"]
      health:
        enabled: true
        host: 127.0.0.1          # keep it local; a probe or a scraper on the same host reads it
        port: 9100
        max_sync_age: 300        # seconds without a successful sync before /healthz fails
        startup_grace: 120       # seconds /healthz stays OK before the first sync
      knowledge:
        watch: false             # reload when the knowledge files change
        watch_interval: 5        # seconds between two scans of the directory
        debounce: 2              # seconds the files must stay unchanged before reloading
        warn_days: 30            # warn this many days before a dated entry expires
      store:
        retention_days: 90       # unanswered questions and feedback older than this are purged
        store_user_ids: false    # true: also keep the Matrix id of who asked or voted
        votes_from_anyone: false # true: any member's 👍/👎 counts, not only the asker's
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HealthSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9100
    max_sync_age: float = 300.0
    startup_grace: float = 120.0


@dataclass(frozen=True)
class KnowledgeOpsSettings:
    watch: bool = False
    watch_interval: float = 5.0
    debounce: float = 2.0
    warn_days: int = 30


@dataclass(frozen=True)
class StoreSettings:
    retention_days: int = 90
    store_user_ids: bool = False
    votes_from_anyone: bool = False


@dataclass(frozen=True)
class OpsSettings:
    admins: frozenset[str] = frozenset()
    health: HealthSettings = field(default_factory=HealthSettings)
    knowledge: KnowledgeOpsSettings = field(default_factory=KnowledgeOpsSettings)
    store: StoreSettings = field(default_factory=StoreSettings)


class _Reader:
    """Reads typed values out of one mapping, collecting errors instead of raising."""

    def __init__(self, data: Any, path: str, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            errors.append(f"{path}: doit être une table (clé: valeur)")
            data = {}
        self.data: Mapping[str, Any] = data

    def unknown_keys(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                self.errors.append(f"{self.path}.{key}: clé inconnue")

    def section(self, key: str) -> _Reader:
        return _Reader(self.data.get(key), f"{self.path}.{key}", self.errors)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.errors.append(f"{self.path}.{key}: doit valoir true ou false")
            return default
        return value

    def number(self, key: str, default: float, *, minimum: float, integer: bool = False) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.append(f"{self.path}.{key}: doit être un nombre")
            return default
        if integer and not isinstance(value, int):
            self.errors.append(f"{self.path}.{key}: doit être un nombre entier")
            return default
        if value < minimum:
            self.errors.append(f"{self.path}.{key}: doit être supérieur ou égal à {minimum:g}")
            return default
        return value

    def text(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.errors.append(f"{self.path}.{key}: doit être un texte non vide")
            return default
        return value


def _admins(reader: _Reader) -> frozenset[str]:
    value = reader.data.get("admins", [])
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        reader.errors.append(f"{reader.path}.admins: doit être une liste d'identifiants Matrix")
        return frozenset()
    admins: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _looks_like_user_id(item):
            reader.errors.append(
                f"{reader.path}.admins[{i}]: identifiant Matrix attendu (@nom:serveur), "
                f"reçu {item!r}"
            )
        else:
            admins.add(item)
    return frozenset(admins)


def _looks_like_user_id(value: str) -> bool:
    local, sep, server = value[1:].partition(":")
    return value.startswith("@") and bool(sep) and bool(local) and bool(server)


def parse_ops_settings(data: Any, path: str = "ops") -> tuple[OpsSettings, list[str]]:
    """Build settings from the ``ops:`` mapping of the YAML config.

    Returns the settings (defaults where a value was wrong) and every error, each prefixed
    with its key path (``ops.health.port: ...``). No side effect.
    """
    errors: list[str] = []
    root = _Reader(data, path, errors)
    root.unknown_keys({"admins", "health", "knowledge", "store"})

    h = root.section("health")
    h.unknown_keys({"enabled", "host", "port", "max_sync_age", "startup_grace"})
    port = int(h.number("port", 9100, minimum=0, integer=True))
    if port > 65535:
        errors.append(f"{h.path}.port: doit être entre 0 et 65535")
        port = 9100
    health = HealthSettings(
        enabled=h.boolean("enabled", True),
        host=h.text("host", "127.0.0.1"),
        port=port,
        max_sync_age=h.number("max_sync_age", 300.0, minimum=1),
        startup_grace=h.number("startup_grace", 120.0, minimum=0),
    )

    k = root.section("knowledge")
    k.unknown_keys({"watch", "watch_interval", "debounce", "warn_days"})
    knowledge = KnowledgeOpsSettings(
        watch=k.boolean("watch", False),
        watch_interval=k.number("watch_interval", 5.0, minimum=0.1),
        debounce=k.number("debounce", 2.0, minimum=0),
        warn_days=int(k.number("warn_days", 30, minimum=0, integer=True)),
    )

    s = root.section("store")
    s.unknown_keys({"retention_days", "store_user_ids", "votes_from_anyone"})
    store = StoreSettings(
        retention_days=int(s.number("retention_days", 90, minimum=1, integer=True)),
        store_user_ids=s.boolean("store_user_ids", False),
        votes_from_anyone=s.boolean("votes_from_anyone", False),
    )
    return OpsSettings(_admins(root), health, knowledge, store), errors
