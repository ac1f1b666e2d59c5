"""Access: admin commands, invitations, ignored users refused; secrets never logged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from .agents import collect_replies, create_dm, create_group_room, join_room, replies_to, send_text
from .botproc import BotFactory, dm_with_bot, start_bot_fixture  # noqa: F401
from .conftest import AgentFactory
from .cross_signing import cross_sign
from .ops_support import ask

REFUSED = "réservée aux administrateurs"
ADMIN_COMMANDS = ("recharger", "reload", "stats", "non-répondues 5", "version")


async def test_admin_commands_are_refused_to_agents(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    admin, agent = await make_agent("admin"), await make_agent("agent")
    bot = await start_bot(behaviour={"greet_on_join": False}, ops={"admins": [admin.user_id]})
    admin_room, agent_room = await asyncio.gather(dm_with_bot(admin, bot), dm_with_bot(agent, bot))
    for command in ADMIN_COMMANDS:
        body, _ = await ask(agent, agent_room, f"!outils {command}")
        assert REFUSED in body, (command, body)
    # An admin's device that the admin's own identity has not signed: refused, with why.
    body, _ = await ask(admin, admin_room, "!outils version")
    assert "session que vous n'avez pas vérifiée" in body and "tchap-bot" not in body
    await cross_sign(admin, bot.homeserver)
    body, _ = await ask(admin, admin_room, "!outils version")
    assert REFUSED not in body and "tchap-bot" in body
    assert bot.log().count("refused: sender is not an admin") == len(ADMIN_COMMANDS)


async def test_invitations_from_denied_servers_and_ignored_users_are_declined(
    make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    friend, stranger, ignored = (
        await make_agent("friend"),
        await make_agent("stranger"),
        await make_agent("otherbot"),
    )
    # The session server ("localhost") is denied; friend and the ignored user are allowed
    # by name, but being ignored wins over every invitation rule.
    bot = await start_bot(
        invites={
            "allowed_servers": ["localhost"],
            "denied_servers": ["localhost"],
            "allowed_users": [friend.user_id, ignored.user_id],
        },
        behaviour={"greet_on_join": False, "ignored_users": ["@otherbot-*"]},
    )
    refused = [await create_dm(stranger, bot.user_id), await create_dm(ignored, bot.user_id)]
    accepted = await create_group_room(friend, [bot.user_id, ignored.user_id])
    await join_room(ignored, accepted)
    await friend.wait_until(
        lambda: friend.is_joined(accepted, bot.user_id), what="bot joined the friend's room"
    )

    def declined(agent_room: tuple[object, str]) -> bool:
        agent, room_id = agent_room
        room = agent.client.rooms.get(room_id)  # type: ignore[attr-defined]
        return room is not None and bot.user_id not in room.users

    for agent, room_id in zip((stranger, ignored), refused, strict=True):
        await agent.wait_until(lambda a=agent, r=room_id: declined((a, r)), what="declined")
    assert bot.log().count("declining invitation") == 2

    # In a room the bot is in, the ignored user is not answered, the friend is.
    silent = await send_text(ignored, accepted, "!outils visio")
    asked = await send_text(friend, accepted, "!outils visio")
    await collect_replies(friend, accepted, after=silent, predicate=replies_to(asked))
    assert not await collect_replies(
        friend, accepted, predicate=replies_to(silent), count=None, timeout=1
    )


async def test_secrets_never_appear_in_logs_or_data_files(
    tmp_path: Path, make_agent: AgentFactory, start_bot: BotFactory
) -> None:
    bot = await start_bot(start=False, log_level="DEBUG", behaviour={"greet_on_join": False})
    # The harness registered the account with its own password: give the bot that one.
    password = bot.account.password
    secret_file = tmp_path / "password"
    secret_file.write_text(password)
    secret_file.chmod(0o600)  # a secret others can read is refused
    bot.config_path.write_text(
        bot.config_path.read_text().replace(
            '"data_dir"', f'"secrets": {{"password_file": "{secret_file}"}}, "data_dir"'
        )
    )
    token, pickle_key = bot.env["TCHAP_BOT_ACCESS_TOKEN"], bot.env["TCHAP_BOT_PICKLE_KEY"]
    await bot.astart()
    agent = await make_agent("agent")
    room_id = await dm_with_bot(agent, bot)
    await ask(agent, room_id, "visio à 30")
    assert await bot.astop() == 0

    # Again without the token: the bot logs in with the password (a new token, kept in
    # session.json with mode 600, is the one secret allowed in the data directory).
    bot.env["TCHAP_BOT_ACCESS_TOKEN"] = ""
    await bot.astart()
    await ask(agent, room_id, "partager un fichier")
    assert await bot.astop() == 0
    saved = json.loads((bot.directory / "data" / "session.json").read_text())
    assert saved["access_token"] and saved["access_token"] != token  # a password login

    log = bot.log()
    assert "DEBUG" in log  # the most talkative level
    data_dir = bot.directory / "data"
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert files
    obtained = saved["access_token"]
    session_file = data_dir / "session.json"
    for name, secret, allowed_in in (
        ("access token", token, None),
        ("password", password, None),
        ("pickle key", pickle_key, None),
        ("access token of the password login", obtained, session_file),
    ):
        assert secret not in log, f"the {name} is in the log"
        for path in files:
            if path != allowed_in:
                assert secret.encode() not in path.read_bytes(), f"the {name} is in {path}"
    assert (data_dir / "session.json").stat().st_mode & 0o077 == 0
