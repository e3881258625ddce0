"""A fixed-window request counter in the cache (Redis in production, so shared by workers)."""

import hashlib

from django.core.cache import cache


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
