"""Exponential backoff with jitter, shared by the sync loop and the login at start."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays of ``initial``, doubling up to ``maximum``, each drawn in [50 %, 100 %] of
    the current step (jitter: many bots restarting together do not retry in step)."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._initial = initial
        self._maximum = maximum
        self._jitter = jitter
        self._step = initial

    def next(self) -> float:
        """The delay to wait now; the following one will be about twice as long."""
        delay = self._step * self._jitter(0.5, 1.0)
        self._step = min(self._step * 2, self._maximum)
        return delay

    def at_least(self, seconds: float) -> float:
        """The next delay, but no shorter than ``seconds`` (a homeserver's retry_after)."""
        return max(self.next(), seconds)

    def reset(self) -> None:
        self._step = self._initial
