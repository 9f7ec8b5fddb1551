"""A small circuit breaker: after a run of failures, stop calling a dead system for a while.

It is per process (each gunicorn worker learns on its own after `failure_threshold` failures); that is enough to
keep a dead departmental system from tying up threads at the peak, and needs no shared state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    """The breaker is open: the call was not attempted."""


class CircuitBreaker:
    """Closed → open after `failure_threshold` consecutive failures → one trial call after `reset_seconds`."""

    def __init__(self, name: str, *, failure_threshold: int = 5, reset_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """closed, open or half_open."""
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.reset_seconds else "open"

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go ahead (in half-open state, only one trial at a time)."""
        with self._lock:
            state = self._state()
            if state == "open" or (state == "half_open" and self._trial_running):
                raise CircuitOpen(f"{self.name}: circuit open after {self._failures} failures")
            if state == "half_open":
                self._trial_running = True

    def success(self) -> None:
        """A call answered: close the circuit."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failure(self) -> None:
        """A call failed: count it, and open (or re-open) the circuit at the threshold."""
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._failures >= self.failure_threshold or self._opened_at is not None:
                self._opened_at = self._clock()
