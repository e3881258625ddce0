"""One contact-frequency limit per organisation, across every channel that writes to a
person: staff sends, API events, reminders (exempt, but counted) and, when the
organisation chooses, follow-up emails. Skips say why, on the send's page and in the API."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communities.outbox.contacts import contacts_last, contacts_limited
from communities.outbox.models import OutboundEmail
from surveys.choices import EventOutcome
from surveys.models import InvitationBatch, SurveyEvent, SurveyInvitation
from surveys.recipients import SkipReason
from surveys.services import invitation_batch_create, reminders_send
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.surveys import SurveyEventFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_survey(survey):
    survey.trigger = "ticket_closed"
    survey.save()
    return survey


def staff_send(survey, callbacks, *emails) -> InvitationBatch:
    with callbacks(execute=True):
        batch = invitation_batch_create(survey=survey, recipients=[(e, "") for e in emails])
    batch.refresh_from_db()
    return batch


def api_event(api, organisation, callbacks, **fields):
    body = {"type": "ticket_closed", "external_ref": "T-1", "email": "kim@example.com", **fields}
    with callbacks(execute=True):
        return api.post(reverse("api:event_receive", args=[organisation.slug]), body, format="json")


def api_outcome(api, answer) -> dict:
    """What became of a reported event, from the URL its 202 answer gave (in a test the
    event is processed once the request's transaction ends, after the answer was written)."""
    return api.get(answer["Location"]).json()


def age_the_outbox(days: int) -> None:
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=days))


# --- staff sends --------------------------------------------------------------------------


def test_a_second_staff_send_the_same_day_skips_those_just_emailed(
    survey, organisation, django_capture_on_commit_callbacks
):
    # given: staff sent one survey this morning
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    other = SurveyFactory(organisation=organisation)
    # when: they send another survey to Kim and Noa
    batch = staff_send(
        other, django_capture_on_commit_callbacks, "kim@example.com", "noa@example.com"
    )
    # then: Kim is not emailed twice in a day
    assert [m.to[0] for m in mail.outbox] == ["kim@example.com", "noa@example.com"]
    assert batch.skipped == {SkipReason.CONTACT_LIMIT: 1}


def test_the_limit_passes_after_the_organisations_days(
    survey, organisation, django_capture_on_commit_callbacks
):
    organisation.contact_limit_days = 7
    organisation.save()
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    age_the_outbox(days=8)
    other = SurveyFactory(organisation=organisation)
    batch = staff_send(other, django_capture_on_commit_callbacks, "kim@example.com")
    assert len(mail.outbox) == 2 and batch.skipped == {}


def test_a_limit_of_zero_days_is_no_limit(survey, organisation, django_capture_on_commit_callbacks):
    organisation.contact_limit_days = 0
    organisation.save()
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    other = SurveyFactory(organisation=organisation)
    staff_send(other, django_capture_on_commit_callbacks, "kim@example.com")
    assert len(mail.outbox) == 2


