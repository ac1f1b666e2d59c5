"""The data directory unwritable: a clear error, never a silent loss.

- at start (the path cannot be created; a read-only file system): exit 2 and a message
  naming the directory;
- while running (its file system fills up): the bot logs a clear error and stops with
  exit 3 (a restart may fix it) without recording anything it could not write; once
  space is back, a restart answers the question asked meanwhile exactly once.

The file-system cases mount a small tmpfs, which needs root (CAP_SYS_ADMIN): they are
skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .agents import answered_counts, collect_replies, replies_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory


def _mount(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of our own (root only)."""
    target = tmp_path / "small-fs"
    target.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = _mount(["mount", "-t", "tmpfs", "-o", "size=16m,mode=700", "tmpfs", str(target)])
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        _mount(["umount", "-l", str(target)])


def fill(directory: Path) -> Path:
    """Write zeros until the file system is full; return the filler file."""
    filler = directory / "filler"
    chunk = b"\0" * (1 << 20)
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        for _ in range(64):  # bounded: the tmpfs holds 16 MB
            handle.write(chunk)
            handle.flush()
    with contextlib.suppress(OSError), filler.open("ab") as handle:  # the last pages too
        for _ in range(1 << 12):
            handle.write(b"\0" * 256)
            handle.flush()
    return filler


async def test_a_data_dir_that_cannot_be_created_stops_the_start(
    tmp_path: Path, start_bot: BotFactory
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory's parent should be")
    bot = await start_bot(start=False, data_dir=str(blocker / "data"))
    with pytest.raises(RuntimeError, match="exited with 2"):
        await bot.astart()
    assert f"data directory {blocker / 'data'} unusable" in bot.log()


async def test_a_read_only_data_dir_stops_the_start(small_fs: Path, start_bot: BotFactory) -> None:
    (small_fs / "data").mkdir()
    done = _mount(["mount", "-o", "remount,ro", str(small_fs)])
    assert done.returncode == 0, done.stderr
    bot = await start_bot(start=False, data_dir=str(small_fs / "data"))
    with pytest.raises(RuntimeError, match="exited with 2"):
        await bot.astart()
    assert "unusable" in bot.log() and "Read-only file system" in bot.log()


@pytest.mark.timeout(120)
async def test_a_full_disk_while_running_stops_the_bot_without_losing_the_question(
    small_fs: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(data_dir=str(small_fs / "data"), behaviour={"greet_on_join": False})
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    first = await send_text(agent, room_id, "visio")
    await collect_replies(agent, room_id, after=first, predicate=replies_to(first))

    filler = await asyncio.to_thread(fill, small_fs)
    asked = await send_text(agent, room_id, "audio conférence")
    code = await bot.await_exit(timeout=30)
    assert code == 3, bot.log()[-2000:]  # not 1: that is for refused credentials
    assert "cannot write the state database" in bot.log()

    await asyncio.to_thread(filler.unlink)
    await bot.astart()
    await collect_replies(agent, room_id, after=first, predicate=replies_to(asked), timeout=20)
    await asyncio.sleep(1.5)  # a duplicate would show up by now
    counts = await answered_counts(agent, room_id)
    assert counts[first] == 1 and counts[asked] == 1, counts
