"""The back office of the closed-loop journey: what sends the emails and reads the inbound
mailbox while people use the pages.

Two ways, one journey (tests/e2e/test_closed_loop_journey.py):
- "in_process": tasks run eagerly in the live server's thread (the SQLite leg and the
  PostgreSQL leg both run it); the inbound mailbox is read by `manage.py inbound_poll`,
  as cron would run it.
- "worker": a real `celery worker` over Redis and the test PostgreSQL database sends
  every email and runs the beat's poll task; marked `worker`, so it runs in CI's
  PostgreSQL leg only.

Either way the emails go over SMTP to the session's aiosmtpd sink and the mailbox is a
real Dovecot reached over IMAP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.worker_fixtures import ROOT, _database_url, _worker_stop, _worker_wait_ready, wait_until

REPLY_DOMAIN = "replies.chorus.example"
# A queue of the journey worker's own for the poll task: another worker the session may
# run (tests/worker_fixtures.celery_worker_process) does not know this session's Dovecot.
QUEUE = "chorus-journey-test"


@dataclass
class BackOffice:
    kind: str
    poll: Callable[[], None]
    email_timeout: float


def _polls_done(log: Path) -> int:
    return sum(
        "inbound_poll_task[" in line and "succeeded" in line
        for line in log.read_text(errors="replace").splitlines()
    )


@pytest.fixture(scope="module")
def journey_worker(django_db_setup, django_db_blocker, smtp_sink, dovecot, tmp_path_factory):
    """`celery worker` on the default queue and QUEUE, with the session's SMTP sink and
    Dovecot as its mail servers."""
    from django.db import connection

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("worker tests need REDIS_URL and a PostgreSQL DATABASE_URL")
    _sink, port = smtp_sink
    with django_db_blocker.unblock():
        database_url = _database_url()
    log = tmp_path_factory.mktemp("journey-worker") / "worker.log"
    env = {
        **os.environ,
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "INBOUND_EMAIL_URL": dovecot.url,
        "INBOUND_REPLY_DOMAIN": REPLY_DOMAIN,
    }
    with open(log, "ab") as out:
        process = subprocess.Popen(
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
                f"{QUEUE},{settings.CELERY_TASK_DEFAULT_QUEUE}",
                "-l",
                "info",
                "-n",
                f"journey-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _worker_wait_ready(process, log)
        yield process, log
    finally:
        _worker_stop(process)


@pytest.fixture(params=["in_process", pytest.param("worker", marks=pytest.mark.worker)])
def back_office(request, settings, dovecot) -> Iterator[BackOffice]:
    """The mailbox emptied and configured, replies addressed to REPLY_DOMAIN, and the way
    this run's inbound poll happens."""
    dovecot.clear()
    settings.INBOUND_EMAIL_URL = dovecot.url
    settings.INBOUND_REPLY_DOMAIN = REPLY_DOMAIN
    if request.param == "in_process":
        yield BackOffice(
            kind="in_process", poll=lambda: call_command("inbound_poll"), email_timeout=10
        )
        return
    _process, log = request.getfixturevalue("journey_worker")

    def poll() -> None:
        """What the beat does every INBOUND_POLL_SECONDS; here, also wait for the worker."""
        from feedback.inbound.tasks import inbound_poll_task

        before = _polls_done(log)
        inbound_poll_task.apply_async(queue=QUEUE)
        assert wait_until(lambda: _polls_done(log) > before, timeout=60), log.read_text()[-3000:]

    yield BackOffice(kind="worker", poll=poll, email_timeout=60)
