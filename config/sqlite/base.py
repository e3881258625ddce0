"""Django's SQLite backend, with writers waiting their turn on a lock the kernel hands on.

SQLite lets one connection write at a time. Chorus takes that lock at BEGIN (IMMEDIATE, see
config/settings.py), and a connection that finds it taken waits in SQLite's busy handler,
which sleeps 1 ms, then 2, 5, 10… between tries, however soon the lock is free: an answer
holds it for under half a millisecond. With two gunicorn workers, half the machine's CPU
sat idle in those sleeps under load (`make bench-submit`'s kiosk figure on SQLite).

So a transaction first takes its writer's turn: an exclusive `flock` on
`<database>-writer`, held from BEGIN until COMMIT or ROLLBACK, the same span as SQLite's
own lock, which still does the guarding. A writer waiting for its turn sleeps in the kernel
until it is given (a worker's main thread: SIGALRM stands in for the timeout flock lacks),
or, in other threads, tries again after 10 µs, then 20, 40… up to 200 µs; either way it
gives up as SQLite would, with "database is locked", once the connection's `timeout` has
passed. The kernel drops a dead process's turn with its file, so a crashed worker never
leaves the others waiting.

The transaction atomic() asks for begins (BEGIN IMMEDIATE, with the turn) at the block's
first statement, so the Python that builds it runs while another writer has the turn.
SQLite's own checkpoint, which copies the write-ahead log into the database, runs inside the
COMMIT that crosses its threshold (1,000 pages), in the turn, and with an fsync: off
(`wal_autocheckpoint = 0`); instead each connection checkpoints every CHECKPOINT_EVERY
writes, once it has given its turn back.

A write outside a transaction (autocommit: a follow-up email's claim and sent mark, after
its answer's COMMIT) takes the turn for its one statement; reads never take it. The lock
file is a file of its own, never the database: closing any descriptor of the database would
drop SQLite's own (POSIX) locks on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time

from django.db.backends.sqlite3 import base, creation

FIRST_PAUSE = 10e-6
LONGEST_PAUSE = 200e-6
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC"})
# A connection's writes between its checkpoints: SQLite's own default, 1,000 pages, is
# about a hundred answers.
CHECKPOINT_EVERY = 100


def writer_lock_path(database: str | os.PathLike) -> str:
    """The lock file beside a database file."""
    return f"{os.fspath(database)}-writer"


class _TimeUp(Exception):
    pass


def _time_up(signum, frame) -> None:
    raise _TimeUp


def _alarm_free() -> bool:
    """Whether this thread may borrow SIGALRM: the main thread, with no handler and no
    timer of anyone else's."""
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


