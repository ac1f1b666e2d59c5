"""The bot's config: typed, every error at once with its key path, no secret in YAML."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import (
    AdminTrust,
    BehaviourConfig,
    ConfigError,
    EncryptionConfig,
    InviteConfig,
    LogFormat,
    MatrixConfig,
    OpsSettings,
    SyncConfig,
    TrustPolicy,
    load_config,
    parse_config,
    parse_duration,
)

REPO = Path(__file__).resolve().parents[2]
KEY = "0123456789abcdef0123456789abcdef"


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "matrix": {
            "homeserver": "https://matrix.agent.interieur.tchap.gouv.fr",
            "user_id": "@outils-interieur.gouv.fr:agent.interieur.tchap.gouv.fr",
        },
        "data_dir": "data",
        **extra,
    }


def parse(
    raw: dict[str, Any], env: dict[str, str] | None = None, files: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    environ = (
        {"TCHAP_BOT_ACCESS_TOKEN": "syt_token", "TCHAP_BOT_PICKLE_KEY": KEY} if env is None else env
    )

    def read_file(path: Path) -> str:
        try:
            return (files or {})[path.name]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory") from None

    return parse_config(raw, base_dir=Path("/etc/tchap-bot"), environ=environ, read_file=read_file)


def errors_of(raw: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(raw, **kwargs)
    return info.value.errors


def test_minimal_config_gets_defaults() -> None:
    config = parse(minimal())
    assert config.data_dir == Path("/etc/tchap-bot/data")
    assert config.secrets.access_token == "syt_token"
    assert config.encryption.trust is TrustPolicy.ACCEPT_UNVERIFIED
    assert config.encryption.admin_trust is AdminTrust.CROSS_SIGNED
    assert config.behaviour.notify_after == 30.0
    assert config.behaviour.command_prefix == "!outils"
    assert config.invites.denied_servers == ("e.tchap.gouv.fr",)
    assert config.sync.timeline_limit == 100
    assert (config.sync.backoff_initial, config.sync.backoff_max) == (1.0, 60.0)
    # One backoff wait must stay well below the health check's limit.
    assert config.sync.backoff_max + config.sync.timeout < config.ops.health.max_sync_age / 2
    assert config.server_name == "agent.interieur.tchap.gouv.fr"
    assert "syt_token" not in repr(config)


def test_every_error_is_listed_with_its_key_path() -> None:
    errors = errors_of(
        {
            "matrix": {"homeserver": "ftp://x", "user_id": "bot", "surprise": 1},
            "behaviour": {"context_idle": "soon", "command_prefix": "! outils"},
            "sync": {"timeline_limit": 0},
            "encryption": {"trust": "everyone", "admin_trust": "whoever"},
        },
        env={},
    )
    joined = "\n".join(errors)
    for path in (
        "matrix.homeserver",
        "matrix.user_id",
        "matrix.surprise: unknown key",
        "behaviour.context_idle",
        "behaviour.command_prefix",
        "sync.timeline_limit",
        "encryption.trust",
        "encryption.admin_trust: must be one of cross_signed, any",
        "data_dir: required",
        "secrets: neither an access token nor a password",
        "secrets.pickle_key: required",
    ):
        assert path in joined, path


def test_example_placeholders_are_refused() -> None:
    example = load_config_errors(REPO / "config.example.yaml")
    assert any("matrix.homeserver: still the example's placeholder" in e for e in example)
    assert any("matrix.user_id: still the example's placeholder" in e for e in example)
    raw = minimal()
    raw["matrix"]["homeserver"] = "https://matrix.example.org"
    assert any("placeholder" in e for e in errors_of(raw))


def load_config_errors(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, {"TCHAP_BOT_ACCESS_TOKEN": "t", "TCHAP_BOT_PICKLE_KEY": KEY})
    return info.value.errors


def test_secrets_come_from_files_or_env_never_from_yaml() -> None:
    raw = minimal(secrets={"access_token_file": "token", "pickle_key_env": "MY_KEY"})
    config = parse(raw, env={"MY_KEY": KEY}, files={"token": "syt_from_file"})
    assert config.secrets.access_token == "syt_from_file"
    assert config.secrets.pickle_key == KEY
    errors = errors_of(minimal(secrets={"access_token": "syt_inline"}))
    assert any("secrets.access_token: secrets are not read from the YAML" in e for e in errors)
    errors = errors_of(
        minimal(secrets={"password_file": "missing"}), env={"TCHAP_BOT_PICKLE_KEY": KEY}
    )
    assert any(e.startswith("secrets.password_file: cannot read") for e in errors)


@pytest.mark.parametrize("key", ["DEFAULT_KEY", "short"])
def test_weak_or_library_default_pickle_key_is_refused(key: str) -> None:
    errors = errors_of(minimal(), env={"TCHAP_BOT_ACCESS_TOKEN": "t", "TCHAP_BOT_PICKLE_KEY": key})
    assert any(e.startswith("secrets.pickle_key: must be a random secret") for e in errors)


def test_password_alone_is_enough() -> None:
    config = parse(minimal(), env={"TCHAP_BOT_PASSWORD": "pw", "TCHAP_BOT_PICKLE_KEY": KEY})
    assert config.secrets.access_token is None and config.secrets.password == "pw"


def test_ops_section_errors_are_reported_with_the_others() -> None:
    errors = errors_of(minimal(ops={"health": {"port": 70000}}, log_level="LOUD"))
    assert any(e.startswith("ops.health.port") for e in errors)
    assert any(e.startswith("log_level") for e in errors)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        ("soon", None),
        (-1, None),
        (True, None),
    ],
)
def test_durations(value: object, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


def test_loading_has_no_side_effect(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "matrix:\n  homeserver: https://hs.test\n  user_id: '@bot:hs.test'\ndata_dir: state\n"
    )
    config = load_config(path, {"TCHAP_BOT_ACCESS_TOKEN": "t", "TCHAP_BOT_PICKLE_KEY": KEY})
    assert config.data_dir == tmp_path / "state"
    assert not config.data_dir.exists()


def test_the_example_shows_the_sync_defaults() -> None:
    import yaml

    sync = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))["sync"]
    defaults = parse(minimal()).sync
    assert parse_duration(sync["backoff_max"]) == defaults.backoff_max == 60.0
    assert parse_duration(sync["backoff_initial"]) == defaults.backoff_initial


@pytest.mark.parametrize("ops", [[], 0, "", "health"])
def test_an_ops_section_that_is_not_a_mapping_is_an_error(ops: Any) -> None:
    errors = errors_of(minimal(ops=ops))
    assert any(e.startswith("ops: ") for e in errors), errors


def test_a_secret_file_others_can_read_is_refused_with_the_chmod_to_run(tmp_path: Path) -> None:
    secret = tmp_path / "pickle_key"
    secret.write_text(KEY)
    secret.chmod(0o644)
    path = tmp_path / "config.yaml"
    path.write_text(
        "matrix:\n  homeserver: https://hs.test\n  user_id: '@bot:hs.test'\ndata_dir: state\n"
        f"secrets:\n  pickle_key_file: {secret}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, {"TCHAP_BOT_ACCESS_TOKEN": "t"})
    [error] = [e for e in info.value.errors if e.startswith("secrets.pickle_key_file")]
    assert f"chmod 600 {secret}" in error and "0644" in error and KEY not in error
    secret.chmod(0o600)
    assert load_config(path, {"TCHAP_BOT_ACCESS_TOKEN": "t"}).secrets.pickle_key == KEY


def test_audience_servers() -> None:
    assert parse(minimal()).audience.servers == ()  # everyone is the guide's audience
    config = parse(minimal(audience={"servers": ["agent.developpement-durable.tchap.gouv.fr"]}))
    assert config.audience.servers == ("agent.developpement-durable.tchap.gouv.fr",)
    errors = errors_of(minimal(audience={"servers": ["not a server!"], "serveurs": []}))
    assert any(e.startswith("audience.servers: not homeserver names") for e in errors)
    assert "audience.serveurs: unknown key" in errors


# -- ops: read by the same reader as the rest -------------------------------------------


def test_ops_durations_accept_units_and_plain_seconds() -> None:
    ops = parse(
        minimal(
            ops={
                "health": {"max_sync_age": "5m", "startup_grace": 90},
                "knowledge": {"watch_interval": "30s", "debounce": "1.5s"},
            }
        )
    ).ops
    assert (ops.health.max_sync_age, ops.health.startup_grace) == (300.0, 90.0)
    assert (ops.knowledge.watch_interval, ops.knowledge.debounce) == (30.0, 1.5)
    assert (
        "ops.health.max_sync_age: must be a duration"
        in errors_of(minimal(ops={"health": {"max_sync_age": "soon"}}))[0]
    )


def test_a_placeholder_in_ops_admins_is_refused() -> None:
    errors = errors_of(minimal(ops={"admins": ["@CHANGE-ME:agent.CHANGE-ME.tchap.gouv.fr"]}))
    assert errors == [
        "ops.admins[0]: still the example's placeholder "
        "('@CHANGE-ME:agent.CHANGE-ME.tchap.gouv.fr'); set yours"
    ]
    admins = parse(minimal(ops={"admins": ["@jeanne.martin:agent.interieur.tchap.gouv.fr"]}))
    assert admins.ops.admins == frozenset({"@jeanne.martin:agent.interieur.tchap.gouv.fr"})


def test_ops_errors_are_listed_with_their_paths_in_english() -> None:
    errors = errors_of(
        minimal(
            ops={
                "admins": ["@admin:agent.tchap.gouv.fr", "pas-un-id"],
                "health": {"port": 70000, "host": ""},
                "knowledge": {"watch": "oui", "warn_days": "trente"},
                "store": {"retention_days": 0, "unknown": 1},
            },
            matrix={"homeserver": "https://hs.test", "user_id": "bot"},
        )
    )
    assert errors == [
        "matrix.user_id: not a Matrix user id (@localpart:server): 'bot'",
        "ops.admins[1]: not a Matrix user id (@localpart:server): 'pas-un-id'",
        "ops.health.host: must be a non-empty string",
        "ops.health.port: must be an integer between 0 and 65535",
        "ops.knowledge.watch: must be true or false",
        "ops.knowledge.warn_days: must be an integer >= 0",
        "ops.store.retention_days: must be an integer >= 1",
        "ops.store.unknown: unknown key",
    ]


def test_one_bad_config_is_told_in_one_language() -> None:
    """Every reader's errors together: none of the French words the ops reader used."""
    errors = errors_of(
        {
            "matrix": {"homeserver": 3, "user_id": "x", "proxy": "ftp://p"},
            "secrets": {"password": "inline"},
            "encryption": {"trust": "?"},
            "behaviour": {"notify_after": "bientôt", "max_queued_per_agent": 0},
            "ops": {
                "admins": "@a:b",
                "health": {"enabled": "oui", "port": "x", "max_sync_age": 0},
                "knowledge": [],
                "surprise": {},
            },
            "log_format": "xml",
        },
        env={},
    )
    assert len(errors) >= 12, errors
    french = re.compile(r"\b(doit|être|clé|inconnue|identifiant|reçu|nombre|valoir)\b")
    assert [e for e in errors if french.search(e)] == []


