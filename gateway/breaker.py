"""A per-upstream circuit breaker: after N consecutive failures it opens and answers 503 at
once; after a cool-down one request is let through (half-open); its success closes it."""

from __future__ import annotations

import time


class CircuitBreaker:
    def __init__(self, failures: int, open_seconds: float) -> None:
        self.threshold = failures
        self.open_seconds = open_seconds
        self.consecutive_failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if time.monotonic() - self.opened_at >= self.open_seconds else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.probing:
            self.probing = True
            return True
        return False

    def success(self) -> None:
        self.consecutive_failures = 0
        self.opened_at = None
        self.probing = False

    def failure(self) -> None:
        self.consecutive_failures += 1
        self.probing = False
        if self.consecutive_failures >= self.threshold or self.opened_at is not None:
            self.opened_at = time.monotonic()
