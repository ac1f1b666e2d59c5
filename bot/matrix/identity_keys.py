"""The bot's cross-signing keys: made once, kept sealed in their own file, used to sign.

Why: Element and Tchap clients ("exclude insecure devices", MSC4153) share room keys only
with devices their owner has cross-signed, and mark every other device's messages as
unsafe. matrix-nio has no cross-signing, so the bot holds its own three Ed25519 keys
(master, self-signing, user-signing; Matrix spec, "Cross-signing") and signs its device.

The private keys live in ``<data_dir>/cross-signing.json`` (mode 600), sealed with a key
derived from the pickle key (scrypt, then XSalsa20-Poly1305 from libsodium): a copy of the
data directory without the pickle key reveals nothing. This file and the pickle key are
what an operator must back up: with them a lost crypto store costs only a new device, not
a new identity that every agent's client would warn about.

Canonical JSON and signatures come from ``signedjson`` (matrix-org's own library, used by
Synapse), so what is signed is exactly what clients verify.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json
from signedjson.types import SigningKey

FILE_NAME = "cross-signing.json"
FORMAT_VERSION = 1
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~50 ms once per start; RFC 7914's interactive cost
_KINDS = ("master", "self_signing", "user_signing")


class IdentityFileError(Exception):
    """The identity file exists but cannot be used; the message names the file, never a key."""


def public_key(key: SigningKey) -> str:
    """The unpadded base64 public key, which is also the key's id after ``ed25519:``."""
    return encode_verify_key_base64(get_verify_key(key))


def fingerprint(public: str) -> str:
    """The public key as clients show it: groups of four characters."""
    return " ".join(public[i : i + 4] for i in range(0, len(public), 4))


def _named(seed_b64: str, public: str | None = None) -> SigningKey:
    """A signing key whose ``version`` is its own public key (cross-signing key ids)."""
    key = decode_signing_key_base64("ed25519", "tmp", seed_b64)
    key.version = public or public_key(key)
    return key


@dataclass(frozen=True)
class CrossSigningKeys:
    user_id: str
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    def __repr__(self) -> str:  # never print a private key, not even in a traceback
        return f"CrossSigningKeys({self.user_id}, master {self.master_public})"

    @classmethod
    def generate(cls, user_id: str) -> CrossSigningKeys:
        def fresh() -> SigningKey:
            key = generate_signing_key("tmp")
            key.version = public_key(key)
            return key

        return cls(user_id, fresh(), fresh(), fresh())

    @property
    def master_public(self) -> str:
        return str(self.master.version)

    @property
    def self_signing_public(self) -> str:
        return str(self.self_signing.version)

    @property
    def user_signing_public(self) -> str:
        return str(self.user_signing.version)

    def _key_object(self, usage: str, key: SigningKey) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "usage": [usage],
            "keys": {f"ed25519:{key.version}": str(key.version)},
        }

    def master_key_object(self) -> dict[str, Any]:
        return self._key_object("master", self.master)

    def upload_body(self) -> dict[str, Any]:
        """The body of ``POST /keys/device_signing/upload``: the self-signing and
        user-signing keys each signed by the master key."""
        ssk = self._key_object("self_signing", self.self_signing)
        usk = self._key_object("user_signing", self.user_signing)
        return {
            "master_key": self.master_key_object(),
            "self_signing_key": sign_json(ssk, self.user_id, self.master),
            "user_signing_key": sign_json(usk, self.user_id, self.master),
        }

    def sign_device(self, device_keys: dict[str, Any]) -> dict[str, Any]:
        """``device_keys`` as the homeserver serves them, signed by the self-signing key
        (``signatures`` and ``unsigned`` are not part of what is signed)."""
        bare = {k: v for k, v in device_keys.items() if k not in ("signatures", "unsigned")}
        return sign_json(bare, self.user_id, self.self_signing)

    # -- the sealed file -------------------------------------------------------------

    def save(self, path: Path, pickle_key: str) -> None:
        """Write the file atomically, mode 600, private keys sealed with the pickle key."""
        salt = secrets.token_bytes(16)
        plain = json.dumps(
            {
                "master": encode_signing_key_base64(self.master),
                "self_signing": encode_signing_key_base64(self.self_signing),
                "user_signing": encode_signing_key_base64(self.user_signing),
            }
        ).encode()
        sealed = nacl.secret.SecretBox(_derive(pickle_key, salt, _SCRYPT)).encrypt(plain)
        document = {
            "format": FORMAT_VERSION,
            "user_id": self.user_id,
            # Public keys in clear: `tchap-bot identity status` shows them without unsealing.
            "public": {
                "master": self.master_public,
                "self_signing": self.self_signing_public,
                "user_signing": self.user_signing_public,
            },
            "kdf": {"name": "scrypt", **_SCRYPT, "salt": salt.hex()},
            "sealed": sealed.hex(),
        }
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def _derive(pickle_key: str, salt: bytes, params: dict[str, int]) -> bytes:
    return hashlib.scrypt(
        pickle_key.encode(),
        salt=salt,
        n=params["n"],
        r=params["r"],
        p=params["p"],
        dklen=nacl.secret.SecretBox.KEY_SIZE,
    )


def read_public(path: Path) -> dict[str, str] | None:
    """The public keys recorded in the file (no pickle key needed), None if absent."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        public = document["public"]
        return {k: str(public[k]) for k in _KINDS}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IdentityFileError(f"{path}: unreadable ({type(exc).__name__})") from None


def load(path: Path, pickle_key: str, user_id: str) -> CrossSigningKeys | None:
    """The keys in ``path``; None when there is no file; ``IdentityFileError`` otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IdentityFileError(f"{path}: unreadable ({type(exc).__name__})") from None
    try:
        if document["format"] != FORMAT_VERSION:
            raise IdentityFileError(f"{path}: unknown format {document['format']!r}")
        if document["user_id"] != user_id:
            raise IdentityFileError(
                f"{path}: holds the identity of {document['user_id']}, not of {user_id}"
            )
        kdf = document["kdf"]
        box = nacl.secret.SecretBox(
            _derive(pickle_key, bytes.fromhex(kdf["salt"]), {k: int(kdf[k]) for k in "nrp"})
        )
        plain = json.loads(box.decrypt(bytes.fromhex(document["sealed"])))
        public = document["public"]
        keys = CrossSigningKeys(
            user_id,
            _named(plain["master"]),
            _named(plain["self_signing"]),
            _named(plain["user_signing"]),
        )
    except nacl.exceptions.CryptoError:
        raise IdentityFileError(
            f"{path}: cannot be unsealed with this pickle key (it was written with another one)"
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise IdentityFileError(f"{path}: malformed ({type(exc).__name__})") from None
    recorded = (public.get("master"), public.get("self_signing"), public.get("user_signing"))
    actual = (keys.master_public, keys.self_signing_public, keys.user_signing_public)
    if recorded != actual:
        raise IdentityFileError(f"{path}: its public keys do not match its private keys")
    return keys
