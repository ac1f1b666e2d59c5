"""What the transport reports, for metrics and feedback. ``bot.matrix.ops`` implements it
on top of ``bot.ops``; :class:`NullObserver` records nothing."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def record_reply(self, subject: str, latency: float | None = None) -> None:
        """A reply about ``subject`` was sent, ``latency`` seconds after the question
        arrived."""

    def record_sync_ok(self) -> None: ...

    def record_sync_error(self, kind: str) -> None: ...

    def record_undecryptable(self) -> None: ...

    def set_rooms_joined(self, count: int) -> None: ...

    def record_given_up(self, reason: str) -> None:
        """A message (an answer, a notice) the bot gave up sending, and why."""

    def reply_sent(self, room_id: str, reply_event_id: str, asker: str, subject: str) -> None:
        """The bot's answer ``reply_event_id`` to ``asker``: reactions to it are votes."""

    def reaction(
        self, room_id: str, sender: str, reacts_to: str, key: str, reaction_event_id: str
    ) -> None: ...

    def redaction(self, room_id: str, redacted_event_id: str) -> None: ...


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

    def record_given_up(self, reason: str) -> None:
        pass

    def reply_sent(self, room_id: str, reply_event_id: str, asker: str, subject: str) -> None:
        pass

    def reaction(
        self, room_id: str, sender: str, reacts_to: str, key: str, reaction_event_id: str
    ) -> None:
        pass

    def redaction(self, room_id: str, redacted_event_id: str) -> None:
        pass
