"""The bot's config: typed, every error at once with its key path, no secret in YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    AdminTrust,
    ConfigError,
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
