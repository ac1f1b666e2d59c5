"""Helpers for the operations tests: a knowledge copy to edit, questions and reactions
from agents, the bot's health endpoints."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
from nio import RoomSendResponse

from .agents import (
    Agent,
    collect_replies,
    replies_to,
    send_text,
)
from .botproc import REPO_ROOT, BotProcess
from .homeserver import free_port

KNOWLEDGE = REPO_ROOT / "knowledge"


def copy_knowledge(directory: Path) -> Path:
    """A copy of the shipped knowledge that a test may edit, then reload."""
    target = directory / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def health_settings(**overrides: Any) -> dict[str, Any]:
    """``ops.health`` on a port known in advance."""
    return {"port": free_port(), **overrides}


def base_url(bot: BotProcess) -> str:
    import json

    health = json.loads(bot.config_path.read_text())["ops"]["health"]
    return f"http://127.0.0.1:{health['port']}"


async def http_get(url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(url) as response,
    ):
        return response.status, await response.text()


async def wait_for_status(url: str, status: int, timeout: float) -> tuple[float, str]:  # noqa: ASYNC109
    """Poll ``url`` until it answers ``status``; (seconds waited, body)."""
    started = time.monotonic()
    last: tuple[int, str] = (0, "")
    while time.monotonic() - started < timeout:
        last = await http_get(url)
        if last[0] == status:
            return time.monotonic() - started, last[1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} still {last} after {timeout} s, wanted {status}")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 if absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def ask(agent: Agent, room_id: str, text: str, timeout: float = 20) -> tuple[str, str]:  # noqa: ASYNC109
    """Send ``text``; (the bot's reply body, the reply's event id)."""
    question = await send_text(agent, room_id, text)
    [reply] = await collect_replies(
        agent, room_id, after=question, predicate=replies_to(question), timeout=timeout
    )
    return str(reply.source["content"]["body"]), reply.event_id


async def react(agent: Agent, room_id: str, event_id: str, key: str) -> str:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
    response = await agent.client.room_send(
        room_id, "m.reaction", content, ignore_unverified_devices=True
    )
    assert isinstance(response, RoomSendResponse), response
    return str(response.event_id)
