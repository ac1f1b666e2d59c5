"""Cross-signing in tests, with signedjson directly on the client-server API (no code of
the bot's), so that the bot is checked against an independent signer and verifier.

- `cross_sign(agent, server)`: a matrix-nio agent sets up its own cross-signing, as a real
  user's client does (nio has none; admins need it: encryption.admin_trust).
- `cross_signing_seen_by(...)`: what another user's client gets from /keys/query for a
  user, with the chain verified.
- `upload_foreign_master_key(server, bot)`: another client of the bot's account sets up
  cross-signing first (the bot must not replace it).
- `login_new_device(server, bot)`: a new access token and device, as an operator gets.
"""

from __future__ import annotations

import asyncio
from typing import Any

from signedjson.key import (
    decode_verify_key_bytes,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json, verify_signed_json
from unpaddedbase64 import decode_base64

from .agents import Agent
from .botproc import BotProcess
from .homeserver import Homeserver


def _named_key() -> Any:
    key = generate_signing_key("x")
    key.version = encode_verify_key_base64(get_verify_key(key))
    return key


async def cross_sign(agent: Agent, server: Homeserver) -> str:
    """Set up the agent's cross-signing and sign its current device; returns the master
    public key. A first upload needs no password (MSC3967)."""
    user_id, token = agent.user_id, agent.account.access_token
    master, ssk = _named_key(), _named_key()

    def key_object(usage: str, key: Any) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "usage": [usage],
            "keys": {f"ed25519:{key.version}": key.version},
        }

    def request(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return server.request("POST", f"/_matrix/client/v3/keys/{path}", body, access_token=token)

    await asyncio.to_thread(
        request,
        "device_signing/upload",
        {
            "master_key": key_object("master", master),
            "self_signing_key": sign_json(key_object("self_signing", ssk), user_id, master),
        },
    )
    served = await asyncio.to_thread(request, "query", {"device_keys": {user_id: []}})
    device = served["device_keys"][user_id][agent.account.device_id]
    bare = {k: v for k, v in device.items() if k not in ("signatures", "unsigned")}
    result = await asyncio.to_thread(
        request,
        "signatures/upload",
        {user_id: {agent.account.device_id: sign_json(bare, user_id, ssk)}},
    )
    assert not result.get("failures"), result
    return str(master.version)


def _key(public: str) -> Any:
    return decode_verify_key_bytes(f"ed25519:{public}", decode_base64(public))


def _only(obj: dict[str, Any]) -> str:
    [public] = obj["keys"].values()
    return str(public)


async def cross_signing_seen_by(server: Homeserver, viewer_token: str, user_id: str) -> dict:
    """What another user's client gets from /keys/query, with the chain verified:
    {"master": public key, "signed_devices": [...], "unsigned_devices": [...]}."""
    body = await asyncio.to_thread(
        server.request,
        "POST",
        "/_matrix/client/v3/keys/query",
        {"device_keys": {user_id: []}},
        access_token=viewer_token,
    )
    master_obj = body.get("master_keys", {}).get(user_id)
    if master_obj is None:
        return {
            "master": None,
            "signed_devices": [],
            "unsigned_devices": sorted(body["device_keys"][user_id]),
        }
    master = _only(master_obj)
    ssk_obj = body.get("self_signing_keys", {}).get(user_id)
    if ssk_obj is not None:
        verify_signed_json(dict(ssk_obj), user_id, _key(master))  # raises if not signed by it
    signed, unsigned = [], []
    for device_id, keys in body["device_keys"][user_id].items():
        try:
            assert ssk_obj is not None
            verify_signed_json(dict(keys), user_id, _key(_only(ssk_obj)))
            signed.append(device_id)
        except Exception:
            unsigned.append(device_id)
    return {
        "master": master,
        "signed_devices": sorted(signed),
        "unsigned_devices": sorted(unsigned),
    }


async def login_new_device(server: Homeserver, bot: BotProcess) -> tuple[str, str]:
    """A fresh access token and device for the bot's account, as an operator would get."""
    body = await asyncio.to_thread(
        server.request,
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": bot.account.localpart},
            "password": bot.account.password,
        },
    )
    return str(body["access_token"]), str(body["device_id"])


async def upload_foreign_master_key(server: Homeserver, bot: BotProcess) -> str:
    """A master key set on the bot's account by someone else; its public key."""
    foreign = generate_signing_key("x")
    public = encode_verify_key_base64(get_verify_key(foreign))
    await asyncio.to_thread(
        server.request,
        "POST",
        "/_matrix/client/v3/keys/device_signing/upload",
        {
            "master_key": {
                "user_id": bot.user_id,
                "usage": ["master"],
                "keys": {f"ed25519:{public}": public},
            }
        },
        access_token=bot.account.access_token,
    )
    return public
