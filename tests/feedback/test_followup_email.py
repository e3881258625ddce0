"""The follow-up email keeps the README's promises: one-click unsubscribe (RFC 8058 headers
and a visible link), replies that reach the organisation (Reply-To) from its sender name,
and, when the organisation chooses, the contact limit. Checked on the wire: the email
leaves through a real SMTP conversation with a local sink (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from communities.models import EmailSuppression
from communities.outbox.models import OutboundEmail
from surveys.services import invitation_batch_create, response_submit
from tests.factories.surveys import SurveyFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates" / "emails"


class Wire:
    """The messages the session's SMTP sink accepted since this test began."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.start = len(sink.messages)

    def to(self, address: str) -> list[Message]:
        return [
            m
            for m in self.sink.messages[self.start :]
            if address in [a for _name, a in getaddresses(m.get_all("To", []))]
        ]


@pytest.fixture
def wire(settings, smtp_sink) -> Wire:
    """Email goes over SMTP to the sink, as in production."""
    sink, port = smtp_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = "https://chorus.example.com"
    return Wire(sink)


def part(message: Message, content_type: str) -> str:
    for p in message.walk():
        if p.get_content_type() == content_type:
            return p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part")


def header(message: Message, name: str) -> str:
    """A header as a mail client reads it: unfolded, encoded words decoded."""
    if message[name] is None:
        return ""
    return " ".join(str(make_header(decode_header(message[name]))).split())


def detractor_answers(survey, member, callbacks, *, nps: int = 2):
    data = answers_for(survey, nps=nps, stars=5)
    key = data.pop("idempotency_key")
    with callbacks(execute=True):
        return response_submit(
            survey=survey,
            raw_answers=data,
            idempotency_key=key,
            member=member,
            consent_to_contact=True,
        ).response


@pytest.fixture
def branded(organisation):
    organisation.sender_name = "ร้านกาแฟ Demo"
    organisation.reply_to_email = "care@demo-coffee.example"
    organisation.save()
    return organisation


def test_the_followup_carries_one_click_unsubscribe_reply_to_and_the_sender_name_on_the_wire(
    wire, branded, survey, member, django_capture_on_commit_callbacks
):
    # when: a member who agreed to be contacted gives a detractor score
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    # then
    [message] = wire.to(member.email)
    unsubscribe = header(message, "List-Unsubscribe")
    assert unsubscribe.startswith("<https://chorus.example.com/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe.strip("<>")
    assert link in part(message, "text/plain")
    assert f'href="{link}"' in part(message, "text/html")
    assert message["Reply-To"] == "care@demo-coffee.example"
    name, address = parseaddr(header(message, "From"))
    assert name == "ร้านกาแฟ Demo"
    assert address == parseaddr(django_settings.DEFAULT_FROM_EMAIL)[1]
    assert "Please reply to this email" in part(message, "text/plain")


def test_without_a_reply_address_the_followup_does_not_ask_for_a_reply_to_noreply(
    wire, organisation, survey, member, django_capture_on_commit_callbacks
):
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    [message] = wire.to(member.email)
    assert message["Reply-To"] is None
    assert message["From"] == django_settings.DEFAULT_FROM_EMAIL
    # It never asks for a reply by email; the signed reply page (no mail needed) is offered.
    text = part(message, "text/plain").lower()
    assert "reply to this email" not in text
    assert "/reply/" in text
    assert "List-Unsubscribe" in message


def test_the_followups_unsubscribe_link_stops_the_next_followup(
    wire, survey, member, organisation, django_capture_on_commit_callbacks
):
    # given: a follow-up arrived, and the member used its one-click unsubscribe
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    [message] = wire.to(member.email)
    path = "/" + header(message, "List-Unsubscribe").strip("<>").split("/", 3)[3]
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert EmailSuppression.objects.filter(organisation=organisation, email=member.email).exists()
    # when: they answer another survey badly
    detractor_answers(
        SurveyFactory(organisation=organisation), member, django_capture_on_commit_callbacks
    )
    # then
    assert len(wire.to(member.email)) == 1


def test_no_followup_to_a_member_who_left_the_community(
    survey, member, django_capture_on_commit_callbacks
):
    # given: the member withdrew the community terms (left), which suppresses no address
    from communities.services.consent import member_consent_change

    member_consent_change(member=member, purpose="community_terms", granted=False)
    member.refresh_from_db()
    # when
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    # then
    assert not OutboundEmail.objects.filter(template="followup").exists()


def test_invitations_come_from_the_sender_name_with_replies_to_the_organisation(
    wire, branded, survey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, recipients=[("guest@example.com", "")])
    [message] = wire.to("guest@example.com")
    assert parseaddr(header(message, "From"))[0] == "ร้านกาแฟ Demo"
    assert message["Reply-To"] == "care@demo-coffee.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_line_break_in_the_sender_name_cannot_add_a_header(
    wire, organisation, survey, member, django_capture_on_commit_callbacks
):
    organisation.sender_name = "Demo\r\nBcc: victim@example.com"
    organisation.save()
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    [message] = wire.to(member.email)
    assert message["Bcc"] is None and "victim" not in message.get("To", "")
    assert parseaddr(header(message, "From"))[0] == "Demo Bcc: victim@example.com"