def test_the_example_documents_the_defaults() -> None:
    """config.example.yaml, its placeholders filled in, gives the dataclasses' defaults."""
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    text = text.replace("@CHANGE-ME:agent.CHANGE-ME", "@bot:agent.interieur").replace(
        "CHANGE-ME", "interieur"
    )
    config = parse(yaml.safe_load(text))
    assert config.ops == OpsSettings()
    assert config.sync == SyncConfig()
    assert config.behaviour == BehaviourConfig()
    assert config.encryption == EncryptionConfig()
    assert config.log_format is LogFormat.TEXT and config.log_level == "INFO"
    assert replace(config.matrix, homeserver="", user_id="") == MatrixConfig("", "")
    assert config.invites.denied_servers == InviteConfig().denied_servers


def test_without_required_secrets_the_rest_is_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "matrix:\n  homeserver: https://hs.test\n  user_id: '@bot:hs.test'\ndata_dir: state\n"
        "secrets:\n  password_file: /nonexistent/password\n"
    )
    config = load_config(path, {}, secrets_required=False)  # nothing read, nothing missing
    assert config.secrets.password is None and config.ops == OpsSettings()
    path.write_text(path.read_text() + "ops:\n  admins: ['@CHANGE-ME:hs.test']\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {}, secrets_required=False)
    assert [e.split(":")[0] for e in info.value.errors] == ["ops.admins[0]"]


def test_log_format() -> None:
    assert parse(minimal(log_format="json")).log_format is LogFormat.JSON
    assert errors_of(minimal(log_format="xml")) == ["log_format: must be one of text, json"]
