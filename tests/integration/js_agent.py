"""An Element-family test agent: matrix-js-sdk 37.5.0 with Rust crypto, as a Node child process.

matrix-nio agents (agents.py) cannot cross-sign; Element and Tchap clients do, and now exclude
devices that are not cross-signed by their owner (MSC4153). A `JsAgent` is such a client: one
`node js_agent/agent.mjs` process per user and device, which on start bootstraps its own
cross-signing (as a real user has) and syncs. It is driven over JSON Lines (one request per
line on stdin, one response per line on stdout, matched by id, several in flight at once);
agent.mjs documents the protocol. The sdk's logs go to `<workdir>/js-agent.log`, whose tail is
in every error.

Needs Node >= 20 and `npm ci` in tests/integration/js_agent (the Makefile's js-agent stamp);
`js_agent_problem()` says what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

from .homeserver import Account, _die_with_parent

logger = logging.getLogger(__name__)

JS_AGENT_DIR = Path(__file__).resolve().parent / "js_agent"
AGENT_SCRIPT = JS_AGENT_DIR / "agent.mjs"
SDK_PACKAGE = JS_AGENT_DIR / "node_modules" / "matrix-js-sdk" / "package.json"
MIN_NODE_MAJOR = 20
DEFAULT_TIMEOUT = 15.0
# Crypto initialisation, cross-signing bootstrap and the first sync, on a busy 2-core machine.
START_TIMEOUT = 60.0
# Beyond a command's own deadline (enforced by the agent): the reply still has to travel.
MARGIN = 5.0
# Lines can be long: `events` returns a whole timeline.
STDOUT_LIMIT = 16 * 1024 * 1024

IsolationMode = Literal["exclude", "legacy"]


class Shield(TypedDict):
    """`crypto.getEncryptionInfoForEvent`: EventShieldColour and EventShieldReason names."""

    colour: Literal["NONE", "GREY", "RED"]
    reason: str | None  # e.g. "UNSIGNED_DEVICE", "UNVERIFIED_IDENTITY"; None when NONE


class JsEvent(TypedDict):
    """One timeline event as the js client sees it (`events`, `wait_reply`, `wait_event`)."""

    event_id: str
    sender: str
    type: str  # the clear type once decrypted; "m.room.encrypted" if decryption failed
    state_key: str | None
    encrypted: bool
    msgtype: str | None
    body: str | None
    formatted_body: str | None
    in_reply_to: str | None
    thread_root: str | None
    mentions: dict[str, Any] | None
    ts: int
    decryption_failure: str | None  # DecryptionFailureCode name, e.g. "UNSIGNED_SENDER_DEVICE"
    shield: Shield | None  # None when unencrypted or undecrypted


class JsAgentError(RuntimeError):
    """A command failed, timed out, or the Node process died (the message has the log tail)."""


def node_executable() -> str | None:
    return shutil.which("node")


def js_agent_problem() -> str | None:
    """Why a JsAgent cannot run here, or None if it can."""
    node = node_executable()
    if node is None:
        return f"no `node` on PATH: Node >= {MIN_NODE_MAJOR} is needed for the js agent"
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        major = int(version.lstrip("v").split(".", 1)[0])
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return f"cannot read the version of {node}: {error}"
    if major < MIN_NODE_MAJOR:
        return f"{node} is {version}; the js agent needs Node >= {MIN_NODE_MAJOR}"
    if not SDK_PACKAGE.exists():
        return (
            f"matrix-js-sdk is not installed in {JS_AGENT_DIR}: run `make integration` "
            "(or `npm ci` there)"
        )
    return None


class JsAgent:
    """One js-sdk client (user, device, in-memory crypto store) in its own Node process."""

    def __init__(
        self, process: asyncio.subprocess.Process, account: Account, log_path: Path
    ) -> None:
        self.process = process
        self.account = account
        self.log_path = log_path
        self.device_id = account.device_id
        self.cross_signing_ready = False
        # The auth type the cross-signing upload needed (None: the first upload needs none).
        self.cross_signing_uia: str | None = None
        # Anything on stdout that is not a protocol line (there should be none).
        self.stray_stdout: list[bytes] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read(), name=f"js-agent {account.user_id}")
        self._closed = False

    @classmethod
    async def start(
        cls,
        homeserver_url: str,
        account: Account,
        workdir: Path,
        *,
        timeout: float = START_TIMEOUT,  # noqa: ASYNC109
    ) -> JsAgent:
        """Spawn the agent, log in with the account's token, cross-sign, first sync."""
        node = node_executable()
        if node is None:
            raise JsAgentError("no `node` on PATH")
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
        log_path = workdir / "js-agent.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                node,
                str(AGENT_SCRIPT),
                cwd=JS_AGENT_DIR,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                limit=STDOUT_LIMIT,
                env={**os.environ, "NODE_NO_WARNINGS": "1"},
                # Dies with pytest even if pytest is SIGKILLed (see homeserver.py).
                preexec_fn=_die_with_parent
                if sys.platform == "linux" and threading.current_thread() is threading.main_thread()
                else None,
            )
        agent = cls(process, account, log_path)
        try:
            result = await agent.call(
                "start",
                {
                    "homeserver": homeserver_url,
                    "user_id": account.user_id,
                    "device_id": account.device_id,
                    "access_token": account.access_token,
                    "password": account.password,
                },
                timeout=timeout,
            )
        except BaseException:
            await agent.close()
            raise
        agent.device_id = str(result["device_id"])
        agent.cross_signing_ready = bool(result["cross_signing_ready"])
        agent.cross_signing_uia = result["cross_signing_uia"]
        return agent

    @property
    def user_id(self) -> str:
        return self.account.user_id

    def log_tail(self, lines: int = 40) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no js agent log)"
        return f"--- {self.log_path} ---\n" + ("\n".join(tail) or "(empty)")

    # -- the protocol -----------------------------------------------------------------

    async def call(
        self,
        cmd: str,
        args: dict[str, Any] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> Any:
        """Send one command and wait at most `timeout` for its result; JsAgentError if it fails.

        `args` go into the request as they are (including an agent-side `timeout`).
        """
        if self._reader.done() or self.process.stdin is None:
            raise JsAgentError(f"{self.user_id}: js agent is not running\n{self.log_tail()}")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "cmd": cmd, **(args or {})}) + "\n"
        try:
            self.process.stdin.write(line.encode())
            await self.process.stdin.drain()
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise JsAgentError(
                f"{self.user_id}: {cmd} got no answer within {timeout:.0f} s\n{self.log_tail()}"
            ) from None
        except (BrokenPipeError, ConnectionResetError) as error:
            raise JsAgentError(
                f"{self.user_id}: js agent gone ({error})\n{self.log_tail()}"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def _command(self, cmd: str, timeout: float, **args: Any) -> Any:  # noqa: ASYNC109
        """A command with its own deadline, enforced by the agent; ours is a little later."""
        return await self.call(cmd, {**args, "timeout": timeout}, timeout=timeout + MARGIN)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while line := await self.process.stdout.readline():
                try:
                    message = json.loads(line)
                    future = self._pending.get(message["id"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("%s: not a protocol line: %r", self.user_id, line[:200])
                    self.stray_stdout.append(line)
                    continue
                if future is None or future.done():
                    continue
                if message.get("ok"):
                    future.set_result(message.get("result"))
                else:
                    future.set_exception(
                        JsAgentError(f"{self.user_id}: {message.get('error')}\n{self.log_tail(15)}")
                    )
        finally:
            code = await self.process.wait()
            error = JsAgentError(f"{self.user_id}: js agent exited ({code})\n{self.log_tail()}")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)

    async def close(self, grace: float = 5.0) -> None:
        """Ask the agent to stop; kill it after `grace` seconds. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.process.returncode is None:
            with contextlib.suppress(JsAgentError):
                await self.call("stop", timeout=grace)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self._reader

    # -- commands (agent.mjs) ---------------------------------------------------------

    async def set_isolation(self, mode: IsolationMode) -> None:
        """ "exclude": Element's "exclude insecure devices" (OnlySignedDevicesIsolationMode);
        "legacy": AllDevicesIsolationMode(false), the sdk's default."""
        await self.call("set_isolation", {"mode": mode})

    async def create_dm(
        self,
        user_id: str,
        *,
        encrypted: bool = True,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> str:
        """An Element-style DM (trusted private chat, is_direct, m.direct); its room id."""
        return str(await self._command("create_dm", timeout, user_id=user_id, encrypted=encrypted))

    async def create_room(
        self,
        invite: Sequence[str] = (),
        *,
        encrypted: bool = True,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> str:
        """A private group room with `invite` invited; its room id."""
        return str(
            await self._command(
                "create_room", timeout, invite=list(invite), encrypted=encrypted, name=name
            )
        )

    async def join(self, room_id: str, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        await self._command("join", timeout, room_id=room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.call("invite", {"room_id": room_id, "user_id": user_id})

    async def wait_member(
        self,
        room_id: str,
        user_id: str,
        membership: str = "join",
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        await self._command(
            "wait_member", timeout, room_id=room_id, user_id=user_id, membership=membership
        )

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        html: str | None = None,
        mentions: Sequence[str] = (),
        msgtype: str = "m.text",
        reply_to: str | None = None,
        thread_root: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> str:
        """Send a message as Element would; its event id.

        Waits until every joined or invited member has a known device (encrypted rooms).
        `mentions` go to `m.mentions.user_ids` and are prepended as pills ("Name: body",
        `<a href="https://matrix.to/#/@user:server">Name</a>: ...`); with none, `m.mentions`
        is `{}`, as Element sends it.
        """
        return str(
            await self._command(
                "send",
                timeout,
                room_id=room_id,
                body=body,
                html=html,
                mentions=list(mentions),
                msgtype=msgtype,
                reply_to=reply_to,
                thread_root=thread_root,
            )
        )

    async def events(self, room_id: str) -> list[JsEvent]:
        """The room's live timeline now, as the client sees it (decrypted where it could)."""
        result: list[JsEvent] = await self.call("events", {"room_id": room_id})
        return result

    async def wait_reply(
        self,
        room_id: str,
        to: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        settle: float = 2.0,
    ) -> JsEvent:
        """The first event from another user replying to `to` (once decrypted, or failed for
        `settle` seconds). The relation of an undecryptable event is visible only if the
        sender left `m.relates_to` in the clear."""
        result: JsEvent = await self._command(
            "wait_reply", timeout, room_id=room_id, to=to, settle=settle
        )
        return result

    async def wait_event(
        self,
        room_id: str,
        sender: str,
        *,
        after_ts: int = 0,
        event_type: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        settle: float = 2.0,
    ) -> JsEvent:
        """The first non-state event from `sender` at or after `after_ts` (ms; of type
        `event_type` if given, clear or wire type), decrypted or not: check its
        `decryption_failure`. A failure is reported once it has lasted
        `settle` seconds, since the room key often arrives just after the event."""
        result: JsEvent = await self._command(
            "wait_event",
            timeout,
            room_id=room_id,
            sender=sender,
            after_ts=after_ts,
            type=event_type,
            settle=settle,
        )
        return result

    async def user_identity(self, user_id: str) -> dict[str, Any]:
        """What this client knows of `user_id`'s cross-signing (downloading it if needed):
        `{master_key, has_cross_signing_keys, verified: {is_verified,
        is_cross_signing_verified, was_cross_signing_verified, needs_user_approval},
        devices: [{device_id, signed_by_owner, cross_signing_verified, locally_verified,
        verified}]}`."""
        result: dict[str, Any] = await self.call("user_identity", {"user_id": user_id})
        return result

    async def own_identity(self) -> dict[str, Any]:
        """`{user_id, device_id, cross_signing_ready, master_key, crypto_version}`."""
        result: dict[str, Any] = await self.call("own_identity")
        return result

    async def received_to_device(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """To-device events the sdk emitted (`{type, sender, encrypted, content}`)."""
        result: list[dict[str, Any]] = await self.call("received_to_device", {"type": event_type})
        return result
