"""The outbox sends bursts in batches over one SMTP connection, marks each row sent as the
server accepts it, never sends to a suppressed address, and takes over a dead sender's rows
only after the configured stale time. Sent through a real SMTP server (aiosmtpd) on loopback.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from communities.models import EmailSuppression
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.sending import outbox_claim, outbox_drain, outbox_send
from communities.outbox.services import outbox_enqueue, outbox_redrive
from tests.factories.communities import OutboundEmailFactory
from tests.worker_fixtures import _free_port

pytestmark = pytest.mark.django_db


class Server:
    """A real SMTP server that remembers each accepted message with the connection it came
    over, and answers chosen recipients with a refusal or a temporary failure."""

    def __init__(self) -> None:
        self.accepted: list[tuple[tuple, str, str]] = []
        self.refuse: set[str] = set()
        self.fail_data: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        if set(envelope.rcpt_tos) & self.fail_data:
            return "451 4.3.0 Try again later"
        text = envelope.content.decode()
        message_id = next(
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.lower().startswith("message-id:")
        )
        with self._lock:
            self.accepted.append((session.peer, envelope.rcpt_tos[0], message_id))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [to for _peer, to, _mid in self.accepted]

    def connections(self) -> int:
        return len({peer for peer, _to, _mid in self.accepted})


@pytest.fixture
def server(settings):
    handler = Server()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


def waiting(count: int, **kwargs) -> list[OutboundEmail]:
    """`count` rows waiting to be sent, oldest first, a second apart."""
    start = timezone.now() - timedelta(minutes=1)
    return [
        OutboundEmailFactory(created_at=start + timedelta(seconds=n), **kwargs)
        for n in range(count)
    ]


def status_of(email: OutboundEmail) -> str:
    email.refresh_from_db()
    return email.status


def test_a_burst_drains_in_batches_over_one_connection_each(server, settings):
    # given: a burst of 7 rows and batches of 3
    settings.OUTBOX_BATCH_SIZE = 3
    rows = waiting(7)
    # when: the send task of the newest row runs
    batch = outbox_drain(email_id=rows[-1].pk)
    # then: its own row first, then the two oldest waiting, over one connection
    assert batch.sent == [rows[-1].pk, rows[0].pk, rows[1].pk]
    assert server.recipients() == [rows[-1].to_email, rows[0].to_email, rows[1].to_email]
    assert server.connections() == 1
    # when: the tasks of the rows already sent run
    outbox_drain(email_id=rows[0].pk)
    outbox_drain(email_id=rows[1].pk)
    # then: each still finds work, and nothing is sent twice
    assert sorted(server.recipients()) == sorted(r.to_email for r in rows)
    assert server.connections() == 3
    assert OutboundEmail.objects.exclude(status=EmailStatus.SENT).count() == 0


def test_each_row_is_marked_sent_with_its_message_id_as_the_server_accepts_it(server):
    # given: a new row, and one written before rows stored their Message-ID
    new, old = waiting(2)
    OutboundEmail.objects.filter(pk=old.pk).update(message_id="")
    # when
    outbox_drain(email_id=new.pk)
    # then: the server got each row's Message-ID, now stored on the row
    new.refresh_from_db()
    old.refresh_from_db()
    assert {mid for _p, _to, mid in server.accepted} == {new.message_id, old.message_id}
    assert new.message_id.startswith("<outbox.") and new.message_id.endswith("@chorus.localhost>")
    assert old.message_id == f"<outbox-{old.pk}.{old.idempotency_key}@chorus>"
    assert new.status == old.status == EmailStatus.SENT and new.sent_at and old.sent_at


def test_every_row_gets_a_message_id_of_its_own(organisation):
    kwargs = dict(
        organisation=organisation,
        to_email="ana@example.com",
        template="followup",
        context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
        language="en",
    )
    first = outbox_enqueue(idempotency_key="k:1", enqueue=False, **kwargs)
    second = outbox_enqueue(idempotency_key="k:2", enqueue=False, **kwargs)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.message_id and second.message_id and first.message_id != second.message_id


def test_a_batch_leaves_rows_held_by_another_sender_failed_before_or_not_yet_due(server):
    # given: one row per case a batch must not take
    held, retrying, later, sent, free = waiting(5)
    OutboundEmail.objects.filter(pk=held.pk).update(
        status=EmailStatus.SENDING, claimed_at=timezone.now()
    )
    OutboundEmail.objects.filter(pk=retrying.pk).update(attempts=1, last_error="451")
    OutboundEmail.objects.filter(pk=later.pk).update(send_after=timezone.now() + timedelta(hours=1))
    OutboundEmail.objects.filter(pk=sent.pk).update(status=EmailStatus.SENT, sent_at=timezone.now())
    # when
    batch = outbox_drain()
    # then: only the free row is sent
    assert batch.sent == [free.pk]
    assert server.recipients() == [free.to_email]
    assert status_of(held) == EmailStatus.SENDING
    assert status_of(retrying) == status_of(later) == EmailStatus.PENDING


def test_two_claims_never_take_the_same_row():
    rows = waiting(6)
    first = outbox_claim(more=4)
    second = outbox_claim(more=4)
    assert len(first) == 4 and len(second) == 2
    assert {r.pk for r in first}.isdisjoint({r.pk for r in second})
    assert {r.pk for r in first} | {r.pk for r in second} == {r.pk for r in rows}


def test_an_address_suppressed_after_its_email_was_written_gets_nothing(server, organisation):
    # given: two emails written, then one address unsubscribes before they go out
    kept, dropped = waiting(2, organisation=organisation)
    EmailSuppression.objects.create(organisation=organisation, email=dropped.to_email.upper())
    # when
    batch = outbox_drain(email_id=dropped.pk)
    # then: the suppressed address is skipped and marked; the other is sent
    assert batch.suppressed == [dropped.pk] and batch.sent == [kept.pk]
    assert server.recipients() == [kept.to_email]
    assert status_of(dropped) == EmailStatus.SUPPRESSED
    # and a later send of the same row does nothing
    assert outbox_send(email_id=dropped.pk) is False
    assert server.recipients() == [kept.to_email]


def test_a_suppression_in_another_organisation_does_not_stop_the_email(server, organisation):
    email = OutboundEmailFactory(organisation=organisation)
    other = OutboundEmailFactory().organisation
    EmailSuppression.objects.create(organisation=other, email=email.to_email)
    assert outbox_send(email_id=email.pk) is True
    assert server.recipients() == [email.to_email]


def test_a_refused_recipient_fails_its_row_and_the_batch_goes_on(server):
    first, refused, last = waiting(3)
    server.refuse = {refused.to_email}
    batch = outbox_drain()
    assert batch.sent == [first.pk, last.pk] and batch.failed == [refused.pk]
    refused.refresh_from_db()
    assert refused.status == EmailStatus.PENDING and refused.attempts == 1
    assert "SMTPRecipientsRefused" in refused.last_error


def test_a_temporary_failure_ends_the_batch_and_hands_the_untried_rows_back(server):
    # given: the server fails the second message
    first, failing, untried, also_untried = waiting(4)
    server.fail_data = {failing.to_email}
    # when
    batch = outbox_drain()
    # then: the first is sent, the second recorded for retry, the rest back as if untouched
    assert batch.sent == [first.pk] and batch.failed == [failing.pk]
    assert batch.released == [untried.pk, also_untried.pk]
    failing.refresh_from_db()
    assert failing.status == EmailStatus.PENDING and failing.attempts == 1
    for row in (untried, also_untried):
        row.refresh_from_db()
        assert (row.status, row.attempts, row.claimed_at) == (EmailStatus.PENDING, 0, None)
    # and the next batch takes the untried rows, not the failed one
    assert outbox_drain().sent == [untried.pk, also_untried.pk]


def test_the_single_send_raises_the_servers_error_for_its_task_to_retry(server):
    email = OutboundEmailFactory()
    server.fail_data = {email.to_email}
    with pytest.raises(Exception, match="Try again later"):
        outbox_send(email_id=email.pk)
    assert status_of(email) == EmailStatus.PENDING


def test_a_claim_is_taken_over_only_once_older_than_the_stale_time_setting(server, settings):
    # given: the stale time is 90 s; one claim 100 s old (its worker died), one 60 s old
    settings.OUTBOX_SENDING_STALE_SECONDS = 90
    now = timezone.now()
    dead = OutboundEmailFactory(
        created_at=now - timedelta(minutes=5),
        status=EmailStatus.SENDING,
        claimed_at=now - timedelta(seconds=100),
        attempts=1,
    )
    alive = OutboundEmailFactory(
        created_at=now - timedelta(minutes=5),
        status=EmailStatus.SENDING,
        claimed_at=now - timedelta(seconds=60),
        attempts=1,
    )
    # when: the sweep runs (its tasks run eagerly here)
    assert outbox_redrive() == 1
    # then: only the dead sender's row is sent again
    assert server.recipients() == [dead.to_email]
    assert status_of(dead) == EmailStatus.SENT
    assert status_of(alive) == EmailStatus.SENDING
    # when: the stale time is shortened, the same claim counts as abandoned
    settings.OUTBOX_SENDING_STALE_SECONDS = 30
    assert outbox_redrive() == 1
    assert status_of(alive) == EmailStatus.SENT


def test_the_sweep_sends_rows_the_broker_never_got_after_the_redrive_setting(server, settings):
    settings.CHORUS = {**settings.CHORUS, "OUTBOX_REDRIVE_AFTER_SECONDS": 120}
    now = timezone.now()
    lost = OutboundEmailFactory(created_at=now - timedelta(seconds=150))
    recent = OutboundEmailFactory(created_at=now - timedelta(seconds=60))
    delayed = OutboundEmailFactory(
        created_at=now - timedelta(seconds=150), send_after=now + timedelta(minutes=5)
    )
    assert outbox_redrive() == 1
    assert server.recipients() == [lost.to_email]
    assert status_of(recent) == status_of(delayed) == EmailStatus.PENDING


def test_a_delayed_email_is_queued_with_its_delay_and_not_sent_before_it(
    organisation, django_capture_on_commit_callbacks, server
):
    from unittest import mock

    from communities.outbox.tasks import outbox_send_task

    # when: a follow-up is written to go out in ten minutes
    with (
        mock.patch.object(outbox_send_task, "apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        email = outbox_enqueue(
            organisation=organisation,
            to_email="ana@example.com",
            template="followup",
            context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
            language="en",
            idempotency_key="followup:delayed",
            send_after=timezone.now() + timedelta(minutes=10),
        )
    # then: its task is published with the delay (the broker is the edge we stand in for)
    assert 595 <= publish.call_args.kwargs["countdown"] <= 600
    # and a send before its time does nothing
    assert outbox_send(email_id=email.pk) is False
    assert server.accepted == []


def test_the_sweep_runs_on_the_configured_interval(settings):
    from config import settings_outbox

    entry = settings.CELERY_BEAT_SCHEDULE["outbox-redrive"]
    assert entry["task"] == "communities.outbox.tasks.outbox_redrive_task"
    assert entry["schedule"] == settings_outbox.OUTBOX_SWEEP_SECONDS
    assert settings.OUTBOX_SWEEP_SECONDS == settings_outbox.OUTBOX_SWEEP_SECONDS


def test_a_stale_time_too_short_for_an_smtp_conversation_stops_start_up(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from config import settings_outbox

    monkeypatch.setenv("OUTBOX_SENDING_STALE_SECONDS", "5")
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(settings_outbox)
    monkeypatch.delenv("OUTBOX_SENDING_STALE_SECONDS")
    importlib.reload(settings_outbox)


def test_a_burst_written_in_one_transaction_leaves_in_a_task_per_batch(
    organisation, django_capture_on_commit_callbacks, settings
):
    from unittest import mock

    from communities.outbox.tasks import outbox_send_many_task, outbox_send_task

    settings.OUTBOX_BATCH_SIZE = 4
    # when: ten follow-ups are written in one transaction
    with (
        mock.patch.object(outbox_send_many_task, "apply_async") as many,
        mock.patch.object(outbox_send_task, "apply_async") as single,
        django_capture_on_commit_callbacks(execute=True),
    ):
        rows = [
            outbox_enqueue(
                organisation=organisation,
                to_email=f"person{n}@example.com",
                template="followup",
                context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
                language="en",
                idempotency_key=f"burst:{n}",
                new_key=True,
            )
            for n in range(10)
        ]
    # then: three tasks carry every row once, in batches of at most four (the broker is
    # the edge we stand in for)
    batches = [c.kwargs["kwargs"]["email_ids"] for c in many.call_args_list]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(pk for b in batches for pk in b) == sorted(r.pk for r in rows)
    assert single.call_count == 0


def test_rows_of_a_transaction_rolled_back_never_ride_in_the_next_ones_batch(
    organisation, django_capture_on_commit_callbacks, settings
):
    from unittest import mock

    from django.db import transaction

    from communities.outbox.tasks import outbox_send_many_task, outbox_send_task

    settings.OUTBOX_BATCH_SIZE = 4

    def write(n: int, prefix: str):
        return outbox_enqueue(
            organisation=organisation,
            to_email=f"{prefix}{n}@example.com",
            template="followup",
            context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
            language="en",
            idempotency_key=f"{prefix}:{n}",
            new_key=True,
        )

    # given: three follow-ups written in a transaction that was rolled back
    with contextlib.suppress(RuntimeError), transaction.atomic():
        for n in range(3):
            write(n, "gone")
        raise RuntimeError("the answer failed")
    # when: two are written in the next one, which commits
    with (
        mock.patch.object(outbox_send_many_task, "apply_async") as many,
        mock.patch.object(outbox_send_task, "apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        rows = [write(n, "kept") for n in range(2)]
    # then: only its own rows are published
    [batch] = [c.kwargs["kwargs"]["email_ids"] for c in many.call_args_list]
    assert sorted(batch) == sorted(r.pk for r in rows)
