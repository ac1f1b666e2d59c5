"""Which invitations the bot accepts: pure rules over the inviter's user id.

Patterns are shell globs (``agent.*.tchap.gouv.fr``). An inviter matching
``allowed_users`` is accepted; otherwise its server must match ``allowed_servers`` and
none of ``denied_servers`` (Tchap's external-user server ``e.tchap.gouv.fr`` by default).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from bot.config import InviteConfig


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1].lower() if ":" in user_id else ""


def invite_allowed(inviter: str | None, rules: InviteConfig, own_server: str) -> bool:
    """Whether to join a room ``inviter`` invited the bot to.

    With no ``allowed_servers`` configured, the bot's own server is the one allowed.
    """
    if not inviter:
        return False
    if any(fnmatchcase(inviter, p) for p in rules.allowed_users):
        return True
    server = server_of(inviter)
    if any(fnmatchcase(server, p.lower()) for p in rules.denied_servers):
        return False
    allowed = rules.allowed_servers or (own_server,)
    return any(fnmatchcase(server, p.lower()) for p in allowed)
