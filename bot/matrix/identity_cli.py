"""``tchap-bot identity status|reset``: the operator's view of the bot's cross-signing.

``status`` (read only, safe while the bot runs): the account's master key and whether the
bot holds it, whether this device is signed, the account's devices with the old unsigned
ones; ``--prune`` deletes those (the homeserver asks for the password, or for an approval
on a homeserver that delegates authentication). ``reset`` replaces the identity: every
agent's client then warns once that the bot's identity changed, so it asks first; the
bot must be stopped (it takes the data directory's lock).

Both use the bot's own session (its access token, from the config or from the session
the bot saved), never a new login: a login would create one more device.
Exit codes: 0 done (status: the device is signed by the held identity), 1 not signed or
refused by the homeserver, 2 configuration, data directory or session problem.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from nio import AsyncClient, AsyncClientConfig, WhoamiResponse

from bot.config import Config, ConfigError, load_config
from bot.matrix import datadir, identity_keys, session, uia
from bot.matrix.identity import (
    NOT_SIGNED_MEANING,
    AccountKeys,
    IdentityError,
    identity_path,
    query_keys,
    reset,
)
from bot.matrix.raw_api import ApiResult, call

EXIT_OK, EXIT_NOT_SIGNED, EXIT_SETUP = 0, 1, 2
WHAT_AGENTS_SEE = (
    "Every agent who talked to the bot will see, once, that its identity changed, and must "
    "acknowledge it in their client; messages already exchanged stay readable."
)


class _Setup(Exception):
    """A problem of configuration or session: exit 2 with this message."""


class Console:
    """Where the commands write and ask; a test gives its own."""

    def __init__(self, out: TextIO = sys.stdout, interactive: bool | None = None) -> None:
        self.out = out
        self.interactive = sys.stdin.isatty() if interactive is None else interactive

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str) -> str:
        return input(prompt)

    def secret(self, prompt: str) -> str:
        return getpass.getpass(prompt)


def main(config_path: Path, action: str, *, prune: bool = False, yes: bool = False) -> int:
    console = Console()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"tchap-bot: {exc}", file=sys.stderr)
        return EXIT_SETUP
    try:
        if action == "status":
            return asyncio.run(status(config, console, prune=prune))
        return asyncio.run(replace(config, console, yes=yes))
    except (_Setup, datadir.DataDirBusy, identity_keys.IdentityFileError) as exc:
        print(f"tchap-bot: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except (IdentityError, uia.UiaError) as exc:
        print(f"tchap-bot: {exc}", file=sys.stderr)
        return EXIT_NOT_SIGNED
    except (OSError, TimeoutError) as exc:
        print(
            f"tchap-bot: homeserver {config.matrix.homeserver} unreachable: {exc}", file=sys.stderr
        )
        return EXIT_SETUP


async def _client(config: Config) -> AsyncClient:
    """A client on the bot's own session and device (no crypto store: none is needed)."""
    saved = session.load_saved(session.session_path(config))
    token = config.secrets.access_token or (saved.access_token if saved else None)
    if token is None:
        raise _Setup(
            "no access token: set TCHAP_BOT_ACCESS_TOKEN (or secrets.access_token_file), "
            "or start the bot once so that it saves its session"
        )
    client = AsyncClient(
        config.matrix.homeserver,
        config.matrix.user_id,
        config=AsyncClientConfig(encryption_enabled=False, request_timeout=30),
        ssl=None if config.matrix.verify_tls else False,
        proxy=config.matrix.proxy,
    )
    client.access_token = token
    response = await client.whoami()
    if not isinstance(response, WhoamiResponse) or response.user_id != config.matrix.user_id:
        await client.close()
        raise _Setup(f"the access token is not valid for {config.matrix.user_id}: {response}")
    client.user_id = response.user_id
    client.device_id = response.device_id or (saved.device_id if saved else None)
    if not client.device_id:
        await client.close()
        raise _Setup("the homeserver did not tell which device this access token is")
    return client


def _password(config: Config, console: Console) -> Callable[[], str | None]:
    def ask() -> str | None:
        if config.secrets.password is not None:
            return config.secrets.password
        if not console.interactive:
            return None
        return console.secret(f"Password of {config.matrix.user_id}: ") or None

    return ask


def _approve(console: Console) -> uia.Approve | None:
    if not console.interactive:
        return None

    async def approve(url: str) -> None:
        console.say("The homeserver asks the account's owner to approve this in a browser:")
        console.say(f"  {url}")
        await asyncio.to_thread(console.ask, "Press Enter once it is approved. ")

    return approve


