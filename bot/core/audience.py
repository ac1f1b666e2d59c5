"""Who is asking: an agent of the guide's audience, or of another ministry.

The guide is addressed to the agents of the pôle ministériel; Tchap is interministerial, so
anyone can write to the bot. The transport says which homeserver the question comes from
and which homeservers are the guide's audience (config ``audience.servers``); the core only
compares them. No list of servers: everyone is the audience.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Audience:
    servers: frozenset[str] = frozenset()  # the guide's audience; empty: everyone
    server: str | None = None  # the asking agent's homeserver, if known

    @property
    def outsider(self) -> bool:
        return bool(self.servers) and self.server is not None and self.server not in self.servers

    @staticmethod
    def of(user_id: str, servers: frozenset[str] | tuple[str, ...]) -> Audience:
        """The audience of a Matrix user id ("@a:server")."""
        server = user_id.split(":", 1)[1] if ":" in user_id else None
        return Audience(frozenset(servers), server)


EVERYONE = Audience()
