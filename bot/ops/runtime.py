"""One object that owns every operations component, for the Matrix bot to wire in.

::

    ops = OpsRuntime(config.ops, holder=holder, knowledge_dir=..., data_dir=...)
    await ops.start()                      # health server, watcher, daily purge, SIGHUP
    ops.status.logged_in = True            # after whoami
    ops.record_sync_ok()                   # after each successful sync
    ops.record_sync_error("network")       # on a failed sync
    reply = await ops.admin.handle(sender, body)   # DM starting with the prefix; None: a question
    ops.record_reaction(reply_event_id, subject, key, reaction_event_id)
    ops.record_redaction(reaction_event_id)
    await ops.stop()

Everything else (``metrics``, ``store``, ``reloader``) stays reachable as attributes.
Replies are not reported here: ``bot.matrix.ops`` does it on the path every reply takes
(``ops_responder`` keeps the questions not answered well in ``store``, ``OpsObserver``
counts each reply sent in ``metrics``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.config import OpsSettings
from bot.knowledge.holder import KnowledgeHolder
from bot.knowledge.problems import format_problem
from bot.ops.admin import DEFAULT_PREFIX, AdminCommands
from bot.ops.health import BotStatus, HealthServer
from bot.ops.metrics import Metrics
from bot.ops.reload import Loader, Reloader, default_loader, install_sighup
from bot.ops.store import Store, VoteChange, vote_from_reaction
from bot.ops.watcher import KnowledgeWatcher

log = logging.getLogger(__name__)


class OpsRuntime:
    def __init__(
        self,
        settings: OpsSettings,
        *,
        holder: KnowledgeHolder,
        knowledge_dir: Path,
        data_dir: Path,
        prefix: str = DEFAULT_PREFIX,
        loader: Loader = default_loader,
    ) -> None:
        """Build the components and open the store (which purges expired rows)."""
        self.settings = settings
        self.holder = holder
        self.metrics = Metrics()
        self.status = BotStatus()
        self.status.knowledge_loaded = True  # the holder exists: knowledge was loaded
        self.reloader = Reloader(
            holder,
            knowledge_dir,
            loader=loader,
            metrics=self.metrics,
            warn_days=settings.knowledge.warn_days,
        )
        self.store = Store.in_data_dir(data_dir, settings.store)
        self.health = (
            HealthServer(self.status, self.metrics, settings.health)
            if settings.health.enabled
            else None
        )
        self.watcher = (
            KnowledgeWatcher(
                self.reloader,
                interval=settings.knowledge.watch_interval,
                debounce=settings.knowledge.debounce,
            )
            if settings.knowledge.watch
            else None
        )
        self.admin = AdminCommands(
            settings.admins,
            metrics=self.metrics,
            holder=holder,
            reloader=self.reloader,
            store=self.store,
            prefix=prefix,
        )
        self._uninstall_sighup: Callable[[], None] | None = None

    async def start(self, *, sighup: bool = True) -> None:
        """Start the health server (raises ``OSError`` if the port is taken), the file
        watcher if configured, the daily purge and, unless told not to, the SIGHUP handler.
        """
        if self.health is not None:
            await self.health.start()
        if self.watcher is not None:
            await self.watcher.start()
        self.store.start_daily_purge()
        if sighup:
            self._uninstall_sighup = install_sighup(asyncio.get_running_loop(), self.reloader)
        for expiry in self.reloader.expiries():
            log.warning("Knowledge: %s", format_problem(expiry.problem()))

    async def stop(self) -> None:
        if self._uninstall_sighup is not None:
            self._uninstall_sighup()
            self._uninstall_sighup = None
        if self.watcher is not None:
            await self.watcher.stop()
        if self.health is not None:
            await self.health.stop()
        await self.store.aclose()

    # -- what the Matrix bot reports -----------------------------------------------------

    def record_sync_ok(self) -> None:
        self.status.record_sync_ok()
        self.metrics.record_sync_ok()

    def record_sync_error(self, kind: str) -> None:
        self.metrics.record_sync_error(kind)

    def record_reaction(
        self,
        reply_event_id: str,
        subject: str,
        key: str,
        reaction_event_id: str | None = None,
        *,
        user_id: str | None = None,
    ) -> VoteChange | None:
        """A reaction ``key`` on the bot's reply about ``subject``. None: not a 👍/👎."""
        vote = vote_from_reaction(key)
        if vote is None:
            return None
        change = self.store.record_vote(
            reply_event_id, subject, vote, reaction_event_id=reaction_event_id, user_id=user_id
        )
        if change is not VoteChange.UNCHANGED:
            self.metrics.record_feedback(subject, vote)
        return change

    def record_redaction(self, redacted_event_id: str) -> bool:
        """A redacted event: if it was a vote, forget it. True if it was one."""
        return self.store.retract_vote(redacted_event_id)
