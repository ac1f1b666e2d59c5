"""The bot's configuration: YAML parsed into frozen, typed objects, validated once at start.

``parse_config`` is pure (mapping + environment in, ``Config`` out); ``load_config`` only
reads the file and the secret files it names. Nothing here creates directories or sets up
logging. Every problem is reported at once, located by its key path, in ``ConfigError``.

Secrets (access token, password, pickle key) never need to be in the YAML: each is read
from a file named by ``<secret>_file`` or else from an environment variable named by
``<secret>_env`` (with a default name).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.knowledge.shipped import shipped_knowledge_dir
from bot.ops.settings import OpsSettings, parse_ops_settings

# The knowledge shipped with the bot: the config's default and the CLI's (bot.cli).
DEFAULT_KNOWLEDGE_DIR = shipped_knowledge_dir()

# The guide's audience on Tchap: the pôle ministériel's homeserver. The CLI's
# ``--audience-server`` compares with it; the bot's ``audience.servers`` says it.
POLE_SERVERS = ("agent.developpement-durable.tchap.gouv.fr",)

# Values of config.example.yaml that must not reach production unchanged.
PLACEHOLDER_MARK = "CHANGE-ME"
_PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
# The pickle key nio uses when none is given: it protects nothing.
_LIBRARY_DEFAULT_PICKLE_KEY = "DEFAULT_KEY"
MIN_PICKLE_KEY_LENGTH = 16

_USER_ID_RE = re.compile(r"^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:[0-9]+)?$")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class ConfigError(Exception):
    """Every problem found in the configuration, each prefixed by its key path."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {e}" for e in errors))


class TrustPolicy(StrEnum):
    # Share room keys with every device of the room's members, verified or not: agents
    # rarely verify a bot, and Tchap's servers vouch for their accounts.
    ACCEPT_UNVERIFIED = "accept_unverified"
    # Share room keys only with devices the bot's store marks verified (others get none).
    VERIFIED_ONLY = "verified_only"


class AdminTrust(StrEnum):
    # Admin commands only from devices the admin's own identity signed (bot.matrix.device_trust).
    CROSS_SIGNED = "cross_signed"
    ANY = "any"  # from any device of an admin


@dataclass(frozen=True)
class Secrets:
    access_token: str | None
    password: str | None
    pickle_key: str

    def __repr__(self) -> str:  # never print secrets, not even in a traceback
        return "Secrets(<hidden>)"


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str  # base URL of the client-server API
    user_id: str
    device_name: str
    proxy: str | None  # http://host:port for ministry networks
    verify_tls: bool
    request_timeout: float  # seconds, for every request except the long-poll sync
    # A homeserver's (or proxy's) retry_after is honoured up to this many seconds.
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class EncryptionConfig:
    trust: TrustPolicy
    undecryptable_notice_after: float  # seconds to wait for a room key before the notice
    admin_trust: AdminTrust = AdminTrust.CROSS_SIGNED


@dataclass(frozen=True)
class InviteConfig:
    allowed_servers: tuple[str, ...]  # glob patterns over the inviter's server name
    allowed_users: tuple[str, ...]  # glob patterns over the inviter's full user id
    denied_servers: tuple[str, ...]  # win over allowed_servers, not over allowed_users
    # The same rules decide whose messages are answered, in any room (a denied user in a
    # room an allowed one brought the bot into is not answered either).
    apply_to_senders: bool = True


@dataclass(frozen=True)
class BehaviourConfig:
    command_prefix: str
    context_idle: float  # seconds after which a conversation's context is forgotten
    catch_up_max_age: float  # seconds: older questions found after a restart are not answered
    greet_on_join: bool
    leave_when_alone: bool
    ignored_users: tuple[str, ...]  # glob patterns: never answered (other bots...)
    # Replies to one agent waiting to be sent beyond which its new questions get one short
    # notice instead of an answer (one agent flooding must not delay the others).
    max_queued_per_agent: int = 10
    # An answer sent this long after its question notifies the agent (bot.matrix.replies).
    notify_after: float = 30.0


@dataclass(frozen=True)
class AudienceConfig:
    # Homeservers of the guide's audience (the pôle ministériel's agents). An agent from
    # another one is told once that the SNUM's offers are for the pôle's agents, and its
    # answers lead with the offers open to all. Empty: every agent is the audience.
    servers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncConfig:
    timeout: float  # long-poll seconds
    timeline_limit: int
    backoff_initial: float
    backoff_max: float


