"""Django's Redis cache, answering as an empty cache while Redis is unreachable.

Pages use the cache for rate limits and import progress. During a Redis outage a request
must still succeed: reads miss, writes are dropped, counters start from zero (so rate
limits fail open for the outage), and the breaker keeps requests from each waiting for
the connect timeout.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.breaker import cache_breaker

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _guarded(name: str, fallback: Any):
    parent = getattr(RedisCache, name)

    def method(self, *args: Any, **kwargs: Any) -> Any:
        if not cache_breaker.allows():
            return fallback(*args, **kwargs)
        try:
            result = parent(self, *args, **kwargs)
        except UNREACHABLE:
            cache_breaker.failed()
            return fallback(*args, **kwargs)
        cache_breaker.succeeded()
        return result

    method.__name__ = name
    method.__doc__ = parent.__doc__
    return method


def _default(key: str, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _incr(key: str, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    # The counter's value is unknown: count this hit as the first of a new window.
    return delta


class ResilientRedisCache(RedisCache):
    get = _guarded("get", _default)
    set = _guarded("set", lambda *a, **k: None)
    add = _guarded("add", lambda *a, **k: False)
    delete = _guarded("delete", lambda *a, **k: False)
    touch = _guarded("touch", lambda *a, **k: False)
    incr = _guarded("incr", _incr)
    get_many = _guarded("get_many", lambda *a, **k: {})
    set_many = _guarded("set_many", lambda *a, **k: [])
    delete_many = _guarded("delete_many", lambda *a, **k: None)
    has_key = _guarded("has_key", lambda *a, **k: False)
    clear = _guarded("clear", lambda *a, **k: None)
