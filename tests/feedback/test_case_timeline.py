"""A case's timeline: "opened" written when the follow-up rules open a case, every change
a service makes recorded as data and shown in the reader's words on the staff case page,
append-only, scrubbed when a member is erased, and started for cases opened before it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from communities.flows import member_erase
from communities.webhooks.models import WebhookDelivery
from feedback.choices import CaseEventKind, CasePriority
from feedback.models import Case, CaseEvent, CaseEventIsFinal
from feedback.services import case_assign, case_note_add, case_open, case_status_change
from surveys.services import response_submit
from tests.factories.communities import StaffRoleFactory, WebhookEndpointFactory
from tests.factories.feedback import CaseEventFactory, CaseFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.factories.surveys import ResponseFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def submit(survey, member=None, consent=True, **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=key,
        member=member,
        consent_to_contact=consent,
    ).response


def test_a_detractors_answer_opens_a_case_whose_timeline_starts_with_why(survey):
    # when
    response = submit(survey, nps=0, stars=5)

    # then
    case = Case.objects.get(response=response)
    (opened,) = case.events.all()
    assert opened.kind == CaseEventKind.OPENED and opened.actor is None
    assert opened.created_at == case.created_at
    assert opened.data == {"reasons": case.reasons, "priority": CasePriority.HIGH}


def test_opening_a_case_again_adds_nothing_to_its_timeline(survey):
    # given
    response = ResponseFactory(survey=survey)
    reasons = [{"code": "nps", "question": None, "value": 2, "threshold": 6}]
    case = case_open(response=response, reasons=reasons)

    # when
    again = case_open(response=response, reasons=reasons)

    # then
    assert again.pk == case.pk and CaseEvent.objects.filter(case=case).count() == 1


def test_an_opened_case_is_announced_to_subscribed_webhooks_without_anonymous_data(
    organisation, survey
):
    # given: an endpoint for case events, and an anonymous detractor
    endpoint = WebhookEndpointFactory(organisation=organisation, events=["case.opened"])
    survey.anonymity = "anonymous"
    survey.save(update_fields=["anonymity"])
    response = ResponseFactory(survey=survey, is_anonymous=True)

    # when
    case = case_open(response=response, reasons=[], at=timezone.now())

    # then
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    event = case.events.get()
    assert delivery.event_id == f"case.opened:{case.pk}:{event.pk}"
    data = delivery.payload["data"]
    assert data["case"]["id"] == case.pk and data["case"]["is_anonymous"] is True
    assert data["respondent"] is None and data["change"]["kind"] == "opened"


def test_an_identified_respondent_who_agreed_is_named_to_webhooks(organisation, survey, member):
    # given
    endpoint = WebhookEndpointFactory(organisation=organisation, events=["case.opened"])

    # when: a member who ticked "contact me" answers as a detractor
    submit(survey, member=member, consent=True, nps=1)

    # then
    data = WebhookDelivery.objects.get(endpoint=endpoint).payload["data"]
    assert data["respondent"] == {
        "member_id": member.pk,
        "name": member.name,
        "email": member.email,
    }


def test_every_change_is_recorded_as_data_and_read_in_words(organisation, staff_client):
    # given
    case = CaseFactory(response__survey__organisation=organisation)
    staff = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    staff.name = "Kim Agent"
    staff.save(update_fields=["name"])

    # when
    case_assign(case=case, assignee=staff, actor=staff)
    case_note_add(case=case, body="Spoke to the customer.\nAll good.", actor=staff)
    cause = RootCauseFactory(organisation=organisation, name="Wrong order")
    case_status_change(
        case=case, status="resolved", resolution="Refund given.", root_cause=cause, actor=staff
    )
    page = staff_client.get(reverse("staff:case_detail", args=[organisation.slug, case.pk]))

    # then
    # (the note, the first thing done on the new case, opened it)
    kinds = [e.kind for e in case.events.all()]
    assert kinds == ["assigned", "note", "status_changed", "status_changed"]
    html = page.content.decode()
    assert "Assigned to Kim Agent" in html
    assert "Note added" in html and "Spoke to the customer.<br>All good." in html
    assert "Status changed from New to Open" in html
    assert "Resolved (was Open), root cause: Wrong order" in html and "Refund given." in html


def test_the_staff_case_page_reads_its_timeline_in_a_fixed_number_of_queries(
    organisation, staff_client, django_assert_max_num_queries
):
    # given
    case = CaseFactory(response__survey__organisation=organisation)
    CaseEventFactory.create_batch(25, case=case)
    page_url = reverse("staff:case_detail", args=[organisation.slug, case.pk])
    staff_client.get(page_url)

    # when / then
    with django_assert_max_num_queries(12):
        assert staff_client.get(page_url).status_code == 200


def test_a_timeline_event_is_written_once(organisation):
    event = CaseEventFactory(case__response__survey__organisation=organisation)

    event.data = {"body": "rewritten"}
    with pytest.raises(CaseEventIsFinal):
        event.save()
    with pytest.raises(CaseEventIsFinal):
        event.delete()


def test_erasing_a_member_scrubs_them_from_notes_and_resolutions(organisation, survey, member):
    # given: notes naming the member, on their case and on another
    response = submit(survey, member=member, nps=1)
    case = Case.objects.get(response=response)
    other = CaseFactory(response__survey=survey)
    case_note_add(case=case, body=f"Called {member.name} at {member.email}.")
    case_note_add(case=other, body=f"Same person as {member.email.upper()}.")
    case_status_change(
        case=case,
        status="resolved",
        resolution=f"{member.name} is happy.",
        root_cause=RootCauseFactory(organisation=organisation),
    )

    # when
    member_erase(member=member)

    # then
    texts = [str(e.data) for e in CaseEvent.objects.all()]
    assert not [t for t in texts if member.email.lower() in t.lower() or member.name in t]
    assert CaseEvent.objects.filter(data__body__icontains="[erased]").count() == 2


def _migration():
    return importlib.import_module("feedback.migrations.0004_case_events")


def test_cases_opened_before_timelines_get_an_opened_event(organisation):
    # given: a case from before timelines, with no events
    case = CaseFactory(response__survey__organisation=organisation, priority="high")

    # when the migration's data step runs
    _migration().opened_events_backfill(django_apps, None)

    # then
    (opened,) = case.events.all()
    assert opened.kind == "opened" and opened.created_at == case.created_at
    assert opened.data == {"reasons": case.reasons, "priority": "high"}
