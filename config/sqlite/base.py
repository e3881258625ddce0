"""Django's SQLite backend with its writers queued on a lock file rather than in SQLite's
busy loop.

SQLite lets one transaction write at a time. A second writer's `BEGIN IMMEDIATE` finds the
lock taken and SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries. A
submit holds the lock for a few milliseconds, so a waiting worker often sleeps long after
the lock is free, and under load the CPU sat idle (about 30 % of it in the submit
benchmark, issue 13). Here every transaction first takes an exclusive `flock` on a file
beside the database (`<database>-writer`), retried at most a millisecond apart, and lets
it go at COMMIT or ROLLBACK. SQLite's own lock and busy timeout still guard everything
(writers outside a transaction, other programs); this only queues ours.

A writer that has waited the connection's `timeout` (OPTIONS) for the file lock gets
SQLite's own error for it, "database is locked", as it did after SQLite's busy wait. In-memory
databases and systems without `flock` skip the file lock.
"""

from __future__ import annotations

import os
import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy wait alone
    fcntl = None

# Pauses between tries for a taken lock: short, as a submit holds it for milliseconds.
FIRST_PAUSE, LONGEST_PAUSE = 0.0001, 0.001


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd: int | None = None
    _writer_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._writer_lock_take()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self) -> None:
        try:
            return super()._commit()
        finally:
            self._writer_lock_release()

    def _rollback(self) -> None:
        try:
            return super()._rollback()
        finally:
            self._writer_lock_release()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._writer_lock_release()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None

    def writer_lock_path(self) -> str | None:
        """The lock file beside the database; None for an in-memory database."""
        name = str(self.settings_dict["NAME"])
        if fcntl is None or self.is_in_memory_db() or name.startswith("file:"):
            return None
        return f"{name}-writer"

    def _writer_lock_take(self) -> None:
        if self._writer_held:
            return
        if self._writer_fd is None:
            path = self.writer_lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
            else:
                self._writer_held = True
                return

    def _writer_lock_release(self) -> None:
        if self._writer_held:
            self._writer_held = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
