"""A crypto store behind the homeserver's mark, for the same device, is stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.matrix.store_generation import Mark, is_stale, read_local


@pytest.mark.parametrize(
    ("local", "server", "stale"),
    [
        (Mark("DEV", 5), Mark("DEV", 5), False),  # the normal restart
        (Mark("DEV", 6), Mark("DEV", 5), False),  # crashed between the file and the server
        (Mark("DEV", 3), Mark("DEV", 5), True),  # restored from an older copy
        (None, Mark("DEV", 5), True),  # an empty store for a device that was used
        (Mark("DEV", 3), Mark("OTHER", 9), False),  # the server last saw another device
        (Mark("DEV", 3), None, False),  # nothing recorded yet (first start of this version)
        (Mark("OLD", 9), Mark("DEV", 2), True),  # a store of another device, under DEV
    ],
)
def test_stale_when_behind_for_the_same_device(
    local: Mark | None, server: Mark | None, stale: bool
) -> None:
    assert is_stale(local, server, "DEV") is stale


def test_an_unreadable_local_mark_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / "generation.json").write_text("{not json")
    assert read_local(tmp_path) is None
