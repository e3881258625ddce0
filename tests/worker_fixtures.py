"""A real SMTP sink and a real Celery worker process, for tests marked `worker`.

The worker is a separate `celery worker` process over the same Redis broker and the
same (test) PostgreSQL database, so these tests must use committed data
(`django_db(transaction=True)`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


class SmtpSink:
    """Collects every message a real SMTP client delivers to it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        with self._lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address in m.get("To", "")]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 30) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.to(address)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, smtp_sink, tmp_path_factory):
    """Start `celery worker` against the test database, Redis and the SMTP sink."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail(
            "worker tests need REDIS_URL and a PostgreSQL DATABASE_URL "
            "(run them through `.ci/run` or `make test` with both set)"
        )
    from config.celery import app

    sink, port = smtp_sink
    with django_db_blocker.unblock():
        database_url = _database_url()
    app.control.purge()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
    }
    process = _worker_start(env=env, log=log, name=f"test-{os.getpid()}@%h")
    try:
        _worker_wait_ready(process, log)
        yield process, log
    finally:
        _worker_stop(process)


def _worker_start(
    *, env: dict[str, str], log: Path, name: str, queue: str = ""
) -> subprocess.Popen:
    """`celery worker` (one process, solo pool) on the default queue (or `queue`), logging
    to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                queue or settings.CELERY_TASK_DEFAULT_QUEUE,
                "-l",
                "info",
                "-n",
                name,
            ],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "true", "CONN_MAX_AGE": "0", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _worker_wait_ready(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _worker_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisServer:
    """A redis-server of one test's own, on a free port, that the test may crash and start
    again on the same port: the shared server stays untouched. Like CI's, it keeps nothing
    on disk, so a crash loses every message it held."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._directory),
                "--logfile",
                str(self._directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.is_up, timeout=20):
            self.stop()
            pytest.fail(f"redis-server did not start on port {self.port}")

    def is_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def crash(self) -> None:
        """SIGKILL, as an OOM kill or a lost host would stop it."""
        self._process.kill()
        self._process.wait(timeout=20)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def publisher_point_at(url: str) -> None:
    """Make this process publish tasks to the broker at `url`."""
    from kombu import pools

    from config.celery import app

    # Celery caches the publisher's connection pools; drop them so the next publish
    # really dials `url`.
    app.conf.broker_url = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_broker(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test's own as the broker this process publishes to (and the workers
    of `own_workers` consume from), so the test can crash and restart it."""
    from config.celery import app

    server = RedisServer(tmp_path)
    server.start()
    saved = app.conf.broker_url
    publisher_point_at(server.url)
    try:
        yield server
    finally:
        publisher_point_at(saved)
        server.stop()


class WorkerProcess:
    """One `celery worker` process started by a test, and its log."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def log_text(self) -> str:
        return self.log.read_bytes().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no rollback from the worker itself."""
        self.process.kill()
        self.process.wait(timeout=20)


@pytest.fixture
def own_workers(own_broker, tmp_path) -> Iterator[Callable[[], WorkerProcess]]:
    """Start workers on the test's own broker and the test database, one per call (a
    test that kills one starts another); each is stopped, by its PID, at the end."""
    if connection.vendor != "postgresql":
        pytest.fail("worker tests need a PostgreSQL DATABASE_URL")
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": own_broker.url,
            "EMAIL_URL": "consolemail://",
        }
        name = f"own-{os.getpid()}-{len(started)}@%h"
        worker = WorkerProcess(_worker_start(env=env, log=log, name=name), log)
        started.append(worker)
        _worker_wait_ready(worker.process, log)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            _worker_stop(worker.process)


def wait_until(predicate, timeout: float = 90, interval: float = 0.1) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass: a worker is another process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
