"""Chorus in its own gunicorn process, which a test can stop and start again on one port.

pytest-django's live server runs inside the test process and cannot be stopped. A test
that needs the server to go away (a service worker's requests ignore Playwright's offline
switch, so only a server that is really gone makes a kiosk offline) runs this one
instead, over the same test database: data the test commits is what the server sees.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

STARTUP_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def current_database_url() -> str:
    """The DATABASE_URL of the database this test process is using (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return (
            f"postgres://{quote(db['USER'] or '', safe='')}{password}"
            f"@{db.get('HOST') or ''}{port}/{quote(db['NAME'], safe='')}"
        )
    raise NotImplementedError(f"no DATABASE_URL for {db['ENGINE']}")


class AppServer:
    """`start()` serves Chorus at `url`; `stop()` takes it away, port and all."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        handle, name = tempfile.mkstemp(prefix="chorus-e2e-server-", suffix=".log")
        os.close(handle)
        self.log = Path(name)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="true",
            STATIC_MANIFEST="false",
            DATABASE_URL=current_database_url(),
            # No connection outlives its request, so none is left holding the test
            # database that pytest-django flushes after each test and drops at the end.
            CONN_MAX_AGE="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> None:
        assert self.process is None, "already running"
        # The server keeps its own copy of the log's file descriptor.
        with self.log.open("ab") as log:
            self.process = self._spawn(log)
        self._wait_until_serving()

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=1",
                "--threads=4",
                "--graceful-timeout=1",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Gone at once, like a crashed server or a cut cable: no more connections."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while self._port_open():
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.port} still answers after the server stopped")
            time.sleep(0.05)

    def close(self) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def _port_open(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _wait_until_serving(self) -> None:
        probe = f"{self.url}{settings.STATIC_URL}css/chorus.css"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.output()}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start in {STARTUP_SECONDS}s:\n{self.output()}")
