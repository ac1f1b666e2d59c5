"""Cross-signing for a matrix-nio test agent, as a real user's client sets it up.

matrix-nio has none, and an admin whose device is not signed by their own identity is
refused admin commands (encryption.admin_trust). This gives an agent a master key and a
self-signing key and signs its device, with signedjson directly on the client-server API
(no code of the bot's), so the bot's check is tested against an independent signer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from signedjson.key import encode_verify_key_base64, generate_signing_key, get_verify_key
from signedjson.sign import sign_json

from .agents import Agent
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
