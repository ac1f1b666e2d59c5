"""The bot's configuration, ``ops:`` included: YAML parsed into frozen, typed objects.

The one reader of the config file, for ``tchap-bot run``, ``identity`` and ``check --config``.
``parse_config`` is pure (mapping + environment in, ``Config`` out); ``load_config`` only
reads the file and the secret files it names. Nothing here creates directories or sets up
logging. Every problem is reported at once, in English (operators read it next to the
logs and the docs), located by its key path, in ``ConfigError``.

Defaults are written once, as the dataclasses' field defaults; the parser reads them from
there. Every duration accepts ``90``, ``90s``, ``5m``, ``1h`` or ``1d`` (a plain number is
seconds); every string value is refused while it is still an example's placeholder.

Secrets (access token, password, pickle key) never need to be in the YAML: each is read
from a file named by ``<secret>_file`` or else from an environment variable named by
``<secret>_env`` (with a default name).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.knowledge.shipped import shipped_knowledge_dir

# The knowledge shipped with the bot: the config's default and the CLI's (bot.cli).
DEFAULT_KNOWLEDGE_DIR = shipped_knowledge_dir()

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


class LogFormat(StrEnum):
    TEXT = "text"  # one human-readable line per record
    JSON = "json"  # one JSON object per line, for a log collector (bot.logs)


@dataclass(frozen=True)
class Secrets:
    access_token: str | None
    password: str | None
    pickle_key: str  # empty only when read with ``secrets_required=False`` (check --config)

    def __repr__(self) -> str:  # never print secrets, not even in a traceback
        return "Secrets(<hidden>)"


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str  # base URL of the client-server API
    user_id: str
    device_name: str = "tchap-bot"
    proxy: str | None = None  # http://host:port for ministry networks
    verify_tls: bool = True
    request_timeout: float = 30.0  # seconds, for every request except the long-poll sync
    # A homeserver's (or proxy's) retry_after is honoured up to this many seconds.
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class EncryptionConfig:
    trust: TrustPolicy = TrustPolicy.ACCEPT_UNVERIFIED
    undecryptable_notice_after: float = 60.0  # seconds to wait for a room key before the notice
    admin_trust: AdminTrust = AdminTrust.CROSS_SIGNED


@dataclass(frozen=True)
class InviteConfig:
    allowed_servers: tuple[str, ...] = ()  # glob patterns over the inviter's server name
    allowed_users: tuple[str, ...] = ()  # glob patterns over the inviter's full user id
    # Win over allowed_servers, not over allowed_users (Tchap's external users' server).
    denied_servers: tuple[str, ...] = ("e.tchap.gouv.fr",)
    # The same rules decide whose messages are answered, in any room (a denied user in a
    # room an allowed one brought the bot into is not answered either).
    apply_to_senders: bool = True


@dataclass(frozen=True)
class BehaviourConfig:
    command_prefix: str = "!outils"
    context_idle: float = 30 * 60.0  # seconds after which a conversation's context is forgotten
    catch_up_max_age: float = 3600.0  # seconds: older questions found after a restart are ignored
    greet_on_join: bool = True
    leave_when_alone: bool = True
    ignored_users: tuple[str, ...] = ()  # glob patterns: never answered (other bots...)
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
    timeout: float = 30.0  # long-poll seconds
    timeline_limit: int = 100
    backoff_initial: float = 1.0
    # Well below ops.health.max_sync_age: one wait must not fail the health check.
    backoff_max: float = 60.0


@dataclass(frozen=True)
class HealthSettings:
    enabled: bool = True
    host: str = "127.0.0.1"  # keep it local; a probe or a scraper on the same host reads it
    port: int = 9100  # 0: any free port
    max_sync_age: float = 300.0  # seconds without a successful sync before /healthz fails
    startup_grace: float = 120.0  # seconds /healthz stays OK before the first sync


@dataclass(frozen=True)
class KnowledgeOpsSettings:
    watch: bool = False  # reload when the knowledge files change
    watch_interval: float = 5.0  # seconds between two scans of the directory
    debounce: float = 2.0  # seconds the files must stay unchanged before reloading
    warn_days: int = 30  # warn this many days before a dated entry expires


@dataclass(frozen=True)
class StoreSettings:
    retention_days: int = 90  # unanswered questions and feedback older than this are purged
    store_user_ids: bool = False  # true: also keep the Matrix id of who asked or voted
    votes_from_anyone: bool = False  # true: any member's 👍/👎 counts, not only the asker's


@dataclass(frozen=True)
class OpsSettings:
    """Admins, health server, knowledge watching, feedback store (docs/operations.md)."""

    admins: frozenset[str] = frozenset()  # exact Matrix ids
    health: HealthSettings = field(default_factory=HealthSettings)
    knowledge: KnowledgeOpsSettings = field(default_factory=KnowledgeOpsSettings)
    store: StoreSettings = field(default_factory=StoreSettings)


@dataclass(frozen=True)
class Config:
    matrix: MatrixConfig
    secrets: Secrets
    data_dir: Path
    encryption: EncryptionConfig = EncryptionConfig()
    invites: InviteConfig = InviteConfig()
    behaviour: BehaviourConfig = BehaviourConfig()
    sync: SyncConfig = SyncConfig()
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT
    ops: OpsSettings = OpsSettings()
    audience: AudienceConfig = AudienceConfig()

    @property
    def server_name(self) -> str:
        return self.matrix.user_id.split(":", 1)[1]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def load_config(
    path: Path, environ: Mapping[str, str] | None = None, *, secrets_required: bool = True
) -> Config:
    """Read ``path`` and the secret files it names; raise ``ConfigError`` listing every problem.

    ``secrets_required=False`` (``tchap-bot check --config``) checks everything but reads
    no secret: the config is valid even where the bot's secrets are not available.
    """
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
        secrets_required=secrets_required,
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


def _defaults(cls: type) -> dict[str, Any]:
    """The field defaults of a config dataclass: the one place each default is written."""
    found: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            found[f.name] = f.default
        elif f.default_factory is not MISSING:
            found[f.name] = f.default_factory()
    return found


class _Section:
    """One mapping of the YAML (``""`` is the top level), read key by key into typed values.

    Each reader method returns the default of ``cls`` (its dataclass) when the key is
    absent or wrong, and records the error instead of raising, so all are reported at once.
    """

    def __init__(
        self, path: str, data: Mapping[str, Any], cls: type | None, errors: list[str]
    ) -> None:
        self.path = path
        self.data = data
        self.defaults = _defaults(cls) if cls is not None else {}
        self.errors = errors
        self.known: set[str] = set()
        self.children: list[_Section] = []

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str) -> tuple[str, Any, Any]:
        self.known.add(key)
        return self.key_path(key), self.data.get(key), self.defaults.get(key)

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.key_path(key)}: {message}")

    def section(self, key: str, cls: type | None = None) -> _Section:
        path, value, _ = self._get(key)
        if value is None:
            value = {}
        elif not isinstance(value, Mapping):  # ``ops: []`` is an error, not an empty section
            self.errors.append(f"{path}: must be a mapping of keys")
            value = {}
        child = _Section(path, value, cls, self.errors)
        self.children.append(child)
        return child

    def string(self, key: str, *, required: bool = False) -> Any:
        path, value, default = self._get(key)
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

    def choice(self, key: str, options: tuple[str, ...], *, upper: bool = False) -> Any:
        path, value, default = self._get(key)
        if value is None:
            return default
        if isinstance(value, str) and (value.upper() if upper else value) in options:
            return value.upper() if upper else value
        self.errors.append(f"{path}: must be one of {', '.join(options)}")
        return default

    def boolean(self, key: str) -> Any:
        path, value, default = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.errors.append(f"{path}: must be true or false")
            return default
        return value

    def integer(self, key: str, *, minimum: int, maximum: int | None = None) -> Any:
        path, value, default = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.errors.append(f"{path}: must be an integer >= {minimum}")
            return default
        if maximum is not None and value > maximum:
            self.errors.append(f"{path}: must be an integer between {minimum} and {maximum}")
            return default
        return value

    def duration(self, key: str, *, minimum: float = 0.0) -> Any:
        path, value, default = self._get(key)
        if value is None:
            return default
        seconds = parse_duration(value)
        if seconds is None:
            self.errors.append(
                f"{path}: must be a duration such as 90, 90s, 30m, 2h or 1d (got {value!r})"
            )
            return default
        if seconds < minimum:
            self.errors.append(f"{path}: must be at least {minimum:g} s (got {value!r})")
            return default
        return seconds

    def patterns(self, key: str) -> Any:
        path, value, default = self._get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.errors.append(f"{path}: must be a list of non-empty strings")
            return default
        for v in value:
            if _is_placeholder(v):
                self.errors.append(f"{path}: still the example's placeholder ({v!r}); set yours")
        return tuple(v.strip() for v in value)

    def user_ids(self, key: str) -> Any:
        """Exact Matrix user ids (``@localpart:server``), placeholders refused."""
        path, value, default = self._get(key)
        if value is None:
            return default
        if not isinstance(value, list):
            self.errors.append(f"{path}: must be a list of Matrix user ids")
            return default
        found: set[str] = set()
        for i, item in enumerate(value):
            if isinstance(item, str) and _is_placeholder(item):
                self.errors.append(
                    f"{path}[{i}]: still the example's placeholder ({item!r}); set yours"
                )
            elif not isinstance(item, str) or not _USER_ID_RE.match(item.strip()):
                self.errors.append(
                    f"{path}[{i}]: not a Matrix user id (@localpart:server): {item!r}"
                )
            else:
                found.add(item.strip())
        return frozenset(found)

    def path_value(self, key: str, base_dir: Path, *, required: str = "") -> Any:
        """A path, relative to ``base_dir``; ``required`` says why it may not be absent."""
        if required and self.data.get(key) is None:
            self.known.add(key)
            self.error(key, f"required ({required})")
            return None
        value = self.string(key)
        if not isinstance(value, str):
            return value  # the default
        path = Path(value).expanduser()
        return path if path.is_absolute() else base_dir / path

    def check_unknown(self) -> None:
        for key in self.data:
            if key not in self.known:
                self.errors.append(f"{self.key_path(str(key))}: unknown key")
        for child in self.children:
            child.check_unknown()


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
    secrets_required: bool = True,
) -> Config:
    """Build a ``Config`` from the parsed YAML; relative paths are relative to ``base_dir``."""
    errors: list[str] = []
    root = _Section("", raw, Config, errors)

    m = root.section("matrix", MatrixConfig)
    homeserver = m.string("homeserver", required=True)
    if homeserver is not None:
        parsed = urlparse(homeserver)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            m.error("homeserver", "must be an http(s) URL, e.g. https://matrix.…")
    user_id = m.string("user_id", required=True)
    if user_id is not None and not _is_placeholder(user_id) and not _USER_ID_RE.match(user_id):
        m.error("user_id", f"not a Matrix user id (@localpart:server): {user_id!r}")
    proxy = m.string("proxy")
    if proxy is not None and urlparse(proxy).scheme not in ("http", "https", "socks5"):
        m.error("proxy", "must be a URL such as http://proxy.example:3128")
    matrix = MatrixConfig(
        homeserver=(homeserver or "").rstrip("/"),
        user_id=user_id or "",
        device_name=m.string("device_name"),
        proxy=proxy,
        verify_tls=m.boolean("verify_tls"),
        request_timeout=m.duration("request_timeout"),
        max_retry_after=m.duration("max_retry_after"),
    )

    secrets = _secrets(root.section("secrets"), base_dir, environ, read_file, secrets_required)

    e = root.section("encryption", EncryptionConfig)
    encryption = EncryptionConfig(
        trust=TrustPolicy(e.choice("trust", tuple(p.value for p in TrustPolicy))),
        undecryptable_notice_after=e.duration("undecryptable_notice_after"),
        admin_trust=AdminTrust(e.choice("admin_trust", tuple(p.value for p in AdminTrust))),
    )

    i = root.section("invites", InviteConfig)
    invites = InviteConfig(
        allowed_servers=i.patterns("allowed_servers"),
        allowed_users=i.patterns("allowed_users"),
        denied_servers=i.patterns("denied_servers"),
        apply_to_senders=i.boolean("apply_to_senders"),
    )

    b = root.section("behaviour", BehaviourConfig)
    prefix = b.string("command_prefix")
    if any(ch.isspace() for ch in prefix):
        b.error("command_prefix", "must not contain spaces")
    behaviour = BehaviourConfig(
        command_prefix=prefix,
        context_idle=b.duration("context_idle"),
        catch_up_max_age=b.duration("catch_up_max_age"),
        greet_on_join=b.boolean("greet_on_join"),
        leave_when_alone=b.boolean("leave_when_alone"),
        ignored_users=b.patterns("ignored_users"),
        max_queued_per_agent=b.integer("max_queued_per_agent", minimum=1),
        notify_after=b.duration("notify_after"),
    )

    y = root.section("sync", SyncConfig)
    sync = SyncConfig(
        timeout=y.duration("timeout"),
        timeline_limit=y.integer("timeline_limit", minimum=1),
        backoff_initial=y.duration("backoff_initial"),
        backoff_max=y.duration("backoff_max"),
    )
    if sync.backoff_initial <= 0 or sync.backoff_max < sync.backoff_initial:
        errors.append("sync: need 0 < backoff_initial <= backoff_max")

    a = root.section("audience", AudienceConfig)
    audience = AudienceConfig(servers=a.patterns("servers"))
    bad = [s for s in audience.servers if not re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]+)?", s)]
    if bad:
        a.error("servers", f"not homeserver names: {', '.join(bad)}")

    data_dir = root.path_value(
        "data_dir", base_dir, required="a writable directory for the bot's state"
    )
    knowledge_dir = root.path_value("knowledge_dir", base_dir)
    log_level = root.choice("log_level", LOG_LEVELS, upper=True)
    log_format = LogFormat(root.choice("log_format", tuple(f.value for f in LogFormat)))
    ops = _ops(root.section("ops", OpsSettings))

    root.check_unknown()
    if errors:
        raise ConfigError(list(errors))
    assert data_dir is not None and knowledge_dir is not None
    return Config(
        matrix=matrix,
        secrets=secrets,
        data_dir=data_dir,
        encryption=encryption,
        invites=invites,
        behaviour=behaviour,
        sync=sync,
        knowledge_dir=knowledge_dir,
        log_level=log_level,
        log_format=log_format,
        ops=ops,
        audience=audience,
    )


def _ops(o: _Section) -> OpsSettings:
    h = o.section("health", HealthSettings)
    k = o.section("knowledge", KnowledgeOpsSettings)
    s = o.section("store", StoreSettings)
    return OpsSettings(
        admins=o.user_ids("admins"),
        health=HealthSettings(
            enabled=h.boolean("enabled"),
            host=h.string("host"),
            port=h.integer("port", minimum=0, maximum=65535),
            max_sync_age=h.duration("max_sync_age", minimum=1),
            startup_grace=h.duration("startup_grace"),
        ),
        knowledge=KnowledgeOpsSettings(
            watch=k.boolean("watch"),
            watch_interval=k.duration("watch_interval", minimum=0.1),
            debounce=k.duration("debounce"),
            warn_days=k.integer("warn_days", minimum=0),
        ),
        store=StoreSettings(
            retention_days=s.integer("retention_days", minimum=1),
            store_user_ids=s.boolean("store_user_ids"),
            votes_from_anyone=s.boolean("votes_from_anyone"),
        ),
    )


_SECRETS = (
    ("access_token", "TCHAP_BOT_ACCESS_TOKEN"),
    ("password", "TCHAP_BOT_PASSWORD"),
    ("pickle_key", "TCHAP_BOT_PICKLE_KEY"),
)


def _secrets(
    s: _Section,
    base_dir: Path,
    environ: Mapping[str, str],
    read_file: Callable[[Path], str],
    required: bool,
) -> Secrets:
    reader = read_file if required else None
    access_token, password, pickle_key = (
        _secret(s, name, env, base_dir, environ, reader) for name, env in _SECRETS
    )
    if not required:
        return Secrets(None, None, "")
    if access_token is None and password is None:
        s.errors.append(
            "secrets: neither an access token nor a password is available "
            "(set TCHAP_BOT_ACCESS_TOKEN or secrets.access_token_file, "
            "or TCHAP_BOT_PASSWORD or secrets.password_file)"
        )
    if pickle_key is None:
        s.error(
            "pickle_key",
            "required to encrypt the keys store (set TCHAP_BOT_PICKLE_KEY or "
            "secrets.pickle_key_file)",
        )
    elif pickle_key == _LIBRARY_DEFAULT_PICKLE_KEY or len(pickle_key) < MIN_PICKLE_KEY_LENGTH:
        s.error(
            "pickle_key",
            f"must be a random secret of at least {MIN_PICKLE_KEY_LENGTH} characters "
            "(e.g. `openssl rand -hex 32`), not the library's default",
        )
    return Secrets(access_token=access_token, password=password, pickle_key=pickle_key or "")


def _secret(
    s: _Section,
    name: str,
    default_env: str,
    base_dir: Path,
    environ: Mapping[str, str],
    read_file: Callable[[Path], str] | None,
) -> str | None:
    """A secret from ``secrets.<name>_file`` if set, else from the variable ``<name>_env``.

    ``read_file=None``: the keys are checked, the secret itself is not read."""
    if name in s.data:
        s.error(
            name,
            f"secrets are not read from the YAML; use secrets.{name}_file or the "
            "environment variable",
        )
    s.known.add(name)
    file_value = s.string(f"{name}_file")
    env_name = s.string(f"{name}_env") or default_env
    if read_file is None:
        return None
    if file_value is not None:
        path = Path(file_value).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            value = read_file(path)
        except SecretFileError as exc:
            s.error(f"{name}_file", f"{path} is {exc}")
            return None
        except OSError as exc:
            s.error(f"{name}_file", f"cannot read {path}: {exc.strerror or exc}")
            return None
        if not value:
            s.error(f"{name}_file", f"{path} is empty")
            return None
    else:
        value = environ.get(env_name, "").strip()
        if not value:
            return None
    if _is_placeholder(value):
        s.error(name, "still the example's placeholder; set yours")
    return value
