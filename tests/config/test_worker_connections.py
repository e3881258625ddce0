"""A Celery worker keeps its database connection between tasks, as a web process keeps it
between requests (config.celery.worker_connections_renew): renewed only once CONN_MAX_AGE
has passed or after an error left it unusable. Celery's own Django fixup closed it around
every task, so each task opened a new PostgreSQL connection (a new server process).

The worker tests start a worker of their own, on a queue of its own, whose connection
names itself (application_name), and watch that connection from pg_stat_activity while
it analyses responses one by one.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection, transaction

from config.celery import worker_connections_renew
from feedback.tasks import response_analyse_task
from surveys.models import Response
from tests.factories.surveys import ResponseFactory
from tests.worker_fixtures import (
    _database_url,
    _worker_start,
    _worker_stop,
    _worker_wait_ready,
    wait_until,
)

QUEUE = "test-worker-connections"


def _backends(name: str) -> list[tuple[int, object]]:
    """(pid, backend_start) of every connection that names itself `name`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s",
            [name],
        )
        return sorted(cursor.fetchall())


def _analysed(response: Response) -> bool:
    return Response.objects.filter(pk=response.pk, analysed_at__isnull=False).exists()


@pytest.fixture
def own_worker(celery_worker_process, tmp_path):
    """Start a worker on QUEUE with the given CONN_MAX_AGE; returns its connection's name.
    Needs the session's worker fixture for its checks (PostgreSQL and Redis)."""
    started = []

    def start(conn_max_age: int) -> str:
        name = f"chorus-test-{os.getpid()}-{conn_max_age}"
        env = {
            "DATABASE_URL": f"{_database_url()}?application_name={name}",
            "CONN_MAX_AGE": str(conn_max_age),
        }
        log = tmp_path / f"worker-{conn_max_age}.log"
        process = _worker_start(env=env, log=log, name=f"{name}@%h", queue=QUEUE)
        started.append(process)
        _worker_wait_ready(process, log)
        return name

    yield start
    for process in started:
        _worker_stop(process)


def _analyse_one_by_one(count: int, name: str, *, open_after: int) -> list[list[tuple]]:
    """Have the worker analyse `count` new responses, one after another; the worker's
    connections after each, once `open_after` of them are open (the task's postrun comes
    just after its commit)."""
    seen = []
    for _ in range(count):
        response = ResponseFactory(analysed_at=None)
        response_analyse_task.apply_async(kwargs={"response_id": response.pk}, queue=QUEUE)
        assert wait_until(lambda r=response: _analysed(r), timeout=60)
        wait_until(lambda: len(_backends(name)) == open_after, timeout=10)
        seen.append(_backends(name))
    return seen


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_answers_task_after_task_on_one_connection(own_worker):
    # given a worker whose connections may live a minute, as a web process's do
    name = own_worker(60)
    # when it analyses three responses, one after another
    seen = _analyse_one_by_one(3, name, open_after=1)
    # then one connection, the same server process, served all three
    assert len(seen[0]) == 1, seen
    assert seen == [seen[0]] * 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_conn_max_age_0_a_worker_closes_its_connection_after_each_task(own_worker):
    # given a worker told to keep no connection
    name = own_worker(0)
    # when it analyses two responses
    seen = _analyse_one_by_one(2, name, open_after=0)
    # then no connection of its stays open after either
    assert seen == [[], []]


@pytest.mark.django_db(transaction=True)
def test_a_task_run_eagerly_leaves_its_callers_connection_and_transaction_alone():
    # given a caller in a transaction (a web request), with a response written in it
    with transaction.atomic():
        response = ResponseFactory(analysed_at=None)
        before = connection.connection
        # when a task runs eagerly inside it (its prerun and postrun signals fire)
        response_analyse_task.apply(kwargs={"response_id": response.pk})
        # then the caller's connection and transaction are as they were: the task's work
        # is in the same transaction, and the response still there to read
        assert connection.connection is before
        assert connection.in_atomic_block
        assert _analysed(response)


class _Task:
    """What a task's signals carry as their sender: the task, with its request."""

    def __init__(self, *, is_eager: bool) -> None:
        self.request = type("Request", (), {"is_eager": is_eager})()


@pytest.mark.django_db(transaction=True)
def test_a_connection_older_than_conn_max_age_is_renewed_around_a_task(settings):
    # given a worker's open connection, past its CONN_MAX_AGE
    connection.ensure_connection()
    old = connection.connection
    connection.close_at = 0
    # when a task (not eager) starts
    worker_connections_renew(sender=_Task(is_eager=False))
    # then the connection was closed; the task's first query opens a new one
    assert connection.connection is None
    assert Response.objects.count() == 0
    assert connection.connection is not old


@pytest.mark.django_db(transaction=True)
def test_a_young_connection_is_kept_around_a_task():
    connection.ensure_connection()
    kept = connection.connection
    connection.close_at = None  # CONN_MAX_AGE None: kept for ever
    worker_connections_renew(sender=_Task(is_eager=False))
    assert connection.connection is kept
