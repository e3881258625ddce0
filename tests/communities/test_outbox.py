"""The outbox: every email is a row first; sending is claimed once and retried on failure."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_enqueue, outbox_redrive, outbox_send
from tests.factories.communities import OutboundEmailFactory

pytestmark = pytest.mark.django_db


class FailingConnection:
    """An SMTP connection whose server is down: the edge of the world we cannot reach."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_enqueue_writes_the_row_and_sends_only_after_commit(
    organisation, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = outbox_enqueue(
            organisation=organisation,
            to_email="ana@example.com",
            template="followup",
            context={"organisation_name": "Demo Coffee", "survey_title": "Visit", "name": "Ana"},
            language="en",
            idempotency_key="followup:test:1",
        )
    # then: written, not yet sent
    assert email.status == EmailStatus.PENDING and mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.sent_at is not None
    assert len(mail.outbox) == 1
    # the Message-ID written with the row, and the row's id for bounces and replies
    assert mail.outbox[0].extra_headers["Message-ID"] == email.message_id
    assert mail.outbox[0].extra_headers["X-Chorus-Outbox"] == str(email.pk)


def test_enqueue_twice_with_one_key_writes_one_row(organisation):
    kwargs = dict(
        organisation=organisation,
        to_email="ana@example.com",
        template="followup",
        context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
        language="th",
        idempotency_key="followup:test:2",
    )
    assert outbox_enqueue(**kwargs).pk == outbox_enqueue(**kwargs).pk
    assert OutboundEmail.objects.count() == 1


def test_a_sent_email_is_not_sent_again():
    email = OutboundEmailFactory()
    assert outbox_send(email_id=email.pk) is True
    assert outbox_send(email_id=email.pk) is False
    assert len(mail.outbox) == 1


def test_smtp_failure_is_recorded_and_the_row_stays_sendable():
    email = OutboundEmailFactory()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        outbox_send(email_id=email.pk, connection=FailingConnection())
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING
    assert email.attempts == 1 and "SMTPServerDisconnected" in email.last_error
    assert outbox_send(email_id=email.pk) is True


def test_after_the_last_attempt_the_row_is_marked_failed(settings):
    email = OutboundEmailFactory(attempts=settings.CHORUS["OUTBOX_MAX_ATTEMPTS"] - 1)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        outbox_send(email_id=email.pk, connection=FailingConnection())
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED


def test_redrive_sends_rows_left_pending_and_rows_whose_worker_died():
    # given: one row the broker never got, one claimed by a worker that died, one fresh
    old = timezone.now() - timedelta(minutes=10)
    lost = OutboundEmailFactory(created_at=old)
    orphaned = OutboundEmailFactory(created_at=old, status=EmailStatus.SENDING, claimed_at=old)
    OutboundEmailFactory()
    in_flight = OutboundEmailFactory(
        created_at=old, status=EmailStatus.SENDING, claimed_at=timezone.now()
    )
    # when
    assert outbox_redrive() == 2
    # then
    assert {m.to[0] for m in mail.outbox} == {lost.to_email, orphaned.to_email}
    in_flight.refresh_from_db()
    assert in_flight.status == EmailStatus.SENDING


def test_followup_email_is_rendered_in_the_respondents_language(organisation):
    email = outbox_enqueue(
        organisation=organisation,
        to_email="somchai@example.com",
        template="followup",
        context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
        language="he",
        idempotency_key="followup:test:he",
    )
    assert 'dir="rtl"' in email.body_html
    assert 'lang="he"' in email.body_html


def test_tasks_queued_under_the_outbox_old_names_still_run():
    # given the outbox moved from feedback to communities, a broker may still hold tasks
    # queued under the old names before an upgrade
    from config.celery import app

    app.loader.import_default_modules()
    old = {"feedback.tasks.outbox_send_task", "feedback.tasks.outbox_send_many_task"}
    # then a worker knows both the old and the new names
    assert old | {"communities.outbox.tasks.outbox_send_task"} <= set(app.tasks)


def test_a_task_under_the_old_name_sends_the_row(organisation):
    # given an email queued before the upgrade
    email = OutboundEmailFactory(organisation=organisation)
    from config.celery import app

    app.loader.import_default_modules()
    # when the worker runs the old task name
    app.tasks["feedback.tasks.outbox_send_task"].apply(kwargs={"email_id": email.pk})
    # then it is sent, once
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and len(mail.outbox) == 1


def test_the_outbox_admin_pages_old_address_follows_the_model(admin_client):
    page = admin_client.get("/admin/feedback/outboundemail/?status=sent")
    assert page.status_code == 302
    assert page["Location"] == "/admin/communities/outboundemail/?status=sent"
    assert admin_client.get(page["Location"]).status_code == 200


def test_the_text_part_and_subject_carry_what_people_typed_unescaped_and_the_html_escapes_it():
    from communities.outbox.emails import email_render

    # given names with characters HTML would escape
    subject, text, html = email_render(
        template="case_alert",
        context={
            "organisation_name": "Tom & Jerry's",
            "survey_title": "<script>alert(1)</script>",
            "reason": "NPS 3",
            "case_url": "",
        },
        language="en",
    )
    # then the plain text reads as typed, and only the HTML part escapes it
    assert "Tom & Jerry's" in subject and "&amp;" not in subject
    assert "<script>alert(1)</script>" in text and "&lt;" not in text and "&#x27;" not in text
    assert "&lt;script&gt;" in html and "<script>" not in html