def test_an_api_survey_holds_back_a_staff_send(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # given: the helpdesk surveyed Kim about a ticket an hour ago
    api_event(api, organisation, django_capture_on_commit_callbacks)
    # when: staff send a campaign survey to Kim
    campaign = SurveyFactory(organisation=organisation)
    batch = staff_send(campaign, django_capture_on_commit_callbacks, "kim@example.com")
    # then
    assert len(mail.outbox) == 1 and batch.skipped == {SkipReason.CONTACT_LIMIT: 1}


def test_another_organisations_emails_do_not_count(
    survey, other_organisation, django_capture_on_commit_callbacks
):
    theirs = SurveyFactory(organisation=other_organisation)
    staff_send(theirs, django_capture_on_commit_callbacks, "kim@example.com")
    batch = staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    assert len(mail.outbox) == 2 and batch.skipped == {}


def test_a_failed_email_is_not_a_contact(survey, organisation, django_capture_on_commit_callbacks):
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    OutboundEmail.objects.update(status="failed")
    assert contacts_last(organisation=organisation, emails=["kim@example.com"]) == {}


def test_the_send_page_says_who_was_contacted_too_recently(
    staff_client, survey, organisation, django_capture_on_commit_callbacks
):
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    url = reverse("staff:survey_distribute", args=[organisation.slug, survey.pk])
    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.post(url, {"recipients": "kim@example.com"})
    html = staff_client.get(page["Location"]).content.decode()
    assert 'id="skip-contact_limit">1<' in html and "Contacted too recently" in html
    assert "in the last 30 days" in html


# --- API events ---------------------------------------------------------------------------


def test_a_staff_send_holds_back_an_api_survey_and_the_response_says_why(
    api, organisation, survey, ticket_survey, django_capture_on_commit_callbacks
):
    # given: staff emailed Kim a survey today
    campaign = SurveyFactory(organisation=organisation)
    staff_send(campaign, django_capture_on_commit_callbacks, "kim@example.com")
    # when: a ticket of Kim's closes
    answer = api_event(api, organisation, django_capture_on_commit_callbacks)
    # then: no second email, and the event says why and until when
    assert answer.status_code == 202 and len(mail.outbox) == 1
    body = api_outcome(api, answer)
    assert body["outcome"] == "contact_limit" and body["skipped"] is True
    assert body["skip_reason"] == "contact_limit"
    assert "Contacted too recently" in body["skip_reason_text"]
    allowed = body["contact_allowed_after"]
    first = OutboundEmail.objects.get().created_at
    assert allowed.startswith((first + timedelta(days=30)).date().isoformat())
    # the fields integrations already read are all still there
    assert {"id", "kind", "external_ref", "outcome", "received_at", "send_after"} <= set(body)
    assert "duplicate" in answer.json()


@pytest.mark.django_db(transaction=True)
def test_the_202_answer_itself_says_why_when_the_event_was_processed_at_once(
    api, organisation, ticket_survey
):
    # given: the embedded default (tasks run in-process, as soon as the event commits),
    # and Kim emailed a survey today
    campaign = SurveyFactory(organisation=organisation)
    invitation_batch_create(survey=campaign, recipients=[("kim@example.com", "")])
    # when
    answer = api.post(
        reverse("api:event_receive", args=[organisation.slug]),
        {"type": "ticket_closed", "external_ref": "T-9", "email": "kim@example.com"},
        format="json",
    )
    # then
    body = answer.json()
    assert answer.status_code == 202 and body["duplicate"] is False
    assert body["skipped"] is True and body["skip_reason"] == "contact_limit"
    assert body["processed_at"] is not None


def test_the_api_says_why_in_the_callers_language(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    api_event(api, organisation, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(
            reverse("api:event_receive", args=[organisation.slug]),
            {"type": "ticket_closed", "external_ref": "T-2", "email": "kim@example.com"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="ja",
        )
    detail = api.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="ja").json()
    assert detail["skip_reason_text"].startswith("最近連絡済み")


def test_an_invited_event_is_not_skipped(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    body = api_outcome(api, api_event(api, organisation, django_capture_on_commit_callbacks))
    assert body["outcome"] == "invited" and body["skipped"] is False
    assert body["skip_reason"] is None and body["contact_allowed_after"] is None


def test_a_delayed_event_reads_pending_then_its_outcome_from_its_own_url(
    api, organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # given: an event to be sent in two hours
    answer = api_event(api, organisation, django_capture_on_commit_callbacks, delay_minutes=120)
    body = answer.json()
    assert body["outcome"] == "pending" and body["skipped"] is None
    # when: the integration follows the Location it was given
    detail = api.get(answer["Location"])
    assert detail.status_code == 200 and detail.json()["outcome"] == "pending"
    # when: the person unsubscribes meanwhile, and the event falls due
    from communities.models import EmailSuppression
    from surveys.services import event_process

    EmailSuppression.objects.create(organisation=organisation, email="kim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        event_process(event_id=body["id"], now=timezone.now() + timedelta(hours=3))
    # then
    detail = api.get(answer["Location"]).json()
    assert detail["skipped"] is True and detail["skip_reason"] == "suppressed"
    assert "unsubscribed" in detail["skip_reason_text"]


def test_another_organisations_event_is_not_found(api, organisation, other_organisation):
    foreign = SurveyEventFactory(organisation=other_organisation)
    url = reverse("api:event_detail", args=[organisation.slug, foreign.pk])
    assert api.get(url).status_code == 404
    url = reverse("api:event_detail", args=[other_organisation.slug, foreign.pk])
    assert api.get(url).status_code == 404


def test_an_event_is_read_by_staff_who_read_results_but_not_anonymously(
    client, staff_client, organisation
):
    event = SurveyEventFactory(organisation=organisation)
    url = reverse("api:event_detail", args=[organisation.slug, event.pk])
    assert staff_client.get(url).status_code == 200
    assert client.get(url).status_code in (401, 403)


def test_an_event_for_a_member_who_has_not_agreed_is_skipped(
    api, organisation, community, ticket_survey, django_capture_on_commit_callbacks
):
    MemberFactory(community=community, email="kim@example.com", status="pending")
    body = api_outcome(api, api_event(api, organisation, django_capture_on_commit_callbacks))
    assert body["outcome"] == EventOutcome.SUPPRESSED and mail.outbox == []


def test_an_event_uses_the_members_language_when_it_names_none(
    api, organisation, community, ticket_survey, django_capture_on_commit_callbacks
):
    noa = MemberFactory(community=community, email="kim@example.com", locale="he")
    api_event(api, organisation, django_capture_on_commit_callbacks)
    invitation = SurveyInvitation.objects.get()
    assert invitation.member == noa and invitation.language == "he"


def test_an_event_for_a_member_of_another_organisation_is_not_matched(
    api, organisation, other_organisation, ticket_survey, django_capture_on_commit_callbacks
):
    MemberFactory(
        community=CommunityFactory(organisation=other_organisation),
        email="kim@example.com",
        status="pending",
    )
    body = api_outcome(api, api_event(api, organisation, django_capture_on_commit_callbacks))
    assert body["outcome"] == "invited"
    assert SurveyInvitation.objects.get().member is None


# --- reminders ----------------------------------------------------------------------------


def test_a_reminder_is_exempt_from_the_limit_but_counts_as_a_contact(
    survey, organisation, django_capture_on_commit_callbacks
):
    # given: Kim was invited four days ago (inside the 30-day limit)
    survey.reminder_interval_days = 3
    survey.save()
    staff_send(survey, django_capture_on_commit_callbacks, "kim@example.com")
    four_days_ago = timezone.now() - timedelta(days=4)
    SurveyInvitation.objects.update(sent_at=four_days_ago)
    OutboundEmail.objects.update(created_at=four_days_ago)
    # when: the reminder sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 1
    # then: it went, and it is now Kim's last contact
    assert len(mail.outbox) == 2 and "Reminder" in mail.outbox[1].subject
    last = contacts_limited(organisation=organisation, emails=["kim@example.com"])
    assert last["kim@example.com"] > four_days_ago + timedelta(days=3)


def test_contacts_last_is_one_query_for_a_whole_chunk(
    survey, organisation, django_assert_num_queries, django_capture_on_commit_callbacks
):
    staff_send(survey, django_capture_on_commit_callbacks, "a@example.com", "b@example.com")
    emails = [f"p{n}@example.com" for n in range(500)] + ["a@example.com", "B@example.com"]
    with django_assert_num_queries(1):
        found = contacts_last(organisation=organisation, emails=emails)
    assert set(found) == {"a@example.com", "b@example.com"}


def test_event_processing_reads_the_same_limit(
    organisation, ticket_survey, django_capture_on_commit_callbacks
):
    # given: an event stored earlier for an address staff emailed since
    event = SurveyEventFactory(organisation=organisation, email="kim@example.com")
    staff_send(ticket_survey, django_capture_on_commit_callbacks, "kim@example.com")
    from surveys.services import event_process

    assert event_process(event_id=event.pk) == EventOutcome.CONTACT_LIMIT
    assert SurveyEvent.objects.get().invitation is None
