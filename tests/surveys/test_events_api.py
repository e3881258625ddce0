"""Other systems report events through the API; the customer gets one survey email."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from communities.outbox.models import OutboundEmail
from communities.services import api_token_revoke
from surveys.choices import EventOutcome
from surveys.models import SurveyEvent, SurveyInvitation
from surveys.services import event_process, events_sweep
from tests.api.problems import problem, refused_fields
from tests.factories.communities import EmailSuppressionFactory
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_survey(survey):
    survey.trigger = "ticket_closed"
    survey.save()
    return survey


def url(organisation):
    return reverse("api:event_receive", args=[organisation.slug])


def event(**overrides):
    return {
        "type": "ticket_closed",
        "external_ref": "T-1001",
        "email": "Customer@Example.com",
        "name": "Kim",
        "language": "th",
        **overrides,
    }


def test_a_closed_ticket_sends_one_survey_email_in_the_customers_language(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(url(organisation), event(), format="json")
    # then
    assert answer.status_code == 202
    assert answer.json()["duplicate"] is False
    invitation = SurveyInvitation.objects.get()
    assert invitation.email == "customer@example.com" and invitation.external_ref == "T-1001"
    assert invitation.language == "th" and invitation.channel.kind == "api"
    assert SurveyEvent.objects.get().outcome == EventOutcome.INVITED
    assert len(mail.outbox) == 1
    assert "/i/" in mail.outbox[0].body and "List-Unsubscribe" in mail.outbox[0].extra_headers


def test_a_repeated_event_sends_nothing_more(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(url(organisation), event(), format="json")
        assert answer.status_code == 202
    assert answer.json()["duplicate"] is True
    assert SurveyEvent.objects.count() == SurveyInvitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_contact_limit_skips_a_second_survey_and_says_why(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # given: surveyed about one ticket
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(organisation), event(), format="json")
    # when: another ticket closes inside the 30-day limit
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(organisation), event(external_ref="T-1002"), format="json")
    # then
    second = SurveyEvent.objects.get(external_ref="T-1002")
    assert second.outcome == EventOutcome.CONTACT_LIMIT and second.invitation is None
    assert len(mail.outbox) == 1
    # when: the limit has passed (the outbox is the record of who was written to when)
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(organisation), event(external_ref="T-1003"), format="json")
    assert SurveyEvent.objects.get(external_ref="T-1003").outcome == EventOutcome.INVITED


def test_an_unsubscribed_address_is_skipped(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    EmailSuppressionFactory(organisation=organisation, email="customer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(organisation), event(), format="json")
    assert SurveyEvent.objects.get().outcome == EventOutcome.SUPPRESSED
    assert mail.outbox == []


def test_a_delayed_event_waits_and_the_sweep_sends_it_when_due(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(url(organisation), event(delay_minutes=120), format="json")
    # then: stored, not sent, and the answer says it waits (null, as the schema allows)
    stored = SurveyEvent.objects.get()
    assert stored.outcome == EventOutcome.PENDING and mail.outbox == []
    assert answer.json()["processed_at"] is None and answer.json()["skipped"] is None
    assert answer.json()["duplicate"] is False
    assert events_sweep() == 0
    # when: two hours pass
    SurveyEvent.objects.update(send_after=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert events_sweep() == 1
    # then
    assert SurveyEvent.objects.get().outcome == EventOutcome.INVITED
    assert len(mail.outbox) == 1
    assert event_process(event_id=stored.pk) is None  # a second run finds it done


def test_no_live_survey_for_the_event_is_recorded(
    api, organisation, survey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(organisation), event(type="order_completed"), format="json")
    assert SurveyEvent.objects.get().outcome == EventOutcome.NO_SURVEY


def test_a_named_survey_is_used(api, organisation, survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(url(organisation), event(survey=survey.pk), format="json")
    assert answer.status_code == 202
    assert SurveyInvitation.objects.get().survey == survey


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (event(email="not-an-email"), "email"),
        ({k: v for k, v in event().items() if k != "email"}, "email"),
        ({k: v for k, v in event().items() if k != "external_ref"}, "external_ref"),
        (event(type="coffee_spilled"), "type"),
        (event(external_ref="x" * 201), "external_ref"),
        (event(external_ref=""), "external_ref"),
        (event(external_ref="   "), "external_ref"),
        (event(name="n" * 201), "name"),
        (event(language="xx"), "language"),
        (event(delay_minutes=-1), "delay_minutes"),
        (event(delay_minutes="soon"), "delay_minutes"),
        (event(survey="abc"), "survey"),
    ],
)
def test_bad_payloads_get_400_naming_the_field_and_store_nothing(
    api, organisation, ticket_survey, payload, field
):
    answer = api.post(url(organisation), payload, format="json")
    assert field in refused_fields(answer, 400)
    assert not SurveyEvent.objects.exists()


def test_malformed_json_is_a_400(api, organisation):
    answer = api.post(url(organisation), "{not json", content_type="application/json")
    assert problem(answer, 400)["code"] == "parse_error"
    assert not SurveyEvent.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer", "Token abc", "Bearer a b"])
def test_a_missing_or_wrong_key_is_401(organisation, ticket_survey, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    answer = client.post(url(organisation), event(), format="json")
    assert answer.status_code == 401
    assert not SurveyEvent.objects.exists()


def test_a_revoked_key_is_401(api, organisation, ticket_survey):
    from communities.models import ApiToken

    api_token_revoke(token=ApiToken.objects.get())
    assert api.post(url(organisation), event(), format="json").status_code == 401


def test_another_organisations_url_or_survey_is_404(
    api, organisation, other_organisation, ticket_survey
):
    assert api.post(url(other_organisation), event(), format="json").status_code == 404
    foreign = SurveyFactory(organisation=other_organisation)
    answer = api.post(url(organisation), event(survey=foreign.pk), format="json")
    assert answer.status_code == 404
    assert not SurveyEvent.objects.exists()
