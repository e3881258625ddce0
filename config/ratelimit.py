"""A fixed-window request counter in the cache (Redis in production, so shared by workers)."""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class RateWindow:
    """One caller's window after a hit: what the RateLimit-* headers report."""

    limit: int
    count: int
    # Seconds until this window ends and the count starts again (at least 1).
    reset: int
    window: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def rate_hit(*, scope: str, key: str, limit: int, window: int = 60) -> RateWindow:
    """Count one hit for `key` in `scope` and say where its window stands.

    A window starts at its first hit and lasts `window` seconds; its start is kept beside
    the count, so the answer can say when the count starts again.
    """
    count, started, now = _hit(scope, key, window, started=True)
    reset = min(window, max(1, math.ceil(started + window - now)))
    return RateWindow(limit=limit, count=count, reset=reset, window=window)


def _hit(scope: str, key: str, window: int, *, started: bool) -> tuple[int, float, float]:
    """Count one hit: (the window's count, when it started (now unless `started` asks
    for it), now). An open window takes one INCR; only the first hit of a window writes
    more (on Redis, one cache round trip where opening it first took three)."""
    count_key = _count_key(scope, key)
    start_key = f"{count_key}:start"
    now = time.time()
    try:
        count = cache.incr(count_key)
    except ValueError:
        # No window open: this hit opens one, unless another process has just done so.
        if cache.add(count_key, 1, timeout=window):
            cache.set(start_key, now, timeout=window)
            return 1, now, now
        try:
            count = cache.incr(count_key)
        except ValueError:
            # That window expired in between: this hit starts a new one.
            cache.add(count_key, 1, timeout=window)
            cache.set(start_key, now, timeout=window)
            return 1, now, now
    if not started:
        return count, now, now
    # Missing when another process opened the window a moment ago and has not yet written
    # its start: the window is as good as new.
    return count, cache.get(start_key) or now, now


@lru_cache(maxsize=4096)
def _count_key(scope: str, key: str) -> str:
    # A kiosk's key is hashed on each of its answers: once per process is enough.
    return f"rl:{scope}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def rate_refund(*, scope: str, key: str) -> None:
    """Take back one hit rate_hit counted, for an action that then did not happen (a
    kiosk's answer that turned out to be a resend). Nothing to take back once the window
    has ended."""
    with contextlib.suppress(ValueError):
        cache.decr(_count_key(scope, key))


def rate_limited(*, scope: str, key: str, limit: int, window: int = 60) -> bool:
    """Count one hit for `key` in `scope`; True once more than `limit` fall in one window."""
    return _hit(scope, key, window, started=False)[0] > limit


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the entry the
    outermost of them appended to X-Forwarded-For (earlier entries are the client's word)."""
    proxies = settings.CHORUS["TRUSTED_PROXIES"]
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
