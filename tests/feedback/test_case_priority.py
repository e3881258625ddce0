"""A case's priority can change after it opens, and its due times follow the new
priority's service level (with an event on the timeline saying so); and a person's note on
a new case means it is being worked: it moves to open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities.choices import Role
from feedback.choices import CaseEventKind, CasePriority, CaseStatus
from feedback.models import Case
from feedback.reasons import reason_make
from feedback.services.case_priority import case_priority_set
from feedback.services.cases import case_note_add, case_open, case_status_change
from feedback.services.sla import case_sla_times
from feedback.timeline import case_event_text
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import RootCauseFactory, SlaPolicyFactory
from tests.factories.surveys import ResponseFactory

pytestmark = pytest.mark.django_db

# A Monday, as the working day starts.
OPENED = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def agent(organisation):
    return StaffRoleFactory(organisation=organisation, role=Role.AGENT).user


@pytest.fixture
def policies(organisation):
    # Business hours by default (weekdays 9–17): normal answers in 4 h and resolves in
    # 16 h, high answers in 1 h and resolves in 4 h.
    SlaPolicyFactory(
        organisation=organisation,
        priority=CasePriority.NORMAL,
        first_response_minutes=240,
        resolution_minutes=960,
    )
    SlaPolicyFactory(
        organisation=organisation,
        priority=CasePriority.HIGH,
        first_response_minutes=60,
        resolution_minutes=240,
    )


def _opened(organisation, at: dt.datetime = OPENED) -> Case:
    response = ResponseFactory(survey__organisation=organisation)
    return case_open(
        response=response, reasons=[reason_make(code="nps", value=3, threshold=6)], at=at
    )


def test_raising_the_priority_recomputes_both_due_times_from_the_opening(
    organisation, agent, policies
):
    # given: a normal case, due for a first response at 13:00 and resolved by Tuesday 17:00
    case = _opened(organisation)
    assert case.first_response_due_at == OPENED + dt.timedelta(hours=4)
    assert case.due_at == OPENED + dt.timedelta(days=1, hours=8)

    # when
    event = case_priority_set(case=case, priority=CasePriority.HIGH, actor=agent)

    # then: the high targets, counted from when it opened, and the timeline says so
    case.refresh_from_db()
    assert case.priority == CasePriority.HIGH
    assert case.first_response_due_at == OPENED + dt.timedelta(hours=1)
    assert case.due_at == OPENED + dt.timedelta(hours=4)
    assert event.kind == CaseEventKind.PRIORITY_CHANGED
    assert event.actor == agent
    assert event.data["due_at"] == [
        (OPENED + dt.timedelta(days=1, hours=8)).isoformat(),
        (OPENED + dt.timedelta(hours=4)).isoformat(),
    ]
    assert case_event_text(event) == ("Priority changed from Normal to High; due times recomputed")


def test_a_reopened_case_s_resolution_clock_counts_from_its_reopening(
    organisation, agent, policies
):
    # given: opened weeks ago, resolved, then reopened now
    weeks_ago = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    case = _opened(organisation, at=weeks_ago)
    cause = RootCauseFactory(organisation=organisation)
    case_status_change(
        case=case, status="resolved", resolution="Done.", root_cause=cause, actor=agent
    )
    case_status_change(case=case, status="open", actor=agent)
    reopened_at = (
        case.events.filter(kind=CaseEventKind.STATUS_CHANGED, data__to="open")
        .latest("created_at")
        .created_at
    )

    # when
    case_priority_set(case=case, priority=CasePriority.HIGH, actor=agent)

    # then: 4 business hours from the reopening, not from the opening
    case.refresh_from_db()
    _first, due = case_sla_times(
        organisation=organisation, priority=CasePriority.HIGH, start=reopened_at
    )
    assert case.due_at == due > weeks_ago + dt.timedelta(hours=4)
    assert case.first_response_due_at == weeks_ago + dt.timedelta(hours=1)


def test_the_same_priority_changes_nothing_and_an_unknown_one_is_refused(organisation, agent):
    case = _opened(organisation)
    due = case.due_at

    assert case_priority_set(case=case, priority=CasePriority.NORMAL, actor=agent) is None
    with pytest.raises(ValidationError) as refused:
        case_priority_set(case=case, priority="urgent", actor=agent)

    assert "priority" in refused.value.message_dict
    case.refresh_from_db()
    assert (case.priority, case.due_at) == (CasePriority.NORMAL, due)
    assert not case.events.filter(kind=CaseEventKind.PRIORITY_CHANGED).exists()


def test_an_agent_changes_the_priority_from_the_case_page(client, organisation, agent, policies):
    # given
    case = _opened(organisation)
    client.force_login(agent)
    url = reverse("staff:case_priority", args=[organisation.slug, case.pk])

    # when
    answer = client.post(url, {"priority": "high"}, follow=True)

    # then
    assert answer.status_code == 200
    case.refresh_from_db()
    assert case.priority == CasePriority.HIGH
    assert "Priority changed from Normal to High" in answer.content.decode()


@pytest.mark.parametrize(
    "posted", [{}, {"priority": ""}, {"priority": "urgent"}, {"priority": "h" * 10_000}]
)
def test_a_missing_malformed_or_oversized_priority_changes_nothing(
    client, organisation, agent, posted
):
    case = _opened(organisation)
    client.force_login(agent)

    answer = client.post(
        reverse("staff:case_priority", args=[organisation.slug, case.pk]), posted, follow=True
    )

    assert answer.status_code == 200
    assert "Pick one of the priorities." in answer.content.decode()
    case.refresh_from_db()
    assert case.priority == CasePriority.NORMAL


def test_another_organisation_s_case_cannot_be_reprioritised(
    client, organisation, other_organisation, agent
):
    # given: a case of another organisation, and an agent of this one
    theirs = CaseFactory(response__survey__organisation=other_organisation)
    client.force_login(agent)

    # when: asked through either organisation's address
    mine_url = reverse("staff:case_priority", args=[organisation.slug, theirs.pk])
    their_url = reverse("staff:case_priority", args=[other_organisation.slug, theirs.pk])

    # then
    assert client.post(mine_url, {"priority": "high"}).status_code == 404
    assert client.post(their_url, {"priority": "high"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.priority == CasePriority.NORMAL


# --- a note on a new case --------------------------------------------------------------


def test_a_person_s_note_on_a_new_case_opens_it(organisation, agent):
    # given
    case = CaseFactory(response__survey__organisation=organisation)
    assert case.status == CaseStatus.NEW

    # when
    note = case_note_add(case=case, body="Looking into it.", actor=agent)

    # then: open, its first response recorded, and the move on the timeline after the note
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.first_response_at is not None
    moved = case.events.get(kind=CaseEventKind.STATUS_CHANGED)
    assert (moved.data["from"], moved.data["to"], moved.actor) == ("new", "open", agent)
    assert moved.data["after_note"] == note.pk


def test_a_note_leaves_a_case_that_is_already_worked_where_it_is(organisation, agent):
    case = CaseFactory(response__survey__organisation=organisation, status=CaseStatus.WAITING)

    case_note_add(case=case, body="Still waiting for the customer.", actor=agent)

    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING
    assert not case.events.filter(kind=CaseEventKind.STATUS_CHANGED).exists()


def test_a_note_written_by_nobody_does_not_open_a_new_case(organisation):
    # Chorus itself (no person, no API key) noting something is not staff acting on it.
    case = CaseFactory(response__survey__organisation=organisation)

    case_note_add(case=case, body="Imported from the old helpdesk.")

    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert case.first_response_at is None
