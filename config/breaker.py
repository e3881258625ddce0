"""A circuit breaker for the calls a web request makes to Redis (publishing a task, the cache).

While Redis is unreachable each call would wait for its connect timeout; after one failure
the breaker opens and, for `cooldown` seconds, callers skip the call at once and take their
fallback (the sweeps re-drive unpublished work; the cache answers as if empty). The first
call after the cooldown tries again and closes the breaker when it succeeds. State is per
process: each gunicorn worker learns of an outage from its own first failure.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


class CircuitBreaker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def cooldown(self) -> float:
        return float(getattr(settings, "REDIS_BREAKER_SECONDS", 10))

    def allows(self) -> bool:
        """False while open: the caller should take its fallback without trying."""
        return time.monotonic() >= self._open_until

    def failed(self) -> None:
        with self._lock:
            was_closed = self._open_until == 0.0
            self._open_until = time.monotonic() + self.cooldown
        if was_closed:
            logger.warning(
                "%s is unreachable: skipping it for %.0fs at a time until it answers",
                self.name,
                self.cooldown,
            )

    def succeeded(self) -> None:
        if self._open_until:
            with self._lock:
                self._open_until = 0.0
            logger.warning("%s answers again", self.name)

    def reset(self) -> None:
        self._open_until = 0.0


broker_breaker = CircuitBreaker("the task broker")
cache_breaker = CircuitBreaker("the Redis cache")
