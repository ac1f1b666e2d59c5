"""The bot's cross-signing identity on the homeserver: checked at every start, mended when
something is missing, never silently replaced.

At start (after login, once the device keys are uploaded, before the first sync):

1. read the account's keys from ``/keys/query``;
2. no master key on the account: use the held keys (or make them, saved first), upload
   them (no password needed for a first upload, MSC3967);
3. a master key the bot does not hold (another client set one up, or the identity file
   was lost): do nothing, say so in the log and on ``/readyz`` (``NOT_HELD``): replacing
   it would make every agent's client warn that the bot's identity changed, so that is
   the operator's call (``tchap-bot identity reset``);
4. sign what is not signed yet: this device by the self-signing key (what clients check)
   and the master key by this device (as Element does).

A normal restart finds everything in place and uploads nothing. A new device (new token,
lost crypto store) is signed with the held keys, with no password.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from nio import AsyncClient
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from bot.matrix import identity_keys
from bot.matrix.identity_keys import CrossSigningKeys
from bot.matrix.raw_api import ApiResult, call
from bot.matrix.uia import Request

log = logging.getLogger(__name__)

KEYS_QUERY = "/_matrix/client/v3/keys/query"
SIGNING_UPLOAD = "/_matrix/client/v3/keys/device_signing/upload"
SIGNATURES_UPLOAD = "/_matrix/client/v3/keys/signatures/upload"


class IdentityState(StrEnum):
    SIGNED = "signed"  # this device is cross-signed by the identity the bot holds
    NOT_HELD = "not_held"  # the account's master key is not the one the bot holds
    FAILED = "failed"  # the homeserver refused or could not be asked; retried later


@dataclass(frozen=True)
class IdentityStatus:
    state: IdentityState
    detail: str
    master: str | None = None  # the master public key in use on the account
    uploaded: tuple[str, ...] = ()  # what this check uploaded ("keys", "signatures")

    @property
    def signed(self) -> bool:
        return self.state is IdentityState.SIGNED


NOT_SIGNED_MEANING = (
    "agents whose client excludes insecure devices (Element and Tchap by default) cannot "
    "read the bot's messages and do not share their keys with it; others see a red shield"
)


def _verify_key(public: str, key_id: str) -> Any:
    return decode_verify_key_bytes(key_id, decode_base64(public))


def signed_by(
    obj: dict[str, Any] | None, user_id: str, public: str | None, key_name: str | None = None
) -> bool:
    """Whether ``obj`` carries a valid signature of ``user_id``'s key ``public``, whose id
    is ``ed25519:<key_name>`` (a device's id; a cross-signing key is named by itself)."""
    if obj is None or public is None:
        return False
    key_id = f"ed25519:{key_name or public}"
    if key_id not in obj.get("signatures", {}).get(user_id, {}):
        return False
    try:
        verify_signed_json(dict(obj), user_id, _verify_key(public, key_id))
    except (SignatureVerifyException, ValueError, TypeError):
        return False
    return True


def _only_key(obj: dict[str, Any] | None) -> str | None:
    """The public key of a cross-signing key object (it holds exactly one)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("keys"), dict):
        return None
    values = [v for v in obj["keys"].values() if isinstance(v, str)]
    return values[0] if len(values) == 1 else None


@dataclass(frozen=True)
class AccountKeys:
    """A user's keys as ``/keys/query`` serves them."""

    user_id: str
    master_object: dict[str, Any] | None
    self_signing_object: dict[str, Any] | None
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def master(self) -> str | None:
        return _only_key(self.master_object)

    @property
    def self_signing(self) -> str | None:
        return _only_key(self.self_signing_object)

    def chain_valid(self) -> bool:
        """The self-signing key is signed by the master key."""
        return signed_by(self.self_signing_object, self.user_id, self.master)

    def device_cross_signed(self, device_id: str) -> bool:
        """The device is signed by a self-signing key that the master key signed."""
        return self.chain_valid() and signed_by(
            self.devices.get(device_id), self.user_id, self.self_signing
        )

    def device_with_curve_key(self, curve25519: str) -> str | None:
        for device_id, keys in self.devices.items():
            if keys.get("keys", {}).get(f"curve25519:{device_id}") == curve25519:
                return device_id
        return None

    @classmethod
    def parse(cls, user_id: str, body: dict[str, Any]) -> AccountKeys:
        def section(name: str) -> Any:
            value = body.get(name, {})
            return value.get(user_id) if isinstance(value, dict) else None

        devices = section("device_keys")
        return cls(
            user_id,
            section("master_keys"),
            section("self_signing_keys"),
            {k: v for k, v in devices.items() if isinstance(v, dict)}
            if isinstance(devices, dict)
            else {},
        )


class IdentityError(Exception):
    """A request of the cross-signing upkeep was refused; the message says which."""


async def query_keys(client: AsyncClient, user_id: str) -> AccountKeys:
    result = await call(client, "POST", KEYS_QUERY, {"device_keys": {user_id: []}})
    if not result.ok:
        raise IdentityError(f"/keys/query refused: {result.describe()}")
    return AccountKeys.parse(user_id, result.body)


async def upload_signatures(client: AsyncClient, user_id: str, signed: dict[str, Any]) -> None:
    """``signed``: key id (device id or master public key) -> signed object."""
    result = await call(client, "POST", SIGNATURES_UPLOAD, {user_id: signed})
    failures = result.body.get("failures") or {}
    if not result.ok or failures:
        raise IdentityError(f"signature upload refused: {result.describe()} {failures}"[:500])


def identity_path(data_dir: Path) -> Path:
    return data_dir / identity_keys.FILE_NAME


class Identity:
    """Owns the bot's cross-signing upkeep (see the module docstring)."""

    def __init__(self, client: AsyncClient, data_dir: Path, pickle_key: str) -> None:
        self._client = client
        self._path = identity_path(data_dir)
        self._pickle_key = pickle_key
        self.status: IdentityStatus | None = None

    def load_held(self) -> CrossSigningKeys | None:
        """The held keys; ``IdentityFileError`` (exit 2) if the file is unusable."""
        return identity_keys.load(self._path, self._pickle_key, str(self._client.user_id))

    async def ensure(self) -> IdentityStatus:
        """Check and mend; never raises for the homeserver's sake (``FAILED`` then)."""
        try:
            status = await self._ensure(self.load_held())
        except IdentityError as exc:
            status = IdentityStatus(IdentityState.FAILED, str(exc))
        except (OSError, TimeoutError) as exc:  # aiohttp's errors are OSError subclasses
            status = IdentityStatus(IdentityState.FAILED, f"homeserver unreachable: {exc!r}")
        self.status = status
        if status.signed:
            log.info(
                "cross-signing: device %s signed by master key %s%s",
                self._client.device_id,
                status.master,
                f" (uploaded: {', '.join(status.uploaded)})" if status.uploaded else "",
            )
        elif status.state is IdentityState.NOT_HELD:
            log.error(
                "cross-signing: device %s is NOT signed: %s. This means %s. See "
                "`tchap-bot identity status` and `tchap-bot identity reset` (docs/matrix-bot.md)",
                self._client.device_id,
                status.detail,
                NOT_SIGNED_MEANING,
            )
        else:
            log.warning("cross-signing not checked: %s; retrying later", status.detail)
        return status

    async def _ensure(self, held: CrossSigningKeys | None) -> IdentityStatus:
        client = self._client
        user_id, device_id = str(client.user_id), str(client.device_id)
        account = await query_keys(client, user_id)
        served = account.devices.get(device_id)
        own = client.olm.account.identity_keys if client.olm else {}
        if served is None or served.get("keys", {}).get(f"ed25519:{device_id}") != own.get(
            "ed25519"
        ):
            # Never sign keys that are not this store's: they would vouch for another device.
            raise IdentityError(f"the homeserver does not hold this device's keys ({device_id})")
        uploaded: list[str] = []
        if account.master is None:
            if held is None:
                held = CrossSigningKeys.generate(user_id)
                held.save(self._path, self._pickle_key)  # before the upload: never lose it
                log.info("cross-signing: new identity, master key %s", held.master_public)
            result = await call(client, "POST", SIGNING_UPLOAD, held.upload_body())
            if not result.ok:
                raise IdentityError(f"cross-signing keys upload refused: {result.describe()}")
            uploaded.append("keys")
            account = await query_keys(client, user_id)
        if held is None or account.master != held.master_public:
            where = "no identity file" if held is None else "the identity file holds another one"
            return IdentityStatus(
                IdentityState.NOT_HELD,
                f"the account's master key {account.master} is not held by the bot ({where})",
                master=account.master,
            )
        if account.self_signing != held.self_signing_public:
            return IdentityStatus(
                IdentityState.NOT_HELD,
                "the account's self-signing key is not the one the bot holds",
                master=account.master,
            )
        signatures: dict[str, Any] = {}
        if not account.device_cross_signed(device_id):
            signatures[device_id] = held.sign_device(served)
        if client.olm and not signed_by(
            account.master_object, user_id, own.get("ed25519"), device_id
        ):
            master = held.master_key_object()
            signature = client.olm.sign_json(master)
            master["signatures"] = {user_id: {f"ed25519:{device_id}": signature}}
            signatures[held.master_public] = master
        if signatures:
            await upload_signatures(client, user_id, signatures)
            uploaded.append("signatures")
        return IdentityStatus(
            IdentityState.SIGNED, "device cross-signed", held.master_public, tuple(uploaded)
        )


async def reset(
    client: AsyncClient,
    data_dir: Path,
    pickle_key: str,
    authenticate: Callable[[Request], Awaitable[ApiResult]],
) -> CrossSigningKeys:
    """Replace the account's identity with new keys, through ``authenticate`` (UIA, see
    ``bot.matrix.uia``). The keys are written beside the identity file first and take its
    place only once the homeserver accepted them. The device is signed at the bot's next
    start, which checks that the device keys are its own. Raises ``IdentityError`` or
    ``UiaError``."""
    keys = CrossSigningKeys.generate(str(client.user_id))
    body = keys.upload_body()
    path = identity_path(data_dir)
    pending = path.with_name(path.name + ".new")
    keys.save(pending, pickle_key)

    async def upload(auth: dict[str, Any] | None) -> ApiResult:
        return await call(
            client, "POST", SIGNING_UPLOAD, {**body, **({"auth": auth} if auth else {})}
        )

    try:
        result = await authenticate(upload)
        if not result.ok:
            raise IdentityError(f"cross-signing keys upload refused: {result.describe()}")
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, path)
    return keys
