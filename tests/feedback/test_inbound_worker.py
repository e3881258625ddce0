"""Inbound mail through a real Celery worker and real mail servers: the beat's poll task
runs in a `celery worker` process, which reads a private Dovecot over IMAP; the emails
involved go out through the outbox to the aiosmtpd sink.

A worker of its own (on a queue of its own as well as the default one), so that it is
started with INBOUND_EMAIL_URL pointing at this session's Dovecot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from email.message import Message

import pytest
from django.conf import settings
from django.db import transaction

from communities.choices import Role
from communities.models import EmailSuppression
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_write
from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_address
from feedback.inbound.tasks import inbound_poll_task
from feedback.models import CaseEvent
from tests.factories.communities import OrganisationFactory, StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.inbound import reply_message
from tests.feedback import inbound_server
from tests.worker_fixtures import (
    ROOT,
    _database_url,
    _worker_stop,
    _worker_wait_ready,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

dovecot = inbound_server.dovecot
QUEUE = "chorus-inbound-test"
DOMAIN = "replies.chorus.example"


@pytest.fixture(scope="module")
def inbound_worker(django_db_setup, django_db_blocker, smtp_sink, dovecot, tmp_path_factory):
    from django.db import connection

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("worker tests need REDIS_URL and a PostgreSQL DATABASE_URL")
    _sink, port = smtp_sink
    with django_db_blocker.unblock():
        database_url = _database_url()
    log = tmp_path_factory.mktemp("inbound-worker") / "worker.log"
    env = {
        **os.environ,
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "INBOUND_EMAIL_URL": dovecot.url,
        "INBOUND_REPLY_DOMAIN": DOMAIN,
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
                f"inbound-{os.getpid()}@%h",
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


@pytest.fixture
def mailbox(dovecot, settings):
    dovecot.clear()
    settings.INBOUND_REPLY_DOMAIN = DOMAIN
    return dovecot


def _polls_done(log) -> int:
    return sum(
        "inbound_poll_task[" in line and "succeeded" in line
        for line in log.read_text(errors="replace").splitlines()
    )


def _poll(worker) -> None:
    """What the beat does every INBOUND_POLL_SECONDS: queue the poll task; here, also wait
    until the worker has run it."""
    _process, log = worker
    before = _polls_done(log)
    inbound_poll_task.apply_async(queue=QUEUE)
    assert wait_until(lambda: _polls_done(log) > before, timeout=60), log.read_text()[-3000:]


def test_customer_reply_reaches_the_case_and_the_owner_through_the_worker(
    inbound_worker, mailbox, smtp_sink
):
    # given: a case waiting on the customer, worked by an agent
    sink, _port = smtp_sink
    agent = UserFactory(email="agent-inbound@siam.example")
    case = CaseFactory(status=CaseStatus.WAITING, assignee=agent)
    StaffRoleFactory(organisation=case.organisation, user=agent, role=Role.AGENT)
    mailbox.deliver(
        reply_message(to=reply_address(case=case), body="Still waiting.", quoted="Old email")
    )
    # when: the beat's poll runs in the worker
    _poll(inbound_worker)
    # then
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.REPLY_RECEIVED)
    assert event.data["body"] == "Still waiting."
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert mailbox.flags() == [{"\\Seen"}]
    [alert] = sink.wait_for("agent-inbound@siam.example", timeout=60)
    assert f"#{case.pk}" in alert["Subject"]
    # and polling again attaches nothing twice
    _poll(inbound_worker)
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_RECEIVED).count() == 1


def _returned_headers(message: Message) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in message.items())


def test_hard_bounce_of_a_sent_email_suppresses_the_next_send_through_the_worker(
    inbound_worker, mailbox, smtp_sink
):
    # given: the worker sent an email whose mailbox turns out not to exist
    sink, _port = smtp_sink
    organisation = OrganisationFactory()
    address = "nobody-here@bounce.example"
    with transaction.atomic():
        row = outbox_write(
            idempotency_key="inbound-test:first",
            organisation=organisation,
            to_email=address,
            template="followup",
            context={},
            language="en",
            subject="What went wrong?",
            body_text="Tell us more.",
            body_html="",
            headers={},
        )
    [sent] = sink.wait_for(address, timeout=60)
    # the receiving server's report quotes the headers of what we sent
    from tests.factories.inbound import _report

    dsn = _report(
        "delivery-status",
        "Delivery failed.",
        [
            {"Reporting-MTA": "dns; mx.bounce.example"},
            {
                "Final-Recipient": f"rfc822; {address}",
                "Action": "failed",
                "Status": "5.1.1",
                "Diagnostic-Code": "smtp; 550 5.1.1 No such user",
            },
        ],
        _returned_headers(sent),
    )
    mailbox.deliver(dsn)
    # when
    _poll(inbound_worker)
    # then: the row is bounced and the address suppressed
    assert EmailSuppression.objects.filter(organisation=organisation, email=address).exists()
    row.refresh_from_db()
    assert row.status == EmailStatus.BOUNCED
    # and the next email to that address never reaches a mail server
    with transaction.atomic():
        second = outbox_write(
            idempotency_key="inbound-test:second",
            organisation=organisation,
            to_email=address,
            template="followup",
            context={},
            language="en",
            subject="One more thing",
            body_text="Hello again.",
            body_html="",
            headers={},
        )
    assert wait_until(
        lambda: OutboundEmail.objects.get(pk=second.pk).status != EmailStatus.PENDING, timeout=60
    )
    assert OutboundEmail.objects.get(pk=second.pk).status == EmailStatus.SUPPRESSED
    assert len(sink.to(address)) == 1
