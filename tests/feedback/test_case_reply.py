"""Replying to the customer from the case page: by email through the outbox, in the
customer's language, with the case's reply address, only where they agreed to be
contacted and never for an anonymous answer; kept on the timeline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communities.choices import Role
from communities.models import EmailSuppression
from communities.outbox.models import OutboundEmail
from feedback.choices import CaseEventKind, CaseStatus
from feedback.models import Case
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.feedback.api.helpers import anonymous_case, identified_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, organisation):
    agent = StaffRoleFactory(
        organisation=organisation,
        role=Role.AGENT,
        user=UserFactory(name="Ann Agent", email="ann@example.com"),
    ).user
    client.force_login(agent)
    return client


def _reply(client, case, body="We are sorry; a voucher is on its way.", submission="s1"):
    url = reverse("staff:case_reply", args=[case.organisation.slug, case.pk])
    return client.post(url, {"body": body, "submission": submission}, follow=True)


def test_a_reply_goes_to_the_customer_in_their_language_and_onto_the_timeline(
    agent_client, survey, settings, django_capture_on_commit_callbacks
):
    # given: a Thai customer who agreed to be contacted, and inbound replies configured
    settings.INBOUND_REPLY_DOMAIN = "replies.example.com"
    case = identified_case(survey)
    case.response.language = "th"
    case.response.save(update_fields=["language"])

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = _reply(agent_client, case)

    # then: one email, framed in Thai, answerable to the case
    assert "Reply sent to the customer" in page.content.decode()
    email = OutboundEmail.objects.get()
    assert email.to_email == case.response.member.email.lower()
    assert email.language == "th"
    assert "We are sorry; a voucher is on its way." in email.body_text
    assert email.headers["Reply-To"].startswith("reply+")
    assert email.headers["Reply-To"].endswith("@replies.example.com")
    assert queued, "sent after commit"
    # and the case: the reply on its timeline, answered, waiting on the customer
    case = Case.objects.get(pk=case.pk)
    sent = case.events.get(kind=CaseEventKind.EMAIL_SENT)
    assert sent.data["body"] == "We are sorry; a voucher is on its way."
    assert case.first_response_at is not None and case.status == CaseStatus.WAITING
    assert (
        "Reply emailed to the respondent"
        in agent_client.get(
            reverse("staff:case_detail", args=[case.organisation.slug, case.pk])
        ).content.decode()
    )


def test_sending_the_reply_form_twice_sends_once(agent_client, survey):
    case = identified_case(survey)

    _reply(agent_client, case)
    again = _reply(agent_client, case)

    assert OutboundEmail.objects.count() == 1
    assert "This reply was already sent" in again.content.decode()


@pytest.mark.parametrize("kind", ["anonymous", "no_consent", "suppressed"])
def test_no_reply_goes_where_the_customer_may_not_be_written_to(agent_client, survey, kind):
    # given
    if kind == "anonymous":
        case = anonymous_case(survey)
    else:
        case = identified_case(survey, consent=kind != "no_consent")
    if kind == "suppressed":
        EmailSuppression.objects.create(
            organisation=survey.organisation, email=case.response.member.email.lower()
        )

    # when
    page = _reply(agent_client, case)

    # then: nothing sent, nothing recorded, and the page says why
    assert not OutboundEmail.objects.exists()
    assert not Case.objects.get(pk=case.pk).events.exists()
    assert "cannot be emailed" in page.content.decode() or "refuses" in page.content.decode()


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001])
def test_an_empty_or_oversized_reply_is_refused(agent_client, survey, body):
    case = identified_case(survey)

    _reply(agent_client, case, body=body)

    assert not OutboundEmail.objects.exists() and not Case.objects.get(pk=case.pk).events.exists()


def test_the_case_page_offers_no_reply_for_an_anonymous_answer(agent_client, survey):
    case = anonymous_case(survey)

    page = agent_client.get(reverse("staff:case_detail", args=[case.organisation.slug, case.pk]))

    html = page.content.decode()
    assert 'id="case-reply-form"' not in html and 'id="no-reply"' in html
