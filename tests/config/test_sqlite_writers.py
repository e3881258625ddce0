"""On the embedded SQLite default, transactions queue on a lock file beside the database
(config.sqlite) instead of SQLite's busy loop: a second writer goes on as soon as the first
commits or rolls back, and one that waits past its timeout gets "database is locked"."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from communities.models import Organisation
from config.sqlite.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded SQLite default"),
]


def _in_thread(work) -> threading.Thread:
    """Run `work` on its own thread, with its own connection (closed after)."""

    def run():
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _lock_is_free() -> bool:
    fd = os.open(connection.writer_lock_path(), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_the_backend_is_djangos_sqlite_with_a_lock_file_beside_the_database():
    assert isinstance(connections["default"], DatabaseWrapper) and connection.vendor == "sqlite"
    assert connection.writer_lock_path() == f"{connection.settings_dict['NAME']}-writer"


def test_a_second_writer_waits_for_the_first_to_commit_then_writes():
    first_in, events = threading.Event(), []

    def first():
        with transaction.atomic():
            Organisation.objects.create(name="First", slug="first")
            first_in.set()
            time.sleep(0.3)
            events.append(("first commits", time.monotonic()))

    def second():
        first_in.wait(5)
        with transaction.atomic():
            events.append(("second begins", time.monotonic()))
            Organisation.objects.create(name="Second", slug="second")

    threads = [_in_thread(first), _in_thread(second)]
    for thread in threads:
        thread.join(10)
    # the second began only once the first had committed, and both rows are there
    assert [name for name, _at in events] == ["first commits", "second begins"]
    assert set(Organisation.objects.values_list("slug", flat=True)) >= {"first", "second"}
    assert _lock_is_free()


def test_the_lock_is_let_go_when_a_transaction_rolls_back():
    def failing():
        with pytest.raises(ValueError), transaction.atomic():
            Organisation.objects.create(name="Gone", slug="gone")
            assert not _lock_is_free()
            raise ValueError("rolled back")

    _in_thread(failing).join(10)
    assert _lock_is_free()
    assert not Organisation.objects.filter(slug="gone").exists()


def test_a_writer_that_waits_past_its_timeout_is_told_the_database_is_locked():
    # given: another program holds the writers' lock
    fd = os.open(connection.writer_lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    outcome = []

    def writer():
        connection.settings_dict["OPTIONS"] = {
            **connection.settings_dict["OPTIONS"],
            "timeout": 0.2,
        }
        started = time.monotonic()
        try:
            with transaction.atomic():
                Organisation.objects.create(name="Late", slug="late")
        except OperationalError as error:
            outcome.append((str(error), time.monotonic() - started))

    try:
        _in_thread(writer).join(10)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    # then: it gave up after its timeout with SQLite's own error, and wrote nothing
    [(message, waited)] = outcome
    assert message == "database is locked" and 0.2 <= waited < 2
    assert not Organisation.objects.filter(slug="late").exists()
    assert _lock_is_free()


def test_an_in_memory_database_has_no_lock_file():
    memory = DatabaseWrapper({**connection.settings_dict, "NAME": ":memory:"}, alias="memory")
    assert memory.writer_lock_path() is None
