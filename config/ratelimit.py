"""A fixed-window request counter in the cache (Redis in production, so shared by workers)."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def rate_limited(*, scope: str, key: str, limit: int, window: int = 60) -> bool:
    """Count one hit for `key` in `scope`; True once more than `limit` fall in one window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window)
    try:
        return cache.incr(cache_key) > limit
    except ValueError:
        # The window expired between add and incr: this hit starts a new one.
        cache.add(cache_key, 1, timeout=window)
        return False


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the entry the
    outermost of them appended to X-Forwarded-For (earlier entries are the client's word)."""
    proxies = settings.CHORUS["TRUSTED_PROXIES"]
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
