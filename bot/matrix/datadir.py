"""The data directory: private, writable, and used by one process at a time.

Two processes on one data directory (a second ``tchap-bot run``, a rolling update that
starts the new pod before stopping the old one) would both answer every question and
make their Olm state diverge: the agents who talked to them could then read no reply at
all. So the directory is locked (``flock`` on ``<data_dir>/lock``, released by the kernel
when the process ends, even on SIGKILL) before anything logs in. ``tchap-bot identity
reset`` takes the same lock: it must not change the identity under a running bot.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.config import Config
from bot.matrix import crypto

LOCK_NAME = "lock"


class DataDirBusy(Exception):
    """Another process holds the data directory."""


def prepare(config: Config) -> None:
    """Create the data directory and the crypto store's, mode 700 (an existing one is
    made 700 too), and prove it writable; OSError otherwise."""
    for directory in (config.data_dir, crypto.store_dir(config)):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    probe = config.data_dir / ".write-test"
    probe.write_text("ok")
    probe.unlink()


class DataDirLock:
    """An exclusive lock on the data directory, held until ``release`` or the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise ``DataDirBusy`` naming the holder's PID."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirBusy(
                f"{self.path.parent} is in use by another tchap-bot process (PID {holder}); "
                "stop it first: two processes on one data directory break encryption"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
