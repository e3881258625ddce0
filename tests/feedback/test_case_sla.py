"""Service levels: a case's first response and resolution targets are counted in the
organisation's business hours and time zone; a missed target is escalated to the team's
lead by email through the outbox, once per breach."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from feedback.choices import CaseEventKind, CasePriority, CaseStatus, SlaBreach
from feedback.models import Case
from feedback.reasons import reason_make
from feedback.services.cases import case_note_add, case_open, case_status_change
from feedback.services.sla import (
    Hours,
    business_minutes_between,
    business_time_add,
    case_escalation_sweep,
)
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import (
    BusinessHoursFactory,
    RootCauseFactory,
    SlaPolicyFactory,
)
from tests.factories.surveys import ResponseFactory

pytestmark = pytest.mark.django_db

BANGKOK = zoneinfo.ZoneInfo("Asia/Bangkok")
WEEKDAYS_9_TO_5 = Hours((1, 2, 3, 4, 5), dt.time(9), dt.time(17), BANGKOK)


def bkk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BANGKOK)


# --- business time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # inside the day
        (bkk(2026, 12, 7, 10, 0), 60, bkk(2026, 12, 7, 11, 0)),
        # runs past closing into the next morning
        (bkk(2026, 12, 7, 16, 30), 60, bkk(2026, 12, 8, 9, 30)),
        # opened at night: the clock starts at nine
        (bkk(2026, 12, 7, 22, 0), 30, bkk(2026, 12, 8, 9, 30)),
        # opened on Friday afternoon: over the weekend to Monday
        (bkk(2026, 12, 11, 16, 0), 120, bkk(2026, 12, 14, 10, 0)),
        # opened on a Sunday
        (bkk(2026, 12, 13, 12, 0), 8 * 60, bkk(2026, 12, 14, 17, 0)),
    ],
)
def test_business_time_counts_only_working_hours(start, minutes, due):
    assert business_time_add(start=start, minutes=minutes, hours=WEEKDAYS_9_TO_5) == due


def test_business_hours_are_read_in_the_organisations_zone_across_a_clock_change():
    # given: 9–17 in London, where the clocks go back on 25 October 2026
    london = zoneinfo.ZoneInfo("Europe/London")
    hours = Hours((1, 2, 3, 4, 5, 6, 7), dt.time(9), dt.time(17), london)
    saturday_4pm = dt.datetime(2026, 10, 24, 16, 0, tzinfo=london)

    # when: two business hours from Saturday 16:00
    due = business_time_add(start=saturday_4pm, minutes=120, hours=hours)

    # then: one hour on Saturday, one on Sunday from nine, Sunday's own nine o'clock
    assert due == dt.datetime(2026, 10, 25, 10, 0, tzinfo=london)
    assert due.astimezone(dt.UTC).hour == 10  # GMT again after the change


def test_business_minutes_between_is_the_inverse_of_adding_them():
    start = bkk(2026, 12, 11, 15, 20)
    due = business_time_add(start=start, minutes=500, hours=WEEKDAYS_9_TO_5)

    assert business_minutes_between(start=start, end=due, hours=WEEKDAYS_9_TO_5) == 500
    assert business_minutes_between(start=due, end=start, hours=WEEKDAYS_9_TO_5) == -500


def test_hours_with_no_working_day_run_round_the_clock():
    hours = Hours((), dt.time(9), dt.time(17), BANGKOK)
    start = bkk(2026, 12, 12, 23, 0)

    assert business_time_add(start=start, minutes=90, hours=hours) == bkk(2026, 12, 13, 0, 30)


# --- a case's due times ----------------------------------------------------------------


@pytest.fixture
def bangkok_org(organisation):
    organisation.time_zone = "Asia/Bangkok"
    organisation.save(update_fields=["time_zone"])
    return organisation


def test_a_case_is_due_by_its_priority_s_targets_in_business_hours(bangkok_org):
    # given: Bangkok, weekdays 9–17; high priority answers within 1 h, resolves within 4 h
    BusinessHoursFactory(organisation=bangkok_org)
    SlaPolicyFactory(
        organisation=bangkok_org,
        priority=CasePriority.HIGH,
        first_response_minutes=60,
        resolution_minutes=240,
    )
    response = ResponseFactory(survey__organisation=bangkok_org)

    # when: a high-priority case opens on Friday at 16:30
    case = case_open(
        response=response,
        reasons=[reason_make(code="nps", value=0, threshold=6)],
        priority=CasePriority.HIGH,
        at=bkk(2026, 12, 11, 16, 30),
    )

    # then: half an hour on Friday, the rest on Monday
    assert case.status == CaseStatus.NEW
    assert case.first_response_due_at == bkk(2026, 12, 14, 9, 30)
    assert case.due_at == bkk(2026, 12, 14, 12, 30)


def test_without_a_policy_the_default_targets_apply(organisation, settings):
    settings.CASES_SLA_DEFAULTS = {
        **settings.CASES_SLA_DEFAULTS,
        "normal": {"first_response": 30, "resolution": 90},
    }
    response = ResponseFactory(survey__organisation=organisation)

    case = case_open(
        response=response, reasons=[], at=dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    )

    assert case.first_response_due_at == dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    assert case.due_at == dt.datetime(2026, 12, 7, 10, 30, tzinfo=dt.UTC)


def test_the_first_thing_staff_do_is_the_first_response(organisation):
    # given
    case = CaseFactory(response__survey__organisation=organisation)
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user

    # when: a note, then a status change
    case_note_add(case=case, body="Called back.", actor=agent)
    first = Case.objects.get(pk=case.pk).first_response_at
    case_status_change(case=case, status=CaseStatus.WAITING, actor=agent)

    # then: the note was the first response, and it stays so
    assert first is not None
    assert Case.objects.get(pk=case.pk).first_response_at == first


def test_a_reopened_case_gets_its_full_resolution_target_again(organisation):
    # given: a resolved case whose old due time is long past
    case = CaseFactory(
        response__survey__organisation=organisation,
        due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    cause = RootCauseFactory(organisation=organisation)
    case_status_change(
        case=case, status="resolved", resolution="Refund.", root_cause=cause, actor=agent
    )

    # when
    case_status_change(case=case, status="open", actor=agent)

    # then: due again in the future, and no longer resolved
    case.refresh_from_db()
    assert case.due_at > dt.datetime.now(dt.UTC)
    assert (case.resolution, case.root_cause, case.resolved_at) == ("", None, None)


# --- escalation ------------------------------------------------------------------------

PAST = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 1, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(organisation):
    user = UserFactory(email="lead@example.com", name="Lek Lead", locale="th")
    StaffRoleFactory(organisation=organisation, user=user, role=Role.AGENT)
    return user


@pytest.fixture
def overdue_case(organisation, lead):
    team = TeamFactory(organisation=organisation, lead=lead)
    return CaseFactory(
        response__survey__organisation=organisation,
        team=team,
        first_response_due_at=PAST,
        due_at=PAST + dt.timedelta(hours=4),
    )


def test_an_overdue_case_is_escalated_to_its_team_lead_once_per_breach(
    overdue_case, lead, django_capture_on_commit_callbacks
):
    # when: the sweep runs twice
    with django_capture_on_commit_callbacks(execute=False) as queued:
        escalated = case_escalation_sweep(now=NOW)
    again = case_escalation_sweep(now=NOW)

    # then: both targets were missed, each escalated once, each by one email to the lead
    assert (escalated, again) == (2, 0)
    events = overdue_case.events.filter(kind=CaseEventKind.ESCALATED)
    assert sorted(e.data["breach"] for e in events) == [
        SlaBreach.FIRST_RESPONSE,
        SlaBreach.RESOLUTION,
    ]
    emails = OutboundEmail.objects.filter(to_email="lead@example.com")
    assert emails.count() == 2 and len(queued) >= 2, "sent only after commit"
    # in the lead's language (Thai), naming the case
    assert all(e.language == "th" and f"#{overdue_case.pk}" in e.subject for e in emails)


def test_a_case_answered_in_time_escalates_only_its_resolution(overdue_case, lead):
    # given: someone answered the customer
    Case.objects.filter(pk=overdue_case.pk).update(first_response_at=PAST)

    # when
    case_escalation_sweep(now=NOW)

    # then
    (event,) = overdue_case.events.filter(kind=CaseEventKind.ESCALATED)
    assert event.data["breach"] == SlaBreach.RESOLUTION
    assert event.data["to"] == [{"id": lead.pk, "name": "Lek Lead"}]


def test_resolved_and_closed_cases_are_never_escalated(overdue_case):
    Case.objects.filter(pk=overdue_case.pk).update(
        status=CaseStatus.CLOSED, resolved_at=PAST, closed_at=PAST
    )

    assert case_escalation_sweep(now=NOW) == 0
    assert not OutboundEmail.objects.exists()


def test_a_reopened_case_that_misses_its_new_target_is_escalated_again(overdue_case):
    # given: its resolution breach was escalated
    Case.objects.filter(pk=overdue_case.pk).update(first_response_at=PAST)
    case_escalation_sweep(now=NOW)

    # when: it is given a new due time (reopened) and misses that too
    new_due = NOW + dt.timedelta(hours=1)
    Case.objects.filter(pk=overdue_case.pk).update(due_at=new_due)
    later = new_due + dt.timedelta(minutes=1)

    # then: a second breach, a second email
    assert case_escalation_sweep(now=later) == 1
    assert OutboundEmail.objects.count() == 2


def test_without_a_team_lead_the_owners_hear_of_it(organisation):
    # given: a case with no team, and an owner and an agent
    owner = StaffRoleFactory(
        organisation=organisation, role=Role.OWNER, user__email="owner@example.com"
    ).user
    StaffRoleFactory(organisation=organisation, role=Role.AGENT, user__email="a@example.com")
    CaseFactory(response__survey__organisation=organisation, due_at=PAST, first_response_at=PAST)

    # when
    case_escalation_sweep(now=NOW)

    # then
    assert list(OutboundEmail.objects.values_list("to_email", flat=True)) == [owner.email]


def test_the_sweep_escalates_at_most_its_batch_and_the_rest_next_time(organisation):
    for _ in range(3):
        CaseFactory(
            response__survey__organisation=organisation, due_at=PAST, first_response_at=PAST
        )

    assert case_escalation_sweep(now=NOW, limit=2) == 2
    assert case_escalation_sweep(now=NOW, limit=2) == 1
    assert case_escalation_sweep(now=NOW, limit=2) == 0


def test_the_beat_runs_the_escalation_sweep_on_its_setting(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["case-escalation-sweep"]

    assert entry["task"] == "feedback.tasks.case_escalation_sweep_task"
    assert entry["schedule"] == float(settings.CASES_ESCALATION_SWEEP_SECONDS)
