"""The floor: a bare matrix-nio echo bot, as a subprocess, for the end-to-end benchmark.

Same transport set-up as the real bot (E2EE store, no hidden retries in nio, one sync
loop doing nio's key upkeep, one sender task so replies never block syncing), but no
state, no checkpoint, no core: every text message from someone else gets an ``m.notice``
in reply ("echo: <text>"). Whatever the real bot costs beyond this is the bot's own.

    python -m tests.bench.echo_bot --homeserver URL --user-id @echo:localhost \
        --device-id DEVICE --store DIR        # access token in ECHO_BOT_ACCESS_TOKEN

Prints "ready" on stdout after its first sync. Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    RoomMessageText,
    SyncResponse,
)

SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 100}, "ephemeral": {"not_types": ["*"]}},
}


async def serve(args: argparse.Namespace) -> None:
    Path(args.store).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at start)
    client = AsyncClient(
        args.homeserver,
        args.user_id,
        device_id=args.device_id,
        store_path=args.store,
        config=AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=20,
        ),
    )
    client.restore_login(args.user_id, args.device_id, os.environ["ECHO_BOT_ACCESS_TOKEN"])
    lock = asyncio.Lock()
    queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    started_ms = int(time.time() * 1000)

    async def upkeep() -> None:
        async with lock:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()

    async def sender() -> None:
        while True:
            room_id, event_id, body = await queue.get()
            content = {
                "msgtype": "m.notice",
                "body": f"echo: {body}",
                "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
            }
            for _ in range(5):  # bounded: the floor does not need more
                async with lock:
                    response = await client.room_send(
                        room_id, "m.room.message", content, ignore_unverified_devices=True
                    )
                if hasattr(response, "event_id"):
                    break
                await asyncio.sleep(0.5)

    async def syncer() -> None:
        token: str | None = None
        while not stop.is_set():
            await upkeep()
            response = await client.sync(
                timeout=0 if token is None else 30_000, sync_filter=SYNC_FILTER, since=token
            )
            if not isinstance(response, SyncResponse):
                await asyncio.sleep(0.5)
                continue
            for room_id in response.rooms.invite:
                asyncio.create_task(client.join(room_id))  # noqa: RUF006
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    if (
                        isinstance(event, RoomMessageText)
                        and event.sender != client.user_id
                        and event.server_timestamp >= started_ms
                    ):
                        queue.put_nowait((room_id, event.event_id, event.body))
            if token is None:
                print("ready", flush=True)
            token = response.next_batch

    send_task = asyncio.create_task(sender())
    sync_task = asyncio.create_task(syncer())
    stop_task = asyncio.create_task(stop.wait())
    await asyncio.wait({sync_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    for task in (send_task, sync_task, stop_task):
        task.cancel()
    await asyncio.gather(send_task, sync_task, stop_task, return_exceptions=True)
    await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--device-id", required=True)
    parser.add_argument("--store", required=True)
    asyncio.run(serve(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