@dataclass(frozen=True)
class Config:
    matrix: MatrixConfig
    encryption: EncryptionConfig
    invites: InviteConfig
    behaviour: BehaviourConfig
    sync: SyncConfig
    data_dir: Path
    knowledge_dir: Path
    log_level: str
    secrets: Secrets
    ops: OpsSettings  # admins, health server, knowledge watching, store (bot.ops.settings)
    audience: AudienceConfig = AudienceConfig()

    @property
    def server_name(self) -> str:
        return self.matrix.user_id.split(":", 1)[1]


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` and the secret files it names; raise ``ConfigError`` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"{path}: the top level must be a mapping of keys"])
    return parse_config(
        raw,
        base_dir=path.resolve().parent,
        environ=os.environ if environ is None else environ,
        read_file=_read_secret_file,
    )


class SecretFileError(OSError):
    """A secret file others may read: refused, like ssh refuses a private key."""


def _read_secret_file(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise SecretFileError(
            f"readable by other users (mode {mode & 0o777:04o}); run: chmod 600 {path}"
        )
    return path.read_text(encoding="utf-8").strip()


class _Reader:
    """Walks the raw mapping, collecting errors instead of raising at the first one."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: list[str] = []
        self.known: dict[str, set[str]] = {}

    def section(self, name: str) -> Mapping[str, Any]:
        self.known.setdefault("", set()).add(name)
        value = self.raw.get(name, {})
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.errors.append(f"{name}: must be a mapping")
            return {}
        return value

    def _get(self, section: str, sec: Mapping[str, Any], key: str) -> tuple[str, Any]:
        self.known.setdefault(section, set()).add(key)
        return (f"{section}.{key}" if section else key), sec.get(key)

    def string(
        self,
        section: str,
        sec: Mapping[str, Any],
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
    ) -> str | None:
        path, value = self._get(section, sec, key)
        if value is None:
            if required:
                self.errors.append(f"{path}: required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.errors.append(f"{path}: must be a non-empty string")
            return default
        value = value.strip()
        if _is_placeholder(value):
            self.errors.append(f"{path}: still the example's placeholder ({value!r}); set yours")
        return value

    def boolean(self, section: str, sec: Mapping[str, Any], key: str, default: bool) -> bool:
        path, value = self._get(section, sec, key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.errors.append(f"{path}: must be true or false")
            return default
        return value

    def integer(
        self, section: str, sec: Mapping[str, Any], key: str, default: int, *, minimum: int
    ) -> int:
        path, value = self._get(section, sec, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.errors.append(f"{path}: must be an integer >= {minimum}")
            return default
        return value

    def duration(self, section: str, sec: Mapping[str, Any], key: str, default: float) -> float:
        path, value = self._get(section, sec, key)
        if value is None:
            return default
        seconds = parse_duration(value)
        if seconds is None:
            self.errors.append(
                f"{path}: must be a duration such as 90, 90s, 30m, 2h or 1d (got {value!r})"
            )
            return default
        return seconds

    def patterns(
        self, section: str, sec: Mapping[str, Any], key: str, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        path, value = self._get(section, sec, key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.errors.append(f"{path}: must be a list of non-empty strings")
            return default
        for v in value:
            if _is_placeholder(v):
                self.errors.append(f"{path}: still the example's placeholder ({v!r}); set yours")
        return tuple(v.strip() for v in value)

    def check_unknown(self) -> None:
        for key in self.raw:
            if key not in self.known.get("", set()):
                self.errors.append(f"{key}: unknown key")
        for section, keys in self.known.items():
            if not section:
                continue
            sec = self.raw.get(section)
            if isinstance(sec, Mapping):
                for key in sec:
                    if key not in keys:
                        self.errors.append(f"{section}.{key}: unknown key")


def parse_duration(value: object) -> float | None:
    """Seconds from ``90``, ``1.5``, ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION_RE.match(value)
    if not match:
        return None
    return float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"]


def _is_placeholder(value: str) -> bool:
    if PLACEHOLDER_MARK.lower() in value.lower():
        return True
    host = urlparse(value).hostname if "://" in value else value.rsplit(":", 1)[-1]
    host = (host or "").lower()
    return any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS)


def parse_config(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    environ: Mapping[str, str],
    read_file: Callable[[Path], str] = _read_secret_file,
) -> Config:
    """Build a ``Config`` from the parsed YAML; relative paths are relative to ``base_dir``."""
    r = _Reader(raw)

    m = r.section("matrix")
    homeserver = r.string("matrix", m, "homeserver", required=True)
    if homeserver is not None:
        parsed = urlparse(homeserver)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            r.errors.append("matrix.homeserver: must be an http(s) URL, e.g. https://matrix.…")
    user_id = r.string("matrix", m, "user_id", required=True)
    if user_id is not None and not _is_placeholder(user_id) and not _USER_ID_RE.match(user_id):
        r.errors.append(f"matrix.user_id: not a Matrix user id (@localpart:server): {user_id!r}")
    device_name = r.string("matrix", m, "device_name", "tchap-bot")
    proxy = r.string("matrix", m, "proxy")
    if proxy is not None and urlparse(proxy).scheme not in ("http", "https", "socks5"):
        r.errors.append("matrix.proxy: must be a URL such as http://proxy.example:3128")
    verify_tls = r.boolean("matrix", m, "verify_tls", True)
    request_timeout = r.duration("matrix", m, "request_timeout", 30.0)
    max_retry_after = r.duration("matrix", m, "max_retry_after", 60.0)

    s = r.section("secrets")
    access_token = _secret(
        r, s, "access_token", "TCHAP_BOT_ACCESS_TOKEN", base_dir, environ, read_file
    )
    password = _secret(r, s, "password", "TCHAP_BOT_PASSWORD", base_dir, environ, read_file)
    pickle_key = _secret(r, s, "pickle_key", "TCHAP_BOT_PICKLE_KEY", base_dir, environ, read_file)
    if access_token is None and password is None:
        r.errors.append(
            "secrets: neither an access token nor a password is available "
            "(set TCHAP_BOT_ACCESS_TOKEN or secrets.access_token_file, "
            "or TCHAP_BOT_PASSWORD or secrets.password_file)"
        )
    if pickle_key is None:
        r.errors.append(
            "secrets.pickle_key: required to encrypt the keys store "
            "(set TCHAP_BOT_PICKLE_KEY or secrets.pickle_key_file)"
        )
    elif pickle_key == _LIBRARY_DEFAULT_PICKLE_KEY or len(pickle_key) < MIN_PICKLE_KEY_LENGTH:
        r.errors.append(
            f"secrets.pickle_key: must be a random secret of at least {MIN_PICKLE_KEY_LENGTH} "
            "characters (e.g. `openssl rand -hex 32`), not the library's default"
        )

    e = r.section("encryption")
    trust_raw = r.string("encryption", e, "trust", TrustPolicy.ACCEPT_UNVERIFIED.value)
    try:
        trust = TrustPolicy(trust_raw or TrustPolicy.ACCEPT_UNVERIFIED.value)
    except ValueError:
        r.errors.append(
            "encryption.trust: must be one of " + ", ".join(p.value for p in TrustPolicy)
        )
        trust = TrustPolicy.ACCEPT_UNVERIFIED
    undecryptable = r.duration("encryption", e, "undecryptable_notice_after", 60.0)
    admin_trust_raw = r.string("encryption", e, "admin_trust", AdminTrust.CROSS_SIGNED.value)
    try:
        admin_trust = AdminTrust(admin_trust_raw or AdminTrust.CROSS_SIGNED.value)
    except ValueError:
        r.errors.append(
            "encryption.admin_trust: must be one of " + ", ".join(p.value for p in AdminTrust)
        )
        admin_trust = AdminTrust.CROSS_SIGNED

    i = r.section("invites")
    allowed_servers = r.patterns("invites", i, "allowed_servers", ())
    allowed_users = r.patterns("invites", i, "allowed_users", ())
    denied_servers = r.patterns("invites", i, "denied_servers", ("e.tchap.gouv.fr",))
    apply_to_senders = r.boolean("invites", i, "apply_to_senders", True)

    b = r.section("behaviour")
    prefix = r.string("behaviour", b, "command_prefix", "!outils") or "!outils"
    if any(ch.isspace() for ch in prefix):
        r.errors.append("behaviour.command_prefix: must not contain spaces")
    context_idle = r.duration("behaviour", b, "context_idle", 30 * 60.0)
    catch_up = r.duration("behaviour", b, "catch_up_max_age", 3600.0)
    greet = r.boolean("behaviour", b, "greet_on_join", True)
    leave_alone = r.boolean("behaviour", b, "leave_when_alone", True)
    ignored = r.patterns("behaviour", b, "ignored_users", ())
    max_queued = r.integer("behaviour", b, "max_queued_per_agent", 10, minimum=1)
    notify_after = r.duration("behaviour", b, "notify_after", 30.0)

    y = r.section("sync")
    sync_timeout = r.duration("sync", y, "timeout", 30.0)
    timeline_limit = r.integer("sync", y, "timeline_limit", 100, minimum=1)
    backoff_initial = r.duration("sync", y, "backoff_initial", 1.0)
    # Well below ops.health.max_sync_age (300 s): one wait must not fail the health check.
    backoff_max = r.duration("sync", y, "backoff_max", 60.0)
    if backoff_initial <= 0 or backoff_max < backoff_initial:
        r.errors.append("sync: need 0 < backoff_initial <= backoff_max")

    a = r.section("audience")
    audience_servers = r.patterns("audience", a, "servers", ())
    bad = [s for s in audience_servers if not re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]+)?", s)]
    if bad:
        r.errors.append(f"audience.servers: not homeserver names: {', '.join(bad)}")

    r.known.setdefault("", set()).update({"data_dir", "knowledge_dir", "log_level"})
    data_dir = _path(r, raw, "data_dir", None, base_dir)
    knowledge_dir = _path(r, raw, "knowledge_dir", DEFAULT_KNOWLEDGE_DIR, base_dir)
    log_level = raw.get("log_level", "INFO")
    if not isinstance(log_level, str) or log_level.upper() not in (
        "DEBUG",
        "INFO",
        "WARNING",
        "ERROR",
    ):
        r.errors.append("log_level: must be one of DEBUG, INFO, WARNING, ERROR")
        log_level = "INFO"

    r.known.setdefault("", set()).add("ops")
    # Not ``or {}``: ``ops: []`` or ``ops: 0`` is an error to report, not an empty section.
    ops, ops_errors = parse_ops_settings(raw.get("ops"), "ops")
    r.errors.extend(ops_errors)

    r.check_unknown()
    if r.errors:
        raise ConfigError(r.errors)
    assert homeserver and user_id and device_name and data_dir and knowledge_dir and pickle_key
    return Config(
        matrix=MatrixConfig(
            homeserver=homeserver.rstrip("/"),
            user_id=user_id,
            device_name=device_name,
            proxy=proxy,
            verify_tls=verify_tls,
            request_timeout=request_timeout,
            max_retry_after=max_retry_after,
        ),
        encryption=EncryptionConfig(
            trust=trust, undecryptable_notice_after=undecryptable, admin_trust=admin_trust
        ),
        invites=InviteConfig(
            allowed_servers=allowed_servers,
            allowed_users=allowed_users,
            denied_servers=denied_servers,
            apply_to_senders=apply_to_senders,
        ),
        behaviour=BehaviourConfig(
            command_prefix=prefix,
            context_idle=context_idle,
            catch_up_max_age=catch_up,
            greet_on_join=greet,
            leave_when_alone=leave_alone,
            ignored_users=ignored,
            max_queued_per_agent=max_queued,
            notify_after=notify_after,
        ),
        sync=SyncConfig(
            timeout=sync_timeout,
            timeline_limit=timeline_limit,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
        ),
        data_dir=data_dir,
        knowledge_dir=knowledge_dir,
        log_level=log_level.upper(),
        secrets=Secrets(access_token=access_token, password=password, pickle_key=pickle_key),
        ops=ops,
        audience=AudienceConfig(servers=audience_servers),
    )


def _path(
    r: _Reader, raw: Mapping[str, Any], key: str, default: Path | None, base_dir: Path
) -> Path | None:
    value = raw.get(key)
    if value is None:
        if default is None:
            r.errors.append(f"{key}: required (a writable directory for the bot's state)")
        return default
    if not isinstance(value, str) or not value.strip():
        r.errors.append(f"{key}: must be a path")
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _secret(
    r: _Reader,
    sec: Mapping[str, Any],
    name: str,
    default_env: str,
    base_dir: Path,
    environ: Mapping[str, str],
    read_file: Callable[[Path], str],
) -> str | None:
    """A secret from ``secrets.<name>_file`` if set, else from the variable ``<name>_env``."""
    if name in sec:
        r.errors.append(
            f"secrets.{name}: secrets are not read from the YAML; "
            f"use secrets.{name}_file or the environment variable"
        )
    r.known.setdefault("secrets", set()).add(name)
    file_value = r.string("secrets", sec, f"{name}_file")
    env_name = r.string("secrets", sec, f"{name}_env", default_env) or default_env
    if file_value is not None:
        path = Path(file_value).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            value = read_file(path)
        except SecretFileError as exc:
            r.errors.append(f"secrets.{name}_file: {path} is {exc}")
            return None
        except OSError as exc:
            r.errors.append(f"secrets.{name}_file: cannot read {path}: {exc.strerror or exc}")
            return None
        if not value:
            r.errors.append(f"secrets.{name}_file: {path} is empty")
            return None
    else:
        value = environ.get(env_name, "").strip()
        if not value:
            return None
    if _is_placeholder(value):
        r.errors.append(f"secrets.{name}: still the example's placeholder; set yours")
    return value
