"""Noticing a crypto store that went back in time (a data directory restored from a backup).

Olm sessions ratchet forward with every encrypted to-device message. A store restored
from an older copy holds older session states: the agents who talked to the bot since
get no readable answer, with nothing in the log but "no room key". So the store carries
a generation number, in ``<store>/generation.json``, and the homeserver keeps the last one
in the account's data (``ACCOUNT_DATA_TYPE``, private to the bot's account). It moves on
at every start, every ``INTERVAL`` while the store is in use, and at a clean stop. At
start, a store whose generation is behind the homeserver's, for the same device, is
stale: it is never used (``bot.matrix.session`` decides what to do instead).

A backup taken less than ``INTERVAL`` before the last activity goes unnoticed: that
window is the price of not writing to the homeserver at every message.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from nio import AsyncClient

from bot.matrix.raw_api import call

log = logging.getLogger(__name__)

ACCOUNT_DATA_TYPE = "fr.gouv.tchap.bot.crypto_store"
FILE_NAME = "generation.json"
INTERVAL = 60.0  # seconds between two marks while the store is in use


@dataclass(frozen=True)
class Mark:
    device_id: str
    generation: int


class StaleStoreError(Exception):
    """The crypto store is older than the device's last use."""


def _path(store: Path) -> Path:
    return store / FILE_NAME


def read_local(store: Path) -> Mark | None:
    try:
        data = json.loads(_path(store).read_text(encoding="utf-8"))
        return Mark(str(data["device_id"]), int(data["generation"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable store generation %s: %s", _path(store), exc)
        return None


def _write_local(store: Path, mark: Mark) -> None:
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _path(store).with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"device_id": mark.device_id, "generation": mark.generation}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, _path(store))


def _url(user_id: str) -> str:
    return f"/_matrix/client/v3/user/{quote(user_id)}/account_data/{ACCOUNT_DATA_TYPE}"


async def read_server(client: AsyncClient, user_id: str) -> Mark | None:
    """The homeserver's mark; None if none (404) or unreadable (then nothing is judged)."""
    result = await call(client, "GET", _url(user_id))
    if not result.ok:
        if result.errcode != "M_NOT_FOUND":
            log.warning("cannot read the store generation: %s", result.describe())
        return None
    try:
        return Mark(str(result.body["device_id"]), int(result.body["generation"]))
    except (KeyError, TypeError, ValueError):
        return None


def is_stale(local: Mark | None, server: Mark | None, device_id: str) -> bool:
    """The homeserver has seen this device with a later store than this one."""
    if server is None or server.device_id != device_id:
        return False
    mine = local.generation if local is not None and local.device_id == device_id else 0
    return mine < server.generation


class StoreGeneration:
    """Moves the mark on: the local file first (a crash between the two leaves the store
    ahead, never behind), then the homeserver."""

    def __init__(self, client: AsyncClient, store: Path) -> None:
        self._client = client
        self._store = store

    async def advance(self) -> None:
        """Called once the store is known not stale: the local mark is the latest."""
        device_id = str(self._client.device_id)
        local = read_local(self._store)
        mark = Mark(
            device_id, (local.generation if local and local.device_id == device_id else 0) + 1
        )
        _write_local(self._store, mark)
        body = {"device_id": mark.device_id, "generation": mark.generation}
        try:
            result = await call(self._client, "PUT", _url(str(self._client.user_id)), body)
        except (OSError, TimeoutError) as exc:
            log.warning("cannot record the store generation: %r", exc)
            return
        if not result.ok:
            log.warning("cannot record the store generation: %s", result.describe())
