"""A worker SIGKILLed in the middle of a burst loses no email: its claimed rows are taken
over by the sweep once the worker is gone, and an email is sent twice only when the kill
fell between the SMTP server's accept and the row's update.

A real `celery worker` process on a Redis of the test's own, the test PostgreSQL database
and a real SMTP server (aiosmtpd) on loopback. PostgreSQL + Redis leg of CI.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_enqueue, outbox_redrive
from tests.worker_fixtures import (
    WorkerProcess,
    _database_url,
    _free_port,
    _worker_start,
    _worker_wait_ready,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BURST = 300


class CountingServer:
    """Accepts every message, a little slowly (as a real relay is), and keeps its
    Message-ID and the connection it came over."""

    def __init__(self) -> None:
        self.accepted: list[tuple[tuple, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        await asyncio.sleep(0.004)
        text = envelope.content.decode()
        message_id = next(
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.lower().startswith("message-id:")
        )
        with self._lock:
            self.accepted.append((session.peer, message_id))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def message_ids(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(mid for _peer, mid in self.accepted)


@pytest.fixture
def relay():
    handler = CountingServer()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def sending_workers(own_broker, relay, tmp_path):
    """Start workers that send to the relay, one per call; each stopped by its PID."""
    _handler, port = relay
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": own_broker.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "OUTBOX_BATCH_SIZE": "50",
        }
        name = f"outbox-{os.getpid()}-{len(started)}@%h"
        worker = WorkerProcess(_worker_start(env=env, log=log, name=name), log)
        started.append(worker)
        _worker_wait_ready(worker.process, log)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.kill()


def test_a_worker_killed_mid_burst_loses_nothing_and_repeats_at_most_the_one_in_flight(
    organisation, relay, sending_workers
):
    handler, _port = relay
    worker = sending_workers()
    # given: a burst of follow-ups written in one transaction, each with its send task
    with transaction.atomic():
        for n in range(BURST):
            outbox_enqueue(
                organisation=organisation,
                to_email=f"person{n}@example.com",
                template="followup",
                context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
                language="en",
                idempotency_key=f"burst:{n}",
                new_key=True,
            )
    # when: the worker is SIGKILLed while the burst is going out
    assert wait_until(lambda: handler.count() >= BURST // 3, timeout=60)
    worker.kill()
    at_kill = handler.count()
    claimed = set(
        OutboundEmail.objects.filter(status=EmailStatus.SENDING).values_list(
            "message_id", flat=True
        )
    )
    assert 0 < at_kill < BURST, "the kill must fall inside the burst"
    # and a new worker starts; the sweep takes over the dead worker's claims (it is gone,
    # so its claims are abandoned however young)
    sending_workers()
    assert wait_until(
        lambda: not OutboundEmail.objects.filter(status=EmailStatus.PENDING).exists(), timeout=90
    )
    outbox_redrive(older_than=timedelta(0), stale_after=timedelta(0))
    # then: every row is sent, and every email reached the server
    assert wait_until(
        lambda: OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == BURST, timeout=90
    )
    ids = handler.message_ids()
    rows = set(OutboundEmail.objects.values_list("message_id", flat=True))
    assert set(ids) == rows, "lost: " + ", ".join(sorted(rows - set(ids)))
    # and only a message accepted while its row still said "sending" came twice: the solo
    # worker had at most one message between the server's accept and the row's update
    twice = {mid for mid, n in ids.items() if n > 1}
    assert len(twice) <= 1 and twice <= claimed
    assert max(ids.values()) <= 2
