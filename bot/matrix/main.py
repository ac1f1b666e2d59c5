"""``tchap-bot run``: wiring, start-up, and an orderly stop on SIGTERM or SIGINT.

Start: config (all errors at once) -> knowledge -> data directory (locked) -> login and
crypto store -> device keys and cross-signing (``identity``) -> operations (health server,
reload triggers, store) -> first sync -> serve.
Stop: no new sync, the replies in flight are sent (within ``DRAIN_TIMEOUT``), the sync
position is saved, the operations stop, the client is closed.

Exit codes (docs/operations.md, "Exit codes", for operators): 0 stopped by a signal (also
while waiting for an unreachable homeserver at start: that is retried, never fatal);
1 credentials refused (only that: a restart cannot help); 2 invalid configuration,
knowledge or data directory, or health port taken; 3 an error a restart may fix: the
state database no longer writable (disk full), or an unexpected error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, ProfileGetDisplayNameResponse

from bot.config import Config, ConfigError, load_config
from bot.core import Context, answer, prepare
from bot.core.audience import Audience
from bot.knowledge.holder import KnowledgeHolder
from bot.logs import setup_logging
from bot.matrix import crypto, datadir, device_trust, session, store_generation
from bot.matrix.callbacks import Router
from bot.matrix.conversations import Conversations
from bot.matrix.errors import FatalAuthError, StateWriteError
from bot.matrix.identity import Identity, IdentityState
from bot.matrix.identity_keys import IdentityFileError
from bot.matrix.observer import Observer
from bot.matrix.ops import OpsObserver, ops_responder
from bot.matrix.questions import Answer, Question, Responder
from bot.matrix.sender import Sender
from bot.matrix.state import Checkpoint, StateStore
from bot.matrix.store_generation import StaleStoreError, StoreGeneration
from bot.matrix.supervisor import Supervisor
from bot.ops.runtime import OpsRuntime

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 30.0  # seconds given to replies in flight at shutdown
IDENTITY_RETRY = 60.0  # seconds between two cross-signing checks that could not be made

EXIT_STOPPED = 0
EXIT_CREDENTIALS_REFUSED = 1  # the operator must act (token, password, account)
EXIT_INVALID_SETUP = 2  # configuration, knowledge, data directory, health port
EXIT_RESTARTABLE = 3  # state database not writable, unexpected error: a restart may fix it


def core_responder(
    holder: KnowledgeHolder, audience_servers: tuple[str, ...] = ()
) -> Callable[[Question, Context | None], Answer]:
    """Answers with the pure core and the knowledge in service at that moment, for an
    agent of the guide's audience or not (``audience.servers``, the sender's server)."""

    def respond(question: Question, context: Context | None) -> Answer:
        audience = Audience.of(question.sender, audience_servers)
        return answer(question.text, holder.current, context, audience=audience)

    return respond


class StartupError(Exception):
    """A resource the bot needs at start is unavailable (exit code 2)."""


class Bot:
    """Owns the client and every long-running task; ``run`` returns when stopped."""

    def __init__(
        self,
        config: Config,
        holder: KnowledgeHolder,
        *,
        observer: Observer | None = None,
        respond: Responder | None = None,
    ) -> None:
        self.config = config
        self.holder = holder
        prefix = config.behaviour.command_prefix
        # Opens the SQLite store (data directory already prepared); serves nothing yet.
        self.ops = OpsRuntime(
            config.ops,
            holder=holder,
            knowledge_dir=config.knowledge_dir,
            data_dir=config.data_dir,
            prefix=prefix,
        )
        self.observer = observer or OpsObserver(self.ops)
        self.client = AsyncClient(
            config.matrix.homeserver,
            config.matrix.user_id,
            store_path=str(crypto.store_dir(config)),
            config=crypto.client_config(config),
            ssl=None if config.matrix.verify_tls else False,
            proxy=config.matrix.proxy,
        )
        self.crypto_lock = asyncio.Lock()
        self.identity = Identity(self.client, config.data_dir, config.secrets.pickle_key)
        self.generation = StoreGeneration(self.client, crypto.store_dir(config))
        self.state = StateStore(config.data_dir / "state.db", on_write_error=self._state_failed)
        self._state_error: sqlite3.Error | None = None
        self.checkpoint = Checkpoint(self.state.save_sync_token)
        self.sender = Sender(
            self.client,
            trust=config.encryption.trust,
            crypto_lock=self.crypto_lock,
            max_retry_after=config.matrix.max_retry_after,
            on_gave_up=self.observer.record_given_up,
        )
        self.ops.status.replies_stalled_since = self.sender.stalled_since
        self.conversations = Conversations(config.behaviour.context_idle)
        self.router = Router(
            self.client,
            config,
            state=self.state,
            checkpoint=self.checkpoint,
            sender=self.sender,
            conversations=self.conversations,
            respond=respond
            or ops_responder(
                core_responder(holder, config.audience.servers),
                self.ops,
                prefix,
                self._admin_trust,
            ),
            greeting=lambda: answer("aide", holder.current)[0],
            observer=self.observer,
        )
        self.supervisor = Supervisor(
            self.client,
            config.sync,
            router=self.router,
            checkpoint=self.checkpoint,
            crypto_lock=self.crypto_lock,
            start_token=self.state.sync_token,
            observer=self.observer,
            log_in_again=(lambda: session.log_in_again(self.client, config))
            if config.secrets.password is not None
            else None,
        )
        self._stop = asyncio.Event()
        self._early_sighup = False
        self._background: set[asyncio.Task[Any]] = set()

    async def _admin_trust(self, question: Question) -> str | None:
        return await device_trust.refusal(
            self.client,
            self.config.encryption.admin_trust,
            question.sender,
            question.sender_key,
        )

    def _state_failed(self, exc: sqlite3.Error) -> None:
        """The state database cannot be written: stop at once rather than answer questions
        that could not be recorded (see ``bot.matrix.state``)."""
        self._state_error = exc
        self._stop.set()

    def early_sighup(self) -> None:
        """SIGHUP before the operations are up (the reloader's own handler takes over
        then): remembered, and the reload done once started. Never the default action,
        which would kill the process with nothing in the log."""
        log.info("SIGHUP received during start-up: the knowledge will be reloaded once started")
        self._early_sighup = True

    def _spawn_reload(self) -> None:
        task = asyncio.create_task(self.ops.reloader.reload("sighup"), name="reload-early")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stop requested: finishing replies in flight")
        self._stop.set()

    async def run(self) -> None:
        """Log in, sync and answer until ``request_stop``; raise ``FatalAuthError``."""
        tasks: list[asyncio.Task[Any]] = []
        ops_started = logged_in = False
        try:
            if not await self._log_in():
                return  # stopped while the homeserver was unreachable
            logged_in = True
            await self.generation.advance()
            await self._fetch_display_name()
            self.ops.status.logged_in = True
            await self._check_identity()
            try:
                await self.ops.start()
            except OSError as exc:
                health = self.config.ops.health
                raise StartupError(
                    f"health server cannot listen on {health.host}:{health.port}: {exc}"
                ) from exc
            ops_started = True
            if self._early_sighup:
                log.info("reloading the knowledge, as asked by a SIGHUP during start-up")
                self._spawn_reload()
            tasks = [
                asyncio.create_task(self.sender.run(), name="sender"),
                asyncio.create_task(self.router.undecryptable.run(), name="undecryptable"),
                asyncio.create_task(self._identity_retries(), name="identity"),
                asyncio.create_task(self._mark_store(), name="store-generation"),
            ]
            sync_task = asyncio.create_task(self.supervisor.run(), name="sync")
            stop_task = asyncio.create_task(self._stop.wait())
            await asyncio.wait({sync_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            self.supervisor.stop()
            stop_task.cancel()
            await asyncio.gather(sync_task, return_exceptions=True)
            if self._state_error is not None:
                raise StateWriteError(
                    f"cannot write the state database {self.state.path}: {self._state_error}. "
                    f"Stopped: {self.sender.queued} replies not sent; every question not "
                    "recorded as answered is handled again at the next start"
                )
            if not await self.sender.drain(DRAIN_TIMEOUT):
                log.warning(
                    "%d replies not sent before shutdown: they will be answered "
                    "after the next start",
                    self.sender.queued,
                )
            sync_task.result()  # re-raise FatalAuthError or a crash of the loop
        finally:
            for task in [*tasks, *self._background]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.router.close()
            if ops_started:
                await self.ops.stop()
            else:
                await self.ops.store.aclose()
            stats = self.sender.stats
            log.info(
                "sender: %d sent, %d rate-limited responses, %d retries, %d dropped",
                stats.sent,
                stats.rate_limited,
                stats.retries,
                stats.dropped,
            )
            self.state.close()
            if logged_in:
                with contextlib.suppress(Exception):  # the store moved on while running
                    await asyncio.wait_for(self.generation.advance(), 10)
            await self.client.close()
            log.info("stopped")

    async def _log_in(self) -> bool:
        """Log in, however long the homeserver takes to answer; False if stopped first."""
        login = asyncio.create_task(self._open_session(), name="login")
        stop = asyncio.create_task(self._stop.wait())
        await asyncio.wait({login, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not login.done():
            login.cancel()
            await asyncio.gather(login, return_exceptions=True)
            log.info("stopped before the homeserver could be reached")
            return False
        login.result()  # FatalAuthError: credentials refused
        return True

    async def _check_identity(self) -> None:
        """This device's keys on the homeserver, then its cross-signing (``identity``):
        before the first sync, so that the first reply is already from a signed device."""
        async with self.crypto_lock:
            try:
                if self.client.should_upload_keys:
                    await self.client.keys_upload()
            except (OSError, TimeoutError) as exc:  # ensure() reports what is missing
                log.warning("uploading the device keys failed: %r", exc)
            try:
                status = await self.identity.ensure()
            except IdentityFileError as exc:
                raise StartupError(f"cross-signing identity: {exc}") from None
        self.ops.status.record_identity(status.signed, status.detail)

    async def _mark_store(self) -> None:
        """The crypto store's generation moves on while it is in use (syncs that carried
        to-device messages, replies sent): see ``store_generation``."""
        seen = (self.supervisor.to_device_events, self.sender.stats.sent)
        while True:
            await asyncio.sleep(store_generation.INTERVAL)
            now = (self.supervisor.to_device_events, self.sender.stats.sent)
            if now != seen:
                seen = now
                await self.generation.advance()

    async def _identity_retries(self) -> None:
        """A check the homeserver could not answer is made again, until it can."""
        while self.identity.status is not None and (
            self.identity.status.state is IdentityState.FAILED
        ):
            await asyncio.sleep(IDENTITY_RETRY)
            await self._check_identity()

    async def _open_session(self) -> session.SavedSession:
        try:
            return await session.open_session(self.client, self.config)
        except crypto.STORE_ERRORS as exc:  # restore_login loads the crypto store
            raise StartupError(crypto.store_problem(self.config, exc)) from None
        except StaleStoreError as exc:
            raise StartupError(str(exc)) from None

    async def _fetch_display_name(self) -> None:
        with contextlib.suppress(Exception):
            response = await self.client.get_displayname(self.config.matrix.user_id)
            if isinstance(response, ProfileGetDisplayNameResponse):
                self.router.display_name = response.displayname


def run(config_path: Path) -> int:
    """Entry point of ``tchap-bot run --config PATH``; returns the exit code."""
    os.umask(0o077)  # every file the bot creates (stores, state, logs of nio) is private
    # SIGHUP's default action kills the process: from the first instant, it is remembered.
    signal.signal(signal.SIGHUP, lambda *_: _early_sighups.append(1))
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"tchap-bot: {exc}", file=sys.stderr)
        return EXIT_INVALID_SETUP
    secrets = config.secrets
    setup_logging(
        config.log_level,
        config.log_format,
        secrets=(secrets.access_token or "", secrets.password or "", secrets.pickle_key),
    )

    from bot.knowledge.loader import load_knowledge
    from bot.knowledge.problems import KnowledgeError

    try:
        knowledge = prepare(load_knowledge(config.knowledge_dir))  # index built before serving
    except KnowledgeError as exc:
        print(f"tchap-bot: invalid knowledge in {config.knowledge_dir}: {exc}", file=sys.stderr)
        return EXIT_INVALID_SETUP
    lock = datadir.DataDirLock(config.data_dir)
    try:
        datadir.prepare(config)
        lock.acquire()
    except datadir.DataDirBusy as exc:
        return _stopped(str(exc), EXIT_INVALID_SETUP)
    except OSError as exc:
        print(f"tchap-bot: data directory {config.data_dir} unusable: {exc}", file=sys.stderr)
        return EXIT_INVALID_SETUP
    try:
        asyncio.run(_serve(config, KnowledgeHolder(knowledge)))
    except StartupError as exc:
        return _stopped(str(exc), EXIT_INVALID_SETUP)
    except StateWriteError as exc:
        return _stopped(str(exc), EXIT_RESTARTABLE)
    except sqlite3.Error as exc:  # the state database cannot even be opened
        return _stopped(f"data directory {config.data_dir} unusable: {exc}", EXIT_INVALID_SETUP)
    except FatalAuthError as exc:
        message = f"cannot log in as {config.matrix.user_id}: {exc}"
        return _stopped(message, EXIT_CREDENTIALS_REFUSED)
    except Exception as exc:  # a bug: not exit 1, which means "credentials refused"
        log.exception("stopped by an unexpected error")
        return _stopped(f"stopped by an unexpected error: {exc!r}", EXIT_RESTARTABLE)
    finally:
        lock.release()
    return EXIT_STOPPED


_early_sighups: list[int] = []  # SIGHUPs before the event loop runs (config, knowledge)


def _stopped(message: str, code: int) -> int:
    """Say why the bot stops, in the log and on stderr (systemd shows both)."""
    log.error("%s", message)
    print(f"tchap-bot: {message}", file=sys.stderr)
    return code


async def _serve(config: Config, holder: KnowledgeHolder) -> None:
    loop = asyncio.get_running_loop()
    bot = Bot(config, holder)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, bot.request_stop)
    # Until the reloader's own handler takes over (ops.start), after login and first sync.
    loop.add_signal_handler(signal.SIGHUP, bot.early_sighup)
    if _early_sighups:
        bot.early_sighup()
    await bot.run()
