"""The cross-signing keys (sealed file, signatures) and the user-interactive auth flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from bot.matrix.identity import AccountKeys, signed_by
from bot.matrix.identity_keys import CrossSigningKeys, IdentityFileError, load, read_public
from bot.matrix.raw_api import ApiResult
from bot.matrix.uia import UiaError, authenticated

USER = "@outils:agent.interieur.tchap.gouv.fr"
PICKLE = "0123456789abcdef0123456789abcdef"


def verify_key(public: str) -> Any:
    return decode_verify_key_bytes(f"ed25519:{public}", decode_base64(public))


def test_keys_survive_the_sealed_file_and_nothing_private_is_in_clear(tmp_path: Path) -> None:
    keys = CrossSigningKeys.generate(USER)
    path = tmp_path / "cross-signing.json"
    keys.save(path, PICKLE)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load(path, PICKLE, USER)
    assert loaded is not None
    assert (loaded.master_public, loaded.self_signing_public, loaded.user_signing_public) == (
        keys.master_public,
        keys.self_signing_public,
        keys.user_signing_public,
    )
    text = path.read_text()
    assert PICKLE not in text
    from signedjson.key import encode_signing_key_base64

    for private in (keys.master, keys.self_signing, keys.user_signing):
        assert encode_signing_key_base64(private) not in text
    assert read_public(path) == {
        "master": keys.master_public,
        "self_signing": keys.self_signing_public,
        "user_signing": keys.user_signing_public,
    }
    assert "master" in repr(keys) and encode_signing_key_base64(keys.master) not in repr(keys)


def test_no_file_is_no_identity(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.json", PICKLE, USER) is None
    assert read_public(tmp_path / "absent.json") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d, "another one"),  # loaded with another pickle key
        (lambda d: {**d, "user_id": "@autre:serveur"}, "not of"),
        (lambda d: {**d, "public": {**d["public"], "master": "AAAA"}}, "do not match"),
        (lambda d: {**d, "sealed": "zz"}, "malformed"),
        (lambda d: {**d, "format": 9}, "unknown format"),
    ],
)
def test_an_unusable_identity_file_says_why_and_shows_no_key(
    tmp_path: Path, change: Any, message: str
) -> None:
    path = tmp_path / "cross-signing.json"
    CrossSigningKeys.generate(USER).save(path, PICKLE)
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    key = "another pickle key, 32 characters" if message == "another one" else PICKLE
    with pytest.raises(IdentityFileError, match=message) as raised:
        load(path, key, USER)
    assert str(path) in str(raised.value)
    assert PICKLE not in str(raised.value)


def test_upload_body_signs_the_subkeys_with_the_master_key() -> None:
    keys = CrossSigningKeys.generate(USER)
    body = keys.upload_body()
    master = verify_key(keys.master_public)
    assert body["master_key"]["usage"] == ["master"]
    for name, usage in (("self_signing_key", "self_signing"), ("user_signing_key", "user_signing")):
        assert body[name]["usage"] == [usage]
        verify_signed_json(body[name], USER, master)
    other = CrossSigningKeys.generate(USER)
    with pytest.raises(SignatureVerifyException):
        verify_signed_json(body["self_signing_key"], USER, verify_key(other.master_public))


def test_a_device_is_signed_as_served_without_its_unsigned_part() -> None:
    keys = CrossSigningKeys.generate(USER)
    served = {
        "user_id": USER,
        "device_id": "BOTDEVICE",
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {"curve25519:BOTDEVICE": "curve", "ed25519:BOTDEVICE": "ed"},
        "signatures": {USER: {"ed25519:BOTDEVICE": "self-signature"}},
        "unsigned": {"device_display_name": "tchap-bot"},
    }
    signed = keys.sign_device(served)
    assert "unsigned" not in signed
    assert list(signed["signatures"][USER]) == [f"ed25519:{keys.self_signing_public}"]
    assert served["signatures"] == {USER: {"ed25519:BOTDEVICE": "self-signature"}}  # untouched
    # What a client checks: the device keys it is served, signed by the self-signing key
    # that the master key signed.
    account = AccountKeys(
        USER,
        keys.upload_body()["master_key"],
        keys.upload_body()["self_signing_key"],
        {"BOTDEVICE": {**served, "signatures": signed["signatures"]}},
    )
    assert account.device_cross_signed("BOTDEVICE")
    assert account.device_with_curve_key("curve") == "BOTDEVICE"
    tampered = {**served, "keys": {**served["keys"], "curve25519:BOTDEVICE": "other"}}
    assert not signed_by(
        {**tampered, "signatures": signed["signatures"]}, USER, keys.self_signing_public
    )
    other = CrossSigningKeys.generate(USER)
    assert not AccountKeys(
        USER,
        other.upload_body()["master_key"],  # a self-signing key its master did not sign
        keys.upload_body()["self_signing_key"],
        account.devices,
    ).device_cross_signed("BOTDEVICE")


# -- user-interactive auth ---------------------------------------------------------------

PASSWORD_FLOW = ApiResult(
    401, {"session": "s1", "flows": [{"stages": ["m.login.password"]}], "params": {}}
)
OAUTH_FLOW = ApiResult(
    401,
    {
        "session": "s2",
        "flows": [{"stages": ["org.matrix.cross_signing_reset"]}],
        "params": {
            "org.matrix.cross_signing_reset": {
                "url": "https://auth.tchap.gouv.fr/account/?action=org.matrix.cross_signing_reset"
            }
        },
    },
)


class Homeserver:
    """Answers a UIA request: the challenge first, then 200 to any auth."""

    def __init__(self, challenge: ApiResult) -> None:
        self.challenge = challenge
        self.auths: list[dict[str, Any] | None] = []

    async def request(self, auth: dict[str, Any] | None) -> ApiResult:
        self.auths.append(auth)
        return self.challenge if auth is None else ApiResult(200, {})


async def test_password_flow_retries_with_the_session_and_the_password() -> None:
    server = Homeserver(PASSWORD_FLOW)
    result = await authenticated(
        server.request, user_id=USER, password=lambda: "secret", approve=None
    )
    assert result.ok
    assert server.auths == [
        None,
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": USER},
            "password": "secret",
            "session": "s1",
        },
    ]


async def test_oauth_approval_shows_the_url_then_retries_with_the_session_only() -> None:
    server = Homeserver(OAUTH_FLOW)
    shown: list[str] = []

    async def approve(url: str) -> None:
        shown.append(url)

    result = await authenticated(
        server.request, user_id=USER, password=lambda: "pw", approve=approve
    )
    assert result.ok
    assert shown == [OAUTH_FLOW.body["params"]["org.matrix.cross_signing_reset"]["url"]]
    assert server.auths == [None, {"session": "s2"}]


async def test_oauth_without_a_terminal_names_the_url() -> None:
    with pytest.raises(UiaError, match=r"https://auth\.tchap\.gouv\.fr/account/"):
        await authenticated(
            Homeserver(OAUTH_FLOW).request, user_id=USER, password=lambda: None, approve=None
        )


async def test_a_password_flow_without_a_password_and_unknown_stages_are_explained() -> None:
    with pytest.raises(UiaError, match="TCHAP_BOT_PASSWORD"):
        await authenticated(
            Homeserver(PASSWORD_FLOW).request, user_id=USER, password=lambda: None, approve=None
        )
    captcha = ApiResult(401, {"session": "s", "flows": [{"stages": ["m.login.recaptcha"]}]})
    with pytest.raises(UiaError, match=r"m\.login\.recaptcha"):
        await authenticated(
            Homeserver(captcha).request, user_id=USER, password=lambda: "pw", approve=None
        )


async def test_a_request_that_needs_no_auth_is_sent_once() -> None:
    server = Homeserver(ApiResult(200, {}))
    assert (
        await authenticated(server.request, user_id=USER, password=lambda: "pw", approve=None)
    ).ok
    assert server.auths == [None]
    refused = Homeserver(ApiResult(401, {"errcode": "M_UNKNOWN_TOKEN"}))  # not a UIA challenge
    result = await authenticated(refused.request, user_id=USER, password=lambda: "pw", approve=None)
    assert result.errcode == "M_UNKNOWN_TOKEN" and refused.auths == [None]
