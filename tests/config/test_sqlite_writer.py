"""On SQLite, a transaction waits for its writer's turn (config.sqlite), not in SQLite's sleeps.

The turn is an flock on `<database>-writer`, held from BEGIN to COMMIT or ROLLBACK. These
check what it promises: held for exactly a transaction's span, handed to a waiting writer
as soon as it is given back, never kept by a transaction that failed to begin or end, given
up with SQLite's own "database is locked" after the connection's timeout, and taken afresh
by a forked process.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from communities.models import Organisation
from config.sqlite import base as sqlite_backend
from config.sqlite.base import DatabaseCreation, WriterTurn, writer_lock_path
from tests.factories.communities import OrganisationFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writer turn"),
]


def turn_free() -> bool:
    """Whether another writer could take the turn now (tried on a descriptor of its own)."""
    fd = os.open(writer_lock_path(connection.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@contextmanager
def another_writer_has_the_turn() -> Iterator[None]:
    """Another writer (a descriptor of its own on the lock file) holds the turn."""
    other = os.open(writer_lock_path(connection.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(other)


def test_a_transaction_holds_the_turn_from_begin_to_commit():
    connection.ensure_connection()
    assert turn_free()
    with transaction.atomic():
        OrganisationFactory()
        assert not turn_free()
        with transaction.atomic():  # a savepoint: still the same turn
            assert not turn_free()
        assert not turn_free()
    assert turn_free()


def test_a_transaction_takes_the_turn_at_its_first_statement():
    connection.ensure_connection()
    with transaction.atomic():
        # What builds the block's first statement runs while others may write…
        assert turn_free()
        assert not connection.connection.in_transaction
        OrganisationFactory()
        # …which begins the transaction, in the turn.
        assert not turn_free()
        assert connection.connection.in_transaction
    assert turn_free()


def test_the_begin_is_counted_before_the_statement_that_runs_it():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        OrganisationFactory()
    statements = [q["sql"] for q in captured.captured_queries]
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[1].startswith('INSERT INTO "communities_organisation"')


def test_a_block_whose_begin_failed_runs_no_statement_outside_a_transaction():
    connection.ensure_connection()
    connection.writer_turn.timeout = 0.05
    with transaction.atomic():
        with another_writer_has_the_turn(), pytest.raises(OperationalError, match="locked"):
            OrganisationFactory(name="never")
        assert not connection.connection.in_transaction
        # The block caught the error and goes on: Django refuses its next statement.
        with pytest.raises(TransactionManagementError):
            OrganisationFactory(name="nor this")
    assert not Organisation.objects.exists()
    assert turn_free()
    # The next block begins as usual.
    with transaction.atomic():
        OrganisationFactory(name="after")
    assert list(Organisation.objects.values_list("name", flat=True)) == ["after"]


def test_a_connection_checkpoints_after_giving_its_turn_back(monkeypatch):
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_EVERY", 3)
    connection.ensure_connection()
    # SQLite's own checkpoint would run inside a COMMIT, in the turn: off.
    assert connection.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    checkpoints: list[bool] = []

    def traced(sql: str) -> None:
        if sql.startswith("PRAGMA wal_checkpoint"):
            checkpoints.append(turn_free())

    connection.connection.set_trace_callback(traced)
    try:
        for name in ("one", "two", "three", "four"):
            with transaction.atomic():
                OrganisationFactory(name=name)
    finally:
        connection.connection.set_trace_callback(None)
    # The third write checkpointed, with the turn already given back.
    assert checkpoints == [True]
    assert Organisation.objects.count() == 4


def test_a_rolled_back_transaction_gives_the_turn_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        OrganisationFactory()
        assert not turn_free()
        raise RuntimeError
    assert turn_free()
    assert not Organisation.objects.exists()


def test_a_waiting_writer_writes_as_soon_as_the_turn_is_given_back():
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                OrganisationFactory(name="first")
                holding.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            holding.wait(10)
            with transaction.atomic():
                OrganisationFactory(name="second")
            done.set()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert holding.wait(10)
    # The second writer cannot have written while the first holds the turn…
    assert not done.wait(0.2)
    release.set()
    # …and writes once it is given back.
    assert done.wait(10)
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert set(Organisation.objects.values_list("name", flat=True)) == {"first", "second"}


def test_a_writer_gives_up_after_the_timeout_as_sqlite_would():
    connection.ensure_connection()
    connection.writer_turn.timeout = 0.05
    with another_writer_has_the_turn():
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            OrganisationFactory()
        assert not connection.writer_turn.held
        assert not connection.in_atomic_block
    # Nothing was written, and the next transaction goes ahead.
    assert not Organisation.objects.exists()
    with transaction.atomic():
        OrganisationFactory()
    assert Organisation.objects.count() == 1


def test_a_transaction_that_fails_to_begin_gives_the_turn_back():
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 50")
    # Another program holds SQLite's own write lock, without taking the turn.
    outsider = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            OrganisationFactory()
        assert not connection.writer_turn.held
        assert turn_free()
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
        connection.close()


def test_a_forked_process_opens_the_lock_file_again(tmp_path, monkeypatch):
    parent = WriterTurn(str(tmp_path / "db.sqlite3-writer"), timeout=0.05)
    parent.take()
    # In a child the inherited descriptor would share the parent's turn; the turn sees
    # the process changed, opens the file again, and so has to wait like anyone else.
    inherited, child = parent._fd, os.getpid() + 1
    monkeypatch.setattr(os, "getpid", lambda: child)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        parent.take()
    parent.close()
    monkeypatch.undo()
    os.close(inherited)


def test_destroying_a_test_database_removes_its_lock_file(tmp_path):
    database = tmp_path / "test.sqlite3"
    database.write_bytes(b"")
    lock = tmp_path / "test.sqlite3-writer"
    lock.write_bytes(b"")
    DatabaseCreation(connection)._destroy_test_db(str(database), verbosity=0)
    assert not database.exists()
    assert not lock.exists()


def test_an_in_memory_database_takes_no_turn():
    settings = {**connection.settings_dict, "NAME": ":memory:"}
    memory = type(connections["default"])(settings, alias="memory")
    try:
        memory.ensure_connection()
        assert memory.writer_turn is None
        memory._start_transaction_under_autocommit()
        memory._commit()
    finally:
        memory.close()


def test_a_write_outside_a_transaction_takes_the_turn_for_its_statement():
    organisation = OrganisationFactory(name="before")
    connection.writer_turn.timeout = 0.05
    with another_writer_has_the_turn():
        # Reads go ahead while another writer has the turn…
        assert Organisation.objects.get(pk=organisation.pk).name == "before"
        # …a lone write waits for it, and gives up as SQLite would.
        with pytest.raises(OperationalError, match="database is locked"):
            Organisation.objects.filter(pk=organisation.pk).update(name="during")
        assert not connection.writer_turn.held
    Organisation.objects.filter(pk=organisation.pk).update(name="after")
    assert Organisation.objects.get(pk=organisation.pk).name == "after"
    assert turn_free()


def test_a_writer_in_another_thread_gives_up_after_the_timeout_too():
    # Threads cannot borrow SIGALRM: they wait by trying again, and give up the same way.
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            connection.ensure_connection()
            connection.writer_turn.timeout = 0.05
            with transaction.atomic():
                OrganisationFactory()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)
        finally:
            connection.close()

    with another_writer_has_the_turn():
        thread = threading.Thread(target=write)
        thread.start()
        thread.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], OperationalError)
    assert "database is locked" in str(outcome[0])
    assert not Organisation.objects.exists()


def test_a_writer_in_the_main_thread_leaves_no_alarm_behind():
    import signal

    connection.ensure_connection()
    connection.writer_turn.timeout = 0.05
    with (
        another_writer_has_the_turn(),
        pytest.raises(OperationalError, match="database is locked"),
        transaction.atomic(),
    ):
        OrganisationFactory()
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    # Woken as soon as the turn is given: a writer waiting in the kernel writes.
    holder = os.open(writer_lock_path(connection.settings_dict["NAME"]), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    connection.writer_turn.timeout = 10
    timer = threading.Timer(0.1, os.close, args=(holder,))
    timer.start()
    with transaction.atomic():
        OrganisationFactory()
    timer.join()
    assert Organisation.objects.count() == 1
