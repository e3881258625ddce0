"""A send task, its own rows sent, goes on with the rows waiting for their first attempt,
batch after batch over the same SMTP connection, until none is left or
OUTBOX_DRAIN_MAX_SECONDS have passed: the first task of a burst sends all of it, and the
burst's other tasks find their rows sent. Through a real SMTP server (aiosmtpd) on loopback.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import EmailSuppression
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.sending import outbox_claim, outbox_drain, outbox_send_many
from communities.outbox.services import outbox_enqueue, outbox_redrive
from communities.outbox.tasks import outbox_send_many_task, outbox_send_task
from tests.communities.test_outbox_batches import server, status_of, waiting  # noqa: F401
from tests.factories.communities import OutboundEmailFactory

pytestmark = pytest.mark.django_db


def test_a_draining_task_sends_every_waiting_row_over_one_connection(server, settings):  # noqa: F811
    # given: eight rows waiting and batches of three
    settings.OUTBOX_BATCH_SIZE = 3
    rows = waiting(8)
    # when: the task of the newest row runs
    assert outbox_send_task.run(email_id=rows[-1].pk) == 8
    # then: its own row first, then the rest oldest first, all over one connection
    assert server.recipients() == [rows[-1].to_email] + [r.to_email for r in rows[:-1]]
    assert server.connections() == 1
    assert not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists()


def test_the_bursts_other_tasks_find_their_rows_sent_and_open_no_connection(server, settings):  # noqa: F811
    settings.OUTBOX_BATCH_SIZE = 3
    rows = waiting(7)
    ids = [r.pk for r in rows]
    first = outbox_send_many_task.run(email_ids=ids[:3], keep_going=True)
    later = [outbox_send_many_task.run(email_ids=ids[3:6], keep_going=True)]
    later.append(outbox_send_many_task.run(email_ids=ids[6:], keep_going=True))
    assert (first, later) == (7, [0, 0])
    assert sorted(server.recipients()) == sorted(r.to_email for r in rows)
    assert server.connections() == 1


def test_a_sweeps_task_sends_only_the_rows_it_names(server):  # noqa: F811
    named, fresh = waiting(2)
    assert outbox_send_many_task.run(email_ids=[named.pk]) == 1
    assert server.recipients() == [named.to_email]
    assert status_of(fresh) == EmailStatus.PENDING


def test_a_drain_stops_claiming_after_its_time(server, settings):  # noqa: F811
    # given: no time to go on after the first claim
    settings.OUTBOX_BATCH_SIZE = 2
    settings.OUTBOX_DRAIN_MAX_SECONDS = 0
    rows = waiting(5)
    # when
    batch = outbox_drain(keep_going=True)
    # then: one claim is sent; the rest wait, unclaimed, for their own tasks
    assert batch.sent == [rows[0].pk, rows[1].pk]
    assert {status_of(r) for r in rows[2:]} == {EmailStatus.PENDING}
    assert OutboundEmail.objects.filter(claimed_at__isnull=False).count() == 2


def test_a_drain_leaves_rows_held_retrying_or_not_yet_due(server, settings):  # noqa: F811
    settings.OUTBOX_BATCH_SIZE = 1
    held, retrying, later, free, also_free = waiting(5)
    OutboundEmail.objects.filter(pk=held.pk).update(
        status=EmailStatus.SENDING, claimed_at=timezone.now()
    )
    OutboundEmail.objects.filter(pk=retrying.pk).update(attempts=1, last_error="451")
    OutboundEmail.objects.filter(pk=later.pk).update(send_after=timezone.now() + timedelta(hours=1))
    batch = outbox_drain(keep_going=True)
    assert batch.sent == [free.pk, also_free.pk]
    assert status_of(held) == EmailStatus.SENDING
    assert status_of(retrying) == status_of(later) == EmailStatus.PENDING


def test_a_temporary_failure_ends_the_drain_and_hands_back_only_that_claims_rest(
    server,  # noqa: F811
    settings,
):
    # given: batches of two, the server failing the third message
    settings.OUTBOX_BATCH_SIZE = 2
    rows = waiting(6)
    server.fail_data = {rows[2].to_email}
    # when
    batch = outbox_drain(keep_going=True)
    # then: the first claim is sent, the second fails on its first row and hands back its
    # second; nothing further is claimed
    assert batch.sent == [rows[0].pk, rows[1].pk] and batch.failed == [rows[2].pk]
    assert batch.released == [rows[3].pk]
    for row in rows[3:]:
        row.refresh_from_db()
        assert (row.status, row.attempts, row.claimed_at) == (EmailStatus.PENDING, 0, None)


def test_a_refused_recipient_in_a_later_claim_does_not_stop_the_drain(server, settings):  # noqa: F811
    settings.OUTBOX_BATCH_SIZE = 2
    rows = waiting(5)
    server.refuse = {rows[3].to_email}
    batch = outbox_send_many(email_ids=[rows[0].pk], keep_going=True)
    assert batch.sent == [r.pk for r in rows if r is not rows[3]]
    assert batch.failed == [rows[3].pk]


def test_a_drain_skips_an_address_suppressed_in_a_later_claim(server, settings, organisation):  # noqa: F811
    from communities.models import EmailSuppression

    settings.OUTBOX_BATCH_SIZE = 1
    kept, dropped = waiting(2, organisation=organisation)
    EmailSuppression.objects.create(organisation=organisation, email=dropped.to_email)
    batch = outbox_drain(email_id=kept.pk, keep_going=True)
    assert batch.sent == [kept.pk] and batch.suppressed == [dropped.pk]
    assert server.recipients() == [kept.to_email]


def test_a_bursts_tasks_are_published_to_keep_going(
    organisation, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_BATCH_SIZE = 2
    with (
        mock.patch.object(outbox_send_many_task, "apply_async") as many,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n in range(3):
            outbox_enqueue(
                organisation=organisation,
                to_email=f"person{n}@example.com",
                template="followup",
                context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
                language="en",
                idempotency_key=f"h10:{n}",
                new_key=True,
            )
    assert [c.kwargs["kwargs"]["keep_going"] for c in many.call_args_list] == [True, True]


def test_a_task_published_before_keep_going_existed_still_runs(server):  # noqa: F811
    [row] = waiting(1)
    assert outbox_send_many_task.run(email_ids=[row.pk]) == 1
    assert outbox_send_many_task.run(email_ids=[row.pk, row.pk + 1000]) == 0


@pytest.mark.parametrize(
    "address",
    [
        "ana@example.com",
        "a.b+c@ex-ample.co",
        "Ana <ana@example.com>",
        '"Ana Lima" <ana@example.com>',
        "Ana <ana@exämple.com>",
        "ana@exämple.com",
        "(note) ana@example.com",
        "",
    ],
)
def test_an_envelope_address_is_what_parsing_the_address_gives(address):
    from email.utils import parseaddr

    from django.core.mail.message import sanitize_address

    from communities.outbox.mime import envelope_address

    if address.isascii():
        expected = parseaddr(address)[1] or address
    else:
        expected = parseaddr(sanitize_address(address, "utf-8"))[1]
    assert envelope_address(address) == expected


# --- what a drain costs the database (issue 13: a detractor's follow-up sent in eager mode)


def _claims(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "RETURNING" in sql and '"claimed_at" = ' in sql]


@pytest.mark.django_db(transaction=True)
def test_a_drain_claims_its_own_row_and_the_waiting_ones_in_one_statement(server, settings):  # noqa: F811
    # given: batches of three, the task's own row the newest of four waiting
    settings.OUTBOX_BATCH_SIZE = 3
    rows = waiting(4)
    # when its task drains without going on
    with CaptureQueriesContext(connection) as captured:
        batch = outbox_drain(email_id=rows[-1].pk)
    # then: one claim took its row first and the two oldest waiting
    assert len(_claims([q["sql"] for q in captured.captured_queries])) == 1
    assert batch.sent == [rows[-1].pk, rows[0].pk, rows[1].pk]


@pytest.mark.django_db(transaction=True)
def test_a_drain_whose_row_is_not_to_send_fills_its_claim_with_waiting_rows(server, settings):  # noqa: F811
    settings.OUTBOX_BATCH_SIZE = 2
    sent, *others = waiting(3)
    OutboundEmail.objects.filter(pk=sent.pk).update(status=EmailStatus.SENT, sent_at=timezone.now())
    batch = outbox_drain(email_id=sent.pk)
    assert batch.sent == [r.pk for r in others]


@pytest.mark.django_db(transaction=True)
def test_a_lone_follow_up_is_claimed_sent_and_marked_on_the_senders_own_connection(
    server,  # noqa: F811
    organisation,
):
    # given: one row waiting, and another whose address was suppressed after it was written
    kept, dropped = waiting(2, organisation=organisation)
    EmailSuppression.objects.create(organisation=organisation, email=dropped.to_email.upper())
    # when
    with CaptureQueriesContext(connection) as captured:
        batch = outbox_drain(email_id=kept.pk)
    statements = [q["sql"] for q in captured.captured_queries]
    # then: the claim found the suppression itself (no query of its own), the row was
    # marked sent in this connection (no thread, no second connection), and that is all
    assert batch.sent == [kept.pk] and batch.suppressed == [dropped.pk]
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(statements) == 2, statements
    assert status_of(kept) == EmailStatus.SENT and status_of(dropped) == EmailStatus.SUPPRESSED
    dropped.refresh_from_db()
    assert dropped.attempts == 0


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL finds the unsent rows' index from status = 'pending' itself",
)
def test_on_sqlite_claims_and_the_sweep_read_the_index_of_unsent_rows_never_the_whole_outbox():
    # given: rows waiting beside rows long sent
    rows = waiting(4)
    OutboundEmailFactory.create_batch(5, status=EmailStatus.SENT, sent_at=timezone.now())
    readers = {
        "a claim of its own row and the waiting ones": (
            lambda: outbox_claim(email_ids=[rows[-1].pk], more=2),
            _claims,
        ),
        "a claim of the waiting ones": (lambda: outbox_claim(more=3), _claims),
        "the sweep": (
            lambda: outbox_redrive(older_than=timedelta(days=1)),
            lambda statements: statements[:1],
        ),
    }
    for name, (read, statement) in readers.items():
        # when: it runs
        with CaptureQueriesContext(connection) as captured:
            read()
        (sql,) = statement([q["sql"] for q in captured.captured_queries])
        # then: SQLite's plan finds each row by its id or through the index, never by
        # reading every row of the outbox
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = [row[-1] for row in cursor.fetchall()]
        whole = [step for step in plan if step == "SCAN feedback_outboundemail"]
        assert not whole, f"{name}: {plan}"
        assert "SCAN feedback_outboundemail USING INDEX outbox_unsent" in plan, f"{name}: {plan}"
