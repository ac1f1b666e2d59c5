"""`make demo-matrix`: the real bot on a throwaway homeserver, in a minute.

A local Synapse (the test one: SQLite, 127.0.0.1, in its own temporary directory), the
bot as a real process (`python -m bot run --config ...`, which cross-signs its device at
start), and a console agent: a matrix-nio client with end-to-end encryption, in an
encrypted direct chat with the bot. Each line typed is sent there; the bot's reply is
printed. The homeserver's URL and a second agent account (login and password) are
printed too, for any Matrix client (Element Desktop) to chat with the bot.

EOF (Ctrl-D), Ctrl-C, SIGTERM or SIGHUP stop everything in order (agent, bot, Synapse),
then the temporary directory is removed. Synapse and the bot run in their own sessions, so
a Ctrl-C reaches only this process, which stops them itself; any child still alive after
that is killed. It reuses the integration harness (tests/integration), so it runs with the
project's virtualenv and Synapse's (`SYNAPSE_PYTHON`, as for `make integration`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.integration.agents import (
    Agent,
    collect_replies,
    create_dm,
    replies_to,
    send_text,
    wait_for_join,
)
from tests.integration.botproc import BOT_DISPLAY_NAME, BotProcess
from tests.integration.cross_signing import cross_signing_seen_by
from tests.integration.homeserver import Homeserver, HomeserverError, synapse_python

BOT_LOCALPART = "outils"
CONSOLE_LOCALPART = "console"  # the agent of this terminal
GUEST_LOCALPART = "demo"  # the account printed for Element or any other client
REPLY_TIMEOUT = 30.0
GREETING_TIMEOUT = 10.0
READY = "Posez votre question (Ctrl-D ou Ctrl-C pour tout arrêter)."


def say(text: str = "") -> None:
    print(text, flush=True)


def stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of stdin, then None at EOF. A daemon thread reads them: a blocking read never
    holds up a stop (Ctrl-C while waiting for a line), whatever stdin is (tty, pipe, file)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: stopping
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        for line in sys.stdin:
            put(line)
        put(None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return queue


async def start(workdir: Path, stack: contextlib.AsyncExitStack) -> tuple[Agent, str]:
    """Synapse, the bot and the console agent in a direct chat with it; each one's stop is
    on `stack` as soon as it exists, so a stop at any moment leaves nothing behind."""
    say("Démarrage de Synapse (127.0.0.1, SQLite)…")
    server = Homeserver(workdir / "synapse", python=synapse_python(), new_session=True)
    stack.push_async_callback(server.astop)
    await server.astart()
    bot_account = await server.aregister(BOT_LOCALPART, displayname=BOT_DISPLAY_NAME)
    console_account = await server.aregister(CONSOLE_LOCALPART, displayname="Agent (console)")
    guest_password = secrets.token_urlsafe(9)
    guest = await server.aregister(GUEST_LOCALPART, guest_password, displayname="Agent (démo)")

    say("Démarrage du bot (tchap-bot run, configuration générée)…")
    bot = BotProcess(server, bot_account, workdir / "bot", new_session=True)
    stack.push_async_callback(bot.astop, 20.0)
    await bot.astart(ready_timeout=60.0)
    seen = await cross_signing_seen_by(server, console_account.access_token, bot.user_id)
    signed = bot_account.device_id in seen["signed_devices"]

    agent = await Agent.connect(server.url, console_account, workdir / "console-store")
    stack.push_async_callback(agent.close)
    room_id = await create_dm(agent, bot.user_id)
    await wait_for_join(agent, room_id, bot.user_id, timeout=30.0)

    say()
    say(f"Bot : {bot.user_id} ({BOT_DISPLAY_NAME}), appareil {bot_account.device_id}")
    say(
        f"  signé par sa clé maîtresse {seen['master']} (cross-signing)"
        if signed
        else "  ATTENTION : appareil NON signé (voir le journal du bot)"
    )
    say(f"  journal : {bot.log_path}")
    say()
    say("Pour lui écrire aussi depuis Element Desktop (ou tout client Matrix) :")
    say(f"  serveur d'accueil : {server.url}")
    say(f"  identifiant       : {guest.localpart}   ({guest.user_id})")
    say(f"  mot de passe      : {guest.password}")
    say(f"  puis démarrez une discussion avec {bot.user_id}.")
    say()
    say(f"Discussion chiffrée de {console_account.user_id} avec le bot :")
    for greeting in await collect_replies(agent, room_id, GREETING_TIMEOUT):
        say(f"\n{greeting.body}\n")
    return agent, room_id


async def converse(agent: Agent, room_id: str) -> None:
    """Each line typed is a question in the direct chat; its reply is printed."""
    lines = stdin_lines(asyncio.get_running_loop())
    interactive = sys.stdin.isatty()
    say(READY)
    while True:
        if interactive:
            print("vous> ", end="", flush=True)
        line = await lines.get()
        if line is None:
            say()
            return
        question = line.strip()
        if not question:
            continue
        if not interactive:
            say(f"vous> {question}")
        asked = time.monotonic()
        event_id = await send_text(agent, room_id, question)
        replies = await collect_replies(
            agent, room_id, REPLY_TIMEOUT, replies_to(event_id), after=event_id
        )
        if not replies:
            say(f"(pas de réponse en {REPLY_TIMEOUT:.0f} s : voir le journal du bot)")
        for reply in replies:
            say(f"\n{reply.body}\n")
            say(f"(en {time.monotonic() - asked:.2f} s)")


async def demo(workdir: Path) -> None:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stopped like Ctrl-C, in order
        loop.add_signal_handler(sig, main.cancel)
    stack = contextlib.AsyncExitStack()
    try:
        agent, room_id = await start(workdir, stack)
        await converse(agent, room_id)
    except asyncio.CancelledError:
        say()  # after the "^C" the terminal echoed
        raise
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stops short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: None)
        say("Arrêt du bot et de Synapse…")
        await stack.aclose()


def children(parent: int | None = None) -> list[int]:
    """The live children of `parent` (default: this process), from /proc (Linux, as the
    harness)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, hence the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def kill_leftovers() -> None:
    """A stop cut short (a child spawned at the very moment of a Ctrl-C): nothing stays."""
    for pid in children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def main() -> int:
    if not synapse_python().exists():
        print(
            f"demo-matrix: no Synapse interpreter at {synapse_python()}: run "
            "`make demo-matrix`, or set SYNAPSE_PYTHON",
            file=sys.stderr,
        )
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="tchap-bot-demo-"))
    code = 0
    try:
        asyncio.run(demo(workdir))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except (HomeserverError, RuntimeError, TimeoutError) as exc:
        print(f"demo-matrix: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kill_leftovers()
        shutil.rmtree(workdir, ignore_errors=True)
    say("Tout est arrêté.")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