def _when(ms: Any) -> str:
    if not isinstance(ms, int):
        return "never seen"
    return "seen " + datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def status(config: Config, console: Console, *, prune: bool = False) -> int:
    client = await _client(config)
    try:
        user_id, device_id = config.matrix.user_id, str(client.device_id)
        path = identity_path(config.data_dir)
        held = identity_keys.read_public(path)
        if held is not None:
            identity_keys.load(path, config.secrets.pickle_key, user_id)  # usable with this key?
        account = await query_keys(client, user_id)
        devices = await call(client, "GET", "/_matrix/client/v3/devices")
        listed = devices.body.get("devices", []) if devices.ok else []

        master = account.master
        holds = held is not None and master == held["master"]
        signed = holds and account.device_cross_signed(device_id)
        console.say(f"Account:     {user_id}")
        console.say(f"This device: {device_id} ({'signed' if signed else 'NOT signed'})")
        if master is None:
            console.say("Master key:  none on the account (the bot creates it at start)")
        else:
            owner = "held by the bot" if holds else "NOT held by the bot"
            console.say(f"Master key:  {identity_keys.fingerprint(master)} ({owner})")
        if held is None:
            console.say(f"Identity:    no file at {path}")
        elif not holds:
            shown = identity_keys.fingerprint(held["master"])
            console.say(f"Identity:    {path} holds another master key ({shown})")
        else:
            console.say(f"Identity:    {path} (back it up with the pickle key)")
        unsigned = _devices(console, account, listed, device_id)
        if not signed:
            console.say()
            console.say(f"Not signed: {NOT_SIGNED_MEANING}.")
            if master is not None and not holds:
                console.say("`tchap-bot identity reset` gives the bot a new identity.")
        if prune:
            await _prune(config, console, client, unsigned)
        return EXIT_OK if signed else EXIT_NOT_SIGNED
    finally:
        await client.close()


def _devices(console: Console, account: AccountKeys, listed: list[Any], current: str) -> list[str]:
    """Print the account's devices; return the other ones that are not cross-signed."""
    console.say("Devices:")
    unsigned = []
    for device in sorted(listed, key=lambda d: str(d.get("device_id"))):
        device_id = str(device.get("device_id"))
        signed = account.device_cross_signed(device_id)
        mark = "signed" if signed else "unsigned"
        here = "  <- this bot" if device_id == current else ""
        name = str(device.get("display_name") or "")[:40]
        console.say(
            f"  {device_id:<14} {mark:<9} {_when(device.get('last_seen_ts')):<28} {name}{here}"
        )
        if not signed and device_id != current:
            unsigned.append(device_id)
    return unsigned


async def _prune(
    config: Config, console: Console, client: AsyncClient, unsigned: list[str]
) -> None:
    if not unsigned:
        console.say("No old unsigned device to delete.")
        return
    console.say(f"Deleting {len(unsigned)} unsigned device(s): {', '.join(unsigned)}")

    async def delete(auth: dict[str, Any] | None) -> ApiResult:
        body: dict[str, Any] = {"devices": unsigned, **({"auth": auth} if auth else {})}
        return await call(client, "POST", "/_matrix/client/v3/delete_devices", body)

    result = await uia.authenticated(
        delete,
        user_id=config.matrix.user_id,
        password=_password(config, console),
        approve=_approve(console),
    )
    if not result.ok:
        raise IdentityError(f"deleting the devices was refused: {result.describe()}")
    console.say("Deleted.")


async def replace(config: Config, console: Console, *, yes: bool = False) -> int:
    try:
        datadir.prepare(config)
    except OSError as exc:
        raise _Setup(f"data directory {config.data_dir} unusable: {exc}") from None
    with datadir.DataDirLock(config.data_dir):  # never under a running bot
        console.say("This replaces the bot's cross-signing identity with a new one.")
        console.say(WHAT_AGENTS_SEE)
        if not yes:
            if not console.interactive:
                raise _Setup("confirm with --yes (no terminal to ask)")
            if console.ask("Type 'reset' to go on: ").strip() != "reset":
                console.say("Nothing changed.")
                return EXIT_NOT_SIGNED
        client = await _client(config)
        try:
            keys = await reset(
                client,
                config.data_dir,
                config.secrets.pickle_key,
                lambda request: uia.authenticated(
                    request,
                    user_id=config.matrix.user_id,
                    password=_password(config, console),
                    approve=_approve(console),
                ),
            )
        finally:
            await client.close()
    console.say(f"New master key: {identity_keys.fingerprint(keys.master_public)}")
    console.say("Start the bot: it signs its device with this identity.")
    return EXIT_OK