class WriterTurn:
    """One connection's turn to write: an exclusive flock on the database's lock file."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.held = False
        self._fd: int | None = None
        self._pid: int | None = None

    def take(self) -> None:
        """Wait for the turn; OperationalError ("database is locked") after `timeout`."""
        fd = self._descriptor()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if _alarm_free():
                self._wait_woken(fd)
            else:
                self._wait_polling(fd)
        self.held = True

    def _wait_woken(self, fd: int) -> None:
        """Sleep in the kernel until the turn is given (a gunicorn worker's main thread),
        an alarm standing in for the timeout flock does not have."""
        previous = signal.signal(signal.SIGALRM, _time_up)
        try:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _TimeUp:
            # The turn may have come just as the time ran out.
            fcntl.flock(fd, fcntl.LOCK_UN)
            raise base.Database.OperationalError("database is locked") from None
        finally:
            signal.signal(signal.SIGALRM, previous)

    def _wait_polling(self, fd: int) -> None:
        """Try again after 10 µs, 20, 40… up to 200 µs: any thread, no signal needed."""
        pause, deadline = FIRST_PAUSE, time.monotonic() + self.timeout
        while True:
            time.sleep(pause)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise base.Database.OperationalError("database is locked") from None
                pause = min(pause * 2, LONGEST_PAUSE)
            else:
                return

    def give(self) -> None:
        if self.held:
            self.held = False
            # Never the parent's turn from a forked child: the descriptor is shared.
            if self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give()
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = self._pid = None

    def _descriptor(self) -> int:
        # A process forked with a connection open shares its parent's descriptor, and with
        # it the parent's turn: the child opens the file again.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
            self.held = False
        return self._fd


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(writer_lock_path(test_database_name))


class TurnCursor(base.SQLiteCursorWrapper):
    """Begins its connection's pending transaction before the first statement in it, and
    takes the writer's turn for a write made outside a transaction."""

    db: DatabaseWrapper | None = None

    def execute(self, query, params=None):
        return self._in_turn(query, super().execute, query, params)

    def executemany(self, query, param_list):
        return self._in_turn(query, super().executemany, query, param_list)

    def _in_turn(self, query: str, run, *args):
        db = self.db
        if db is not None and db.begin_pending:
            db.begin_now()
        elif db is not None and self._alone_writing(db.writer_turn, query):
            return db.in_turn_alone(run, *args)
        return run(*args)

    def _alone_writing(self, turn: WriterTurn | None, query: str) -> bool:
        return (
            turn is not None
            and not turn.held
            and not self.connection.in_transaction
            and query.lstrip()[:6].upper() in WRITES
        )


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.writer_turn: WriterTurn | None = None
        # atomic() has asked for a transaction that its first statement begins.
        self.begin_pending = False
        self._commits = 0

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if self.writer_turn is not None:
            self.writer_turn.close()
        # Made again for each connection: tests switch NAME to the test database.
        self.writer_turn = None
        if not self.is_in_memory_db():
            self.writer_turn = WriterTurn(
                writer_lock_path(self.settings_dict["NAME"]), conn_params.get("timeout", 5.0)
            )
            # This connection checkpoints after giving its turn back (checkpoint_due), not
            # inside the COMMIT that crosses SQLite's threshold, which holds the turn.
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.begin_pending = False
        self._commits = 0
        return conn

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=TurnCursor)
        cursor.db = self
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        if self.writer_turn is None:
            super()._start_transaction_under_autocommit()
        else:
            # Begun, and the turn taken, by the block's first statement (begin_now): the
            # Python that builds it runs while another writer has the turn.
            self.begin_pending = True

    def begin_now(self) -> None:
        """Take the turn and BEGIN the transaction atomic() asked for. Still pending if
        that fails, so no statement of the block ever runs outside a transaction."""
        sql = f"BEGIN {self.transaction_mode}" if self.transaction_mode else "BEGIN"
        start = time.monotonic()
        self.writer_turn.take()
        try:
            self.connection.execute(sql)
        finally:
            self._turn_end()
        self.begin_pending = False
        if self.queries_logged:
            # Logged where Django logged the BEGIN it ran at once: counts stay honest.
            self.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})

    def in_turn_alone(self, run, *args):
        """A write outside a transaction, run in the turn."""
        self.writer_turn.take()
        try:
            return run(*args)
        finally:
            self.writer_turn.give()
            self.checkpoint_due()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._end()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._end()

    def _end(self) -> None:
        self.begin_pending = False
        held = self.writer_turn is not None and self.writer_turn.held
        self._turn_end()
        if held:
            self.checkpoint_due()

    def checkpoint_due(self) -> None:
        """Every CHECKPOINT_EVERY writes of this connection, copy the write-ahead log
        into the database (PASSIVE: it waits for nobody), with the turn given back."""
        if self.writer_turn is None or self.writer_turn.held:
            return
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY:
            self._commits = 0
            # Busy (another checkpoint running) is not an error: the next one catches up.
            with contextlib.suppress(base.Database.OperationalError):
                self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _close(self):
        try:
            return super()._close()
        finally:
            self.begin_pending = False
            if self.writer_turn is not None:
                self.writer_turn.close()
                self.writer_turn = None

    def _turn_end(self) -> None:
        """Give the turn back once no transaction is open (a failed COMMIT leaves one)."""
        turn, open_ = self.writer_turn, self.connection
        if turn is not None and turn.held and not (open_ is not None and open_.in_transaction):
            turn.give()
