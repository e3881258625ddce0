"""Polling a real IMAP server (a private Dovecot): customers' replies reach their case,
bounces and complaints reach the outbox row and the suppression list."""

import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from communities.choices import Role
from communities.models import EmailSuppression
from communities.outbox.choices import EmailStatus
from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_address, reply_token
from feedback.inbound.mailbox import inbound_handle, inbound_poll
from feedback.models import CaseEvent
from tests.factories.communities import (
    OrganisationFactory,
    OutboundEmailFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.inbound import arf_message, dsn_message, reply_message
from tests.feedback import inbound_server

pytestmark = pytest.mark.django_db

# The real IMAP server's fixtures.
dovecot = inbound_server.dovecot
mailbox = inbound_server.mailbox

DOMAIN = "replies.chorus.example"


@pytest.fixture(autouse=True)
def _domain(settings):
    settings.INBOUND_REPLY_DOMAIN = DOMAIN


@pytest.fixture
def waiting_case():
    agent = UserFactory(email="agent@siam.example", locale="th")
    case = CaseFactory(status=CaseStatus.WAITING, assignee=agent)
    StaffRoleFactory(organisation=case.organisation, user=agent, role=Role.AGENT)
    return case


def _sent(**fields):
    """An email the outbox sent."""
    return OutboundEmailFactory(status=EmailStatus.SENT, sent_at=timezone.now(), **fields)


def _replies(case):
    return list(CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_RECEIVED))


def test_reply_reaches_its_case_moves_it_to_open_and_alerts_the_owner(mailbox, waiting_case):
    # given: the customer answers the follow-up from their mail client
    mailbox.deliver(
        reply_message(
            to=reply_address(case=waiting_case),
            body="ยังไม่ได้รับเงินคืนครับ",
            quoted="What went wrong?",
        )
    )
    # when
    counts = inbound_poll()
    # then: their words, without the quoted email, are on the case's timeline
    assert counts == {"reply": 1}
    [event] = _replies(waiting_case)
    assert event.data["body"] == "ยังไม่ได้รับเงินคืนครับ"
    assert event.data["source"] == "email"
    waiting_case.refresh_from_db()
    assert waiting_case.status == CaseStatus.OPEN
    assert CaseEvent.objects.filter(
        case=waiting_case, kind=CaseEventKind.STATUS_CHANGED, data__to=CaseStatus.OPEN
    ).exists()
    # the owner hears of it, in their language, through the outbox
    from communities.outbox.models import OutboundEmail

    [alert] = OutboundEmail.objects.filter(template="inbound_reply_alert")
    assert alert.to_email == "agent@siam.example"
    assert alert.language == "th"
    assert f"/cases/{waiting_case.pk}/" in alert.body_text
    # and the message is marked seen only now
    assert mailbox.flags() == [{"\\Seen"}]


def test_same_reply_read_twice_is_attached_once(mailbox, waiting_case):
    # given: a poll stored the reply but died before flagging it seen
    raw = reply_message(to=reply_address(case=waiting_case), message_id="<once@customer.example>")
    inbound_handle(raw=raw, fallback_id="<x@inbound>")
    mailbox.deliver(raw)
    # when
    counts = inbound_poll()
    # then
    assert counts == {"duplicate": 1}
    assert len(_replies(waiting_case)) == 1
    assert mailbox.flags() == [{"\\Seen"}]


def test_a_second_poll_reads_nothing_again(mailbox, waiting_case):
    mailbox.deliver(reply_message(to=reply_address(case=waiting_case)))
    inbound_poll()
    assert inbound_poll() == {}
    assert len(_replies(waiting_case)) == 1


def test_reply_on_a_case_not_waiting_keeps_its_status(mailbox, waiting_case):
    waiting_case.status = CaseStatus.RESOLVED
    waiting_case.resolved_at = timezone.now()
    waiting_case.save(update_fields=["status", "resolved_at"])
    mailbox.deliver(reply_message(to=reply_address(case=waiting_case)))
    inbound_poll()
    waiting_case.refresh_from_db()
    assert waiting_case.status == CaseStatus.RESOLVED
    assert len(_replies(waiting_case)) == 1


def test_forged_token_is_refused_logged_and_never_attached(mailbox, waiting_case, caplog):
    # given: someone edits the case number in the reply address
    token = reply_token(case=waiting_case)
    case_id, rest = token.split(".", 1)
    other = CaseFactory(organisation=waiting_case.organisation)
    forged = f"{other.pk}.{rest}"
    mailbox.deliver(reply_message(to=f"reply+{forged}@{DOMAIN}"))
    # when
    counts = inbound_poll()
    # then
    assert counts == {"rejected:forged": 1}
    assert not CaseEvent.objects.filter(kind=CaseEventKind.REPLY_RECEIVED).exists()
    assert "reply refused (forged)" in caplog.text
    assert mailbox.flags() == [{"\\Seen"}]


def test_token_for_a_case_of_another_organisation_is_refused(mailbox, waiting_case):
    # given: a genuine signature over a case id and an organisation that do not belong
    # together (as a leaked key, or a case moved between tenants, would produce)
    stranger = OrganisationFactory()

    class Mismatch:
        pk = waiting_case.pk
        organisation_id = stranger.pk

    mailbox.deliver(reply_message(to=f"reply+{reply_token(case=Mismatch())}@{DOMAIN}"))
    # when
    counts = inbound_poll()
    # then
    assert counts == {"rejected:cross_organisation": 1}
    assert _replies(waiting_case) == []


