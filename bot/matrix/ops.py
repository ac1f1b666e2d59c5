"""The operations components (``bot.ops``) wired into the Matrix bot.

- :class:`OpsObserver` is the Router's and Supervisor's observer: metrics, health, and
  the feedback of agents (👍/👎 reactions to an answer, recorded per subject).
- :func:`ops_responder` wraps the Router's respond seam: admin commands in a direct chat
  go to :class:`bot.ops.admin.AdminCommands`, everything else to the core, and questions
  the core could not answer well are kept in the store for the maintainers.
"""

from __future__ import annotations

import html
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.core import Context, Reply
from bot.core.understand import ANSWER_THRESHOLD
from bot.knowledge.subject import ADMIN, CLARIFY, HELP, NONE
from bot.matrix.questions import Answer, Question, Responder
from bot.ops.admin import parse_command
from bot.ops.runtime import OpsRuntime

log = logging.getLogger(__name__)

# An admin command's reply is neither counted nor voted on. The observer gets subjects as
# metrics labels, their contract strings (bot.knowledge.subject).
ADMIN_LABEL = str(ADMIN)
MAX_TRACKED_REPLIES = 10_000  # answers whose reactions still count, most recent kept

CoreResponder = Callable[[Question, Context | None], Answer]


def unanswered_reason(reply: Reply) -> str | None:
    """Why a reply is worth a maintainer's look, or None when it answered well.

    ``none`` (out of scope), ``clarify`` (the bot asked to choose) or ``low_confidence``:
    an answer whose best candidate scored below the core's answer threshold. A reply with
    no candidates came from the conversation's context (a follow-up): not low confidence.
    """
    if reply.subject == NONE:
        return "none"
    if reply.subject == CLARIFY:
        return "clarify"
    if reply.subject in (HELP, ADMIN) or not reply.candidates:
        return None
    if max(c.score for c in reply.candidates) < ANSWER_THRESHOLD:
        return "low_confidence"
    return None


# Whether an admin's command may run, from its question; None: yes, else why not (French).
TrustCheck = Callable[[Question], Awaitable[str | None]]


def ops_responder(
    core: CoreResponder, ops: OpsRuntime, prefix: str, trust: TrustCheck | None = None
) -> Responder:
    """The core, with admin commands in direct chats and unanswered questions recorded.
    ``trust`` vets an admin's device before a command runs (``bot.matrix.device_trust``)."""

    def answered(question: Question, result: Answer) -> Answer:
        reason = unanswered_reason(result[0])
        if reason is not None:
            try:
                ops.store.record_unanswered(question.text, reason, user_id=question.sender)
            except Exception:  # the store must never cost an agent an answer
                log.exception("recording an unanswered question failed")
        return result

    async def admin(question: Question, context: Context | None) -> Answer:
        command = f"{prefix} {question.text}"
        parsed = parse_command(command, prefix)
        if trust is not None and ops.admin.is_admin(question.sender) and parsed is not None:
            refused = None if parsed.name == "aide" else await trust(question)
            if refused is not None:
                log.info("admin command %r from %s refused: device", parsed.name, question.sender)
                text = html.escape(refused)
                return Reply(ADMIN, (), refused, f"<p>{text}</p>"), context or Context()
        reply = await ops.admin.handle(question.sender, command)
        if reply is None:  # "aide" from an agent: the core's help menu
            return answered(question, core(question, context))
        return Reply(ADMIN, (), reply.text, reply.html), context or Context()

    def respond(question: Question, context: Context | None) -> Answer | Awaitable[Answer]:
        if (
            question.direct
            and question.via == "prefix"
            and parse_command(f"{prefix} {question.text}", prefix) is not None
        ):
            return admin(question, context)
        return answered(question, core(question, context))

    return respond


class OpsObserver:
    """Feeds the metrics, the health status and the feedback store from the transport."""

    def __init__(self, ops: OpsRuntime, *, max_tracked: int = MAX_TRACKED_REPLIES) -> None:
        self._ops = ops
        self._max_tracked = max_tracked
        # reply event id -> (subject, asker). In memory only: no user id is written
        # anywhere for this, and reactions to answers sent before a restart are ignored.
        self._replies: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def record_reply(self, subject: str, latency: float | None = None) -> None:
        if subject != ADMIN_LABEL:
            self._ops.metrics.record_reply(subject, latency)

    def record_sync_ok(self) -> None:
        self._ops.record_sync_ok()

    def record_sync_error(self, kind: str) -> None:
        self._ops.record_sync_error(kind)

    def record_undecryptable(self) -> None:
        self._ops.metrics.record_undecryptable()

    def set_rooms_joined(self, count: int) -> None:
        self._ops.metrics.set_rooms_joined(count)

    def record_given_up(self, reason: str) -> None:
        self._ops.metrics.record_given_up(reason)

    def reply_sent(self, room_id: str, reply_event_id: str, asker: str, subject: str) -> None:
        if subject == ADMIN_LABEL:
            return
        self._replies[reply_event_id] = (subject, asker)
        while len(self._replies) > self._max_tracked:
            self._replies.popitem(last=False)

    def reaction(
        self, room_id: str, sender: str, reacts_to: str, key: str, reaction_event_id: str
    ) -> None:
        tracked = self._replies.get(reacts_to)
        if tracked is None:
            return
        subject, asker = tracked
        if sender != asker and not self._ops.settings.store.votes_from_anyone:
            log.debug("reaction to %s not counted: not from the agent who asked", reacts_to)
            return
        change = self._ops.record_reaction(
            reacts_to, subject, key, reaction_event_id, user_id=sender
        )
        if change is not None:
            log.info("feedback on %s (%s): %s, %s", reacts_to, subject, key, change.value)

    def redaction(self, room_id: str, redacted_event_id: str) -> None:
        if self._ops.record_redaction(redacted_event_id):
            log.info("feedback withdrawn: reaction %s redacted", redacted_event_id)