# --- the contact limit, when the organisation counts follow-ups ------------------------------


def test_followups_are_outside_the_contact_limit_by_default(
    survey, member, organisation, django_capture_on_commit_callbacks
):
    # given: Kim was sent another survey an hour ago
    other = SurveyFactory(organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=other, recipients=[(member.email, "")])
    # when
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    # then
    assert OutboundEmail.objects.filter(template="followup").count() == 1


def test_an_organisation_that_counts_followups_holds_one_back_after_another_survey(
    survey, member, organisation, django_capture_on_commit_callbacks
):
    organisation.contact_limit_followups = True
    organisation.save()
    other = SurveyFactory(organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=other, recipients=[(member.email, "")])
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    assert not OutboundEmail.objects.filter(template="followup").exists()


def test_the_surveys_own_invitation_never_holds_its_followup_back(
    survey, member, organisation, django_capture_on_commit_callbacks
):
    # given: the organisation counts follow-ups, and Kim was invited to this very survey
    organisation.contact_limit_followups = True
    organisation.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, recipients=[(member.email, "")])
    # when: she answers it badly
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    # then
    assert OutboundEmail.objects.filter(template="followup").count() == 1


def test_a_counted_followup_holds_back_the_next_survey(
    survey, member, organisation, django_capture_on_commit_callbacks
):
    # given: the organisation counts follow-ups, and Kim got one an hour ago
    organisation.contact_limit_followups = True
    organisation.save()
    detractor_answers(survey, member, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    # when: staff send another survey
    other = SurveyFactory(organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        batch = invitation_batch_create(survey=other, recipients=[(member.email, "")])
    # then
    batch.refresh_from_db()
    assert batch.skipped == {"contact_limit": 1} and mail.outbox == []
    # and a day past the limit it goes
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=31))
    third = SurveyFactory(organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=third, recipients=[(member.email, "")])
    assert len(mail.outbox) == 1


def test_the_organisation_counts_followups_only_when_it_chooses(organisation):
    assert organisation.contact_limit_followups is False


# --- every email to a member can be stopped ------------------------------------------------

# Emails to staff about their work (not to members or customers) need no unsubscribe.
STAFF_TEMPLATES = {"case_alert", "staff_invitation"}


def member_templates() -> list[str]:
    names = {p.name.split("_body.")[0] for p in TEMPLATES.glob("*_body.*")}
    return sorted(names - STAFF_TEMPLATES)


@pytest.mark.parametrize("template", member_templates())
def test_every_email_to_a_member_shows_an_unsubscribe_link_in_both_parts(template):
    text = (TEMPLATES / f"{template}_body.txt").read_text()
    html = (TEMPLATES / f"{template}_body.html").read_text()
    assert "{{ unsubscribe_url }}" in text
    assert 'href="{{ unsubscribe_url }}"' in html


def test_the_audit_covers_the_followup():
    assert "followup" in member_templates() and "invitation" in member_templates()
