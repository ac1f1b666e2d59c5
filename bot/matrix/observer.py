"""What the transport reports for metrics. ``bot.ops.metrics.Metrics`` fits this protocol."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def record_reply(self, subject: str, latency: float | None = None) -> None: ...

    def record_sync_ok(self) -> None: ...

    def record_sync_error(self, kind: str) -> None: ...

    def record_undecryptable(self) -> None: ...

    def set_rooms_joined(self, count: int) -> None: ...


class NullObserver:
    """Records nothing: the default until metrics are wired in."""

    def record_reply(self, subject: str, latency: float | None = None) -> None:
        pass

    def record_sync_ok(self) -> None:
        pass

    def record_sync_error(self, kind: str) -> None:
        pass

    def record_undecryptable(self) -> None:
        pass

    def set_rooms_joined(self, count: int) -> None:
        pass
