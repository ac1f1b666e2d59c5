"""Prometheus metrics, in a registry of their own (no global state, one per bot or test).

The bot records events through the ``record_*`` methods; ``render()`` is what ``/metrics``
serves and :meth:`Metrics.snapshot` is what the ``stats`` admin command shows, so both
read the same counters.

Label values stay bounded: ``subject`` is a knowledge subject (``need:...``, ``tool:...``,
``tip:...``) or ``help``; ``kind`` and ``vote`` are folded onto fixed sets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.knowledge import subject as subjects

PREFIX = "tchapbot"
CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Reply subjects that are not answers, as labels: they have their own counters.
OUT_OF_SCOPE = str(subjects.NONE)
CLARIFY = str(subjects.CLARIFY)

SYNC_ERROR_KINDS = frozenset({"network", "http_5xx", "rate_limited", "auth", "timeout", "other"})
RELOAD_OUTCOMES = frozenset({"ok", "error"})
VOTES = frozenset({"up", "down"})


@dataclass(frozen=True)
class MetricsSnapshot:
    """Counts since start, for the ``stats`` admin command."""

    questions: int
    answers: dict[str, int]  # subject -> count
    out_of_scope: int
    clarifications: int
    feedback: dict[str, dict[str, int]]  # subject -> {"up": n, "down": n}
    reloads: dict[str, int]  # outcome -> count
    sync_errors: dict[str, int]
    undecryptable: int
    rooms_joined: int
    started_at: float  # wall clock (Unix time)


class Metrics:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.questions = Counter(f"{PREFIX}_questions", "Questions received.", registry=r)
        self.answers = Counter(
            f"{PREFIX}_answers", "Questions answered, by subject.", ["subject"], registry=r
        )
        self.out_of_scope = Counter(
            f"{PREFIX}_out_of_scope", "Questions outside the guide.", registry=r
        )
        self.clarifications = Counter(
            f"{PREFIX}_clarifications", "Replies asking the agent to choose.", registry=r
        )
        self.reply_latency = Histogram(
            f"{PREFIX}_reply_latency_seconds",
            "From the question's arrival at the bot to the reply sent.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sync_errors = Counter(
            f"{PREFIX}_sync_errors", "Failed syncs, by kind.", ["kind"], registry=r
        )
        self.reloads = Counter(
            f"{PREFIX}_reloads", "Knowledge reloads, by outcome.", ["outcome"], registry=r
        )
        self.undecryptable = Counter(
            f"{PREFIX}_undecryptable", "Messages that could not be decrypted.", registry=r
        )
        self.rooms_joined = Gauge(f"{PREFIX}_rooms_joined", "Rooms the bot is in.", registry=r)
        self.given_up = Counter(
            f"{PREFIX}_messages_given_up",
            "Messages the bot gave up sending, by reason (forbidden, too_large, failures...).",
            ["reason"],
            registry=r,
        )
        self.feedback = Counter(
            f"{PREFIX}_feedback",
            "Votes on replies (a changed vote counts once more), by subject and vote.",
            ["subject", "vote"],
            registry=r,
        )
        self.last_sync_success = Gauge(
            f"{PREFIX}_last_sync_success_timestamp_seconds",
            "Unix time of the last successful sync (0: none yet).",
            registry=r,
        )
        self.start_time = Gauge(
            f"{PREFIX}_start_time_seconds", "Unix time the bot started.", registry=r
        )
        self.started_at = clock()
        self.start_time.set(self.started_at)
        for outcome in sorted(RELOAD_OUTCOMES):
            self.reloads.labels(outcome=outcome)  # export zeros so rate() works from start

    # -- recording ---------------------------------------------------------------------

    def record_reply(self, subject: str, latency: float | None = None) -> None:
        """One question answered with a reply of this subject (``Reply.subject``)."""
        self.questions.inc()
        if subject == OUT_OF_SCOPE:
            self.out_of_scope.inc()
        elif subject == CLARIFY:
            self.clarifications.inc()
        else:
            self.answers.labels(subject=subject).inc()
        if latency is not None:
            self.reply_latency.observe(max(latency, 0.0))

    def record_sync_ok(self) -> None:
        self.last_sync_success.set(self._clock())

    def record_sync_error(self, kind: str) -> None:
        self.sync_errors.labels(kind=kind if kind in SYNC_ERROR_KINDS else "other").inc()

    def record_reload(self, ok: bool) -> None:
        self.reloads.labels(outcome="ok" if ok else "error").inc()

    def record_undecryptable(self) -> None:
        self.undecryptable.inc()

    def set_rooms_joined(self, count: int) -> None:
        self.rooms_joined.set(count)

    def record_given_up(self, reason: str) -> None:
        self.given_up.labels(reason=reason).inc()

    def record_feedback(self, subject: str, vote: str) -> None:
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {sorted(VOTES)}, not {vote!r}")
        self.feedback.labels(subject=subject, vote=vote).inc()

    # -- reading -----------------------------------------------------------------------

    def render(self) -> bytes:
        """The registry in Prometheus text format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def snapshot(self) -> MetricsSnapshot:
        def total(metric: Counter) -> int:
            return int(sum(v for _, v in self._samples(metric, "_total")))

        def by(metric: Counter, label: str) -> dict[str, int]:
            return {
                labels[label]: int(v)
                for labels, v in self._samples(metric, "_total")
                if int(v) or metric is self.reloads
            }

        feedback: dict[str, dict[str, int]] = {}
        for labels, v in self._samples(self.feedback, "_total"):
            feedback.setdefault(labels["subject"], {"up": 0, "down": 0})[labels["vote"]] = int(v)
        return MetricsSnapshot(
            questions=total(self.questions),
            answers=by(self.answers, "subject"),
            out_of_scope=total(self.out_of_scope),
            clarifications=total(self.clarifications),
            feedback=feedback,
            reloads=by(self.reloads, "outcome"),
            sync_errors=by(self.sync_errors, "kind"),
            undecryptable=total(self.undecryptable),
            rooms_joined=int(sum(v for _, v in self._samples(self.rooms_joined, ""))),
            started_at=self.started_at,
        )

    @staticmethod
    def _samples(metric: Counter | Gauge, suffix: str) -> list[tuple[dict[str, str], float]]:
        return [
            (dict(s.labels), s.value)
            for family in metric.collect()
            for s in family.samples
            if s.name == family.name + suffix
        ]
