"""While Redis is unreachable, requests skip it after one failure instead of each waiting
for its timeout: publishing leaves the work to the sweeps, the cache answers as if empty."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from celery import Celery

from config.breaker import broker_breaker, cache_breaker
from config.cache import ResilientRedisCache
from config.queue import enqueue_on_commit
from config.ratelimit import rate_limited


class SilentServer:
    """A TCP server that accepts connections and never answers: a Redis that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self._stop = True
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def hung_redis() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def closed_breakers(settings) -> Iterator[None]:
    settings.REDIS_BREAKER_SECONDS = 30
    broker_breaker.reset()
    cache_breaker.reset()
    yield
    broker_breaker.reset()
    cache_breaker.reset()


def _cache(port: int) -> ResilientRedisCache:
    return ResilientRedisCache(
        f"redis://127.0.0.1:{port}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}},
    )


def test_a_hung_redis_costs_the_cache_one_attempt_not_one_per_call(hung_redis):
    cache = _cache(hung_redis.port)
    # when: twenty calls a page might make while Redis hangs
    results = [cache.get("k", "fallback") for _ in range(10)]
    cache.set("k", 1)
    counts = [cache.incr("n") for _ in range(9)]
    # then: reads miss, writes are dropped, counters restart, and only one connection was tried
    assert results == ["fallback"] * 10
    assert counts == [1] * 9
    assert hung_redis.accepted == 1
    assert not cache_breaker.allows()


def test_rate_limits_fail_open_while_the_cache_is_down(settings, hung_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{hung_redis.port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
    hits = [rate_limited(scope="outage", key="k", limit=2) for _ in range(5)]
    assert hits == [False] * 5


def test_the_cache_tries_again_after_the_cooldown(settings, hung_redis):
    settings.REDIS_BREAKER_SECONDS = 0.2
    cache = _cache(hung_redis.port)
    cache.get("k")
    cache.get("k")
    assert hung_redis.accepted == 1
    time.sleep(0.3)
    cache.get("k")
    assert hung_redis.accepted == 2


def _dead_broker_task(port: int):
    app = Celery("outage-test", set_as_current=False)
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{port}/0",
        broker_connection_timeout=0.3,
        broker_connection_retry=False,
        task_publish_retry=False,
        broker_transport_options={"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
    )

    @app.task(name="outage.noop")
    def noop(n: int) -> int:
        return n

    return noop


@pytest.mark.django_db
def test_a_hung_broker_is_tried_once_then_the_sweeps_take_over(
    hung_redis, django_capture_on_commit_callbacks, caplog
):
    task = _dead_broker_task(hung_redis.port)
    # when: five submits each enqueue their after-commit work while the broker hangs
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(task, n=n)
    # then: every request went on (no exception), one publish was attempted, and the rest
    # were left for the sweeps
    assert hung_redis.accepted <= 2  # kombu may open a second socket for its one attempt
    assert not broker_breaker.allows()
    assert sum("left to the sweep" in r.getMessage() for r in caplog.records) == 4


@pytest.mark.django_db
def test_eager_tasks_never_trip_the_breaker(django_capture_on_commit_callbacks, settings):
    ran = []
    app = Celery("eager-test", set_as_current=False)
    app.conf.task_always_eager = True

    @app.task(name="outage.record")
    def record(n: int) -> None:
        ran.append(n)

    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(record, n=n)
    assert ran == [0, 1, 2]
    assert broker_breaker.allows()