def test_expired_token_is_refused(mailbox, waiting_case, settings):
    settings.INBOUND_REPLY_MAX_AGE_DAYS = 7
    token = reply_token(case=waiting_case, at=time.time() - 8 * 86400)
    mailbox.deliver(reply_message(to=f"reply+{token}@{DOMAIN}"))
    assert inbound_poll() == {"rejected:expired": 1}
    assert _replies(waiting_case) == []


def test_attachment_is_refused_and_noted_on_the_event(mailbox, waiting_case):
    mailbox.deliver(
        reply_message(
            to=reply_address(case=waiting_case), attachment=("invoice.pdf.exe", b"MZ" * 50)
        )
    )
    inbound_poll()
    [event] = _replies(waiting_case)
    assert event.data["attachments_refused"] == ["invoice.pdf.exe"]
    assert "MZ" not in event.data["body"]


def test_oversized_message_is_not_downloaded(mailbox, waiting_case, settings):
    settings.INBOUND_MAX_MESSAGE_BYTES = 2_000
    mailbox.deliver(reply_message(to=reply_address(case=waiting_case), body="y" * 5_000))
    assert inbound_poll() == {"oversized": 1}
    assert _replies(waiting_case) == []
    assert mailbox.flags() == [{"\\Seen"}]


def test_hard_bounce_marks_the_row_and_suppresses_the_address(mailbox):
    # given: our follow-up to an address that does not exist
    row = _sent(to_email="Gone@Example.com")
    mailbox.deliver(dsn_message(row=row, recipient="gone@example.com", status="5.1.1"))
    # when
    counts = inbound_poll()
    # then
    assert counts == {"bounce": 1}
    row.refresh_from_db()
    assert row.status == EmailStatus.BOUNCED
    suppression = EmailSuppression.objects.get(organisation=row.organisation)
    assert (suppression.email, suppression.reason, suppression.source, suppression.detail) == (
        "gone@example.com",
        EmailSuppression.Reason.HARD_BOUNCE,
        EmailSuppression.Source.DSN,
        "5.1.1",
    )
    assert suppression.outbound_email == row


def test_bounce_found_by_message_id_alone(mailbox):
    row = _sent(to_email="gone@example.com")
    mailbox.deliver(dsn_message(row=row, recipient="gone@example.com", with_outbox_header=False))
    assert inbound_poll() == {"bounce": 1}
    row.refresh_from_db()
    assert row.status == EmailStatus.BOUNCED


def test_soft_bounce_suppresses_nothing(mailbox):
    row = _sent(to_email="full@example.com")
    mailbox.deliver(
        dsn_message(row=row, recipient="full@example.com", status="4.2.2", action="delayed")
    )
    inbound_poll()
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert "4.2.2" in row.last_error
    assert not EmailSuppression.objects.exists()


def test_complaint_marks_the_row_and_suppresses_the_address(mailbox):
    row = _sent(to_email="kim@example.com")
    mailbox.deliver(arf_message(row=row, recipient="kim@example.com"))
    assert inbound_poll() == {"complaint": 1}
    row.refresh_from_db()
    assert row.status == EmailStatus.COMPLAINED
    assert EmailSuppression.objects.get().reason == EmailSuppression.Reason.COMPLAINT


def test_bounce_naming_a_row_sent_to_someone_else_changes_nothing(mailbox):
    # given: a forged report names our row but another person's address
    row = _sent(to_email="kim@example.com")
    mailbox.deliver(dsn_message(row=row, recipient="victim@example.com"))
    # when
    counts = inbound_poll()
    # then
    assert counts == {"unmatched": 1}
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert not EmailSuppression.objects.exists()


def test_the_same_bounce_twice_suppresses_once(mailbox):
    row = _sent(to_email="gone@example.com")
    raw = dsn_message(row=row, recipient="gone@example.com")
    mailbox.deliver(raw)
    mailbox.deliver(raw)
    inbound_poll()
    assert EmailSuppression.objects.count() == 1


def test_suppression_stays_in_the_organisation_of_the_row(mailbox):
    row = _sent(to_email="gone@example.com")
    other = OrganisationFactory()
    mailbox.deliver(dsn_message(row=row, recipient="gone@example.com"))
    inbound_poll()
    assert not EmailSuppression.objects.filter(organisation=other).exists()
    assert EmailSuppression.objects.filter(organisation=row.organisation).exists()


def test_mail_that_is_none_of_ours_is_marked_seen_and_counted(mailbox):
    mailbox.deliver(reply_message(to="sales@replies.chorus.example"))
    mailbox.deliver(b"\x00\xff garbage without headers")
    counts = inbound_poll()
    assert counts == {"unknown": 2}
    assert mailbox.flags() == [{"\\Seen"}, {"\\Seen"}]


def test_the_command_polls_the_mailbox_it_is_given(mailbox, waiting_case, settings, capsys):
    url = settings.INBOUND_EMAIL_URL
    settings.INBOUND_EMAIL_URL = ""
    mailbox.deliver(reply_message(to=reply_address(case=waiting_case)))
    call_command("inbound_poll", "--url", url)
    assert "reply: 1" in capsys.readouterr().out
    assert len(_replies(waiting_case)) == 1


def test_the_command_refuses_a_url_that_is_not_imap():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("inbound_poll", "--url", "pop3://user:pw@127.0.0.1/")


def test_wrong_password_fails_loudly(mailbox):
    import imaplib

    with pytest.raises(imaplib.IMAP4.error):
        inbound_poll(url=mailbox.url.replace("inbound-secret", "wrong"))
