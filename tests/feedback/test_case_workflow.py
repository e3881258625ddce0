"""A case's workflow: new → open → waiting on the customer → resolved (with a root cause
of the organisation's own list and a resolution) → closed, and reopened; routed to a
team; found in the inbox by team, by a missed target, and closed in bulk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from feedback.choices import CaseEventKind, CaseStatus
from feedback.models import Case
from feedback.services.cases import CaseTransitionRefused, case_status_change, case_team_set
from feedback.timeline import case_event_text
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.feedback.inbox.conftest import inbox_url, listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(organisation):
    return StaffRoleFactory(organisation=organisation, role=Role.AGENT).user


@pytest.fixture
def cause(organisation):
    return RootCauseFactory(organisation=organisation, name="Cold food")


def _case(organisation, **fields):
    return CaseFactory(response__survey__organisation=organisation, **fields)


def test_a_case_goes_the_whole_way_and_back(organisation, agent, cause):
    # given
    case = _case(organisation)
    assert case.status == CaseStatus.NEW

    # when: worked, waited on, resolved, closed, then reopened
    for status in ("open", "waiting", "open"):
        case_status_change(case=case, status=status, actor=agent)
    case_status_change(
        case=case, status="resolved", resolution="Refunded.", root_cause=cause, actor=agent
    )
    case_status_change(case=case, status="closed", actor=agent)
    closed = Case.objects.get(pk=case.pk)
    case_status_change(case=case, status="open", actor=agent)

    # then: closing kept how and why it was resolved; reopening cleared them
    assert (closed.root_cause, closed.resolution) == (cause, "Refunded.")
    assert closed.closed_at is not None and closed.resolved_at is not None
    reopened = Case.objects.get(pk=case.pk)
    assert reopened.status == CaseStatus.OPEN
    assert (reopened.root_cause, reopened.resolution, reopened.closed_at) == (None, "", None)
    texts = [case_event_text(e) for e in reopened.events.filter(kind="status_changed")]
    assert texts == [
        "Status changed from New to Open",
        "Status changed from Open to Waiting on customer",
        "Status changed from Waiting on customer to Open",
        "Resolved (was Open), root cause: Cold food",
        "Closed",
        "Reopened",
    ]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("new", "closed"),
        ("open", "new"),
        ("waiting", "closed"),
        ("closed", "closed"),
        ("closed", "waiting"),
    ],
)
def test_a_move_the_workflow_does_not_have_is_refused(organisation, agent, start, target):
    done = {"resolved_at": timezone.now(), "closed_at": timezone.now()} if start == "closed" else {}
    case = _case(organisation, status=start, **done)

    with pytest.raises(CaseTransitionRefused):
        case_status_change(case=case, status=target, actor=agent)
    assert Case.objects.get(pk=case.pk).status == start


def test_resolving_needs_one_of_the_organisations_offered_root_causes(
    organisation, other_organisation, agent
):
    # given
    case = _case(organisation)
    theirs = RootCauseFactory(organisation=other_organisation)
    retired = RootCauseFactory(organisation=organisation, active=False)

    # when / then: none, another organisation's, a retired one, one that does not exist
    for root_cause in (None, theirs, retired.pk, 10**9):
        with pytest.raises(ValidationError) as refused:
            case_status_change(
                case=case, status="resolved", resolution="x", root_cause=root_cause, actor=agent
            )
        assert "root_cause" in refused.value.error_dict
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    assert not case.events.exists()


def test_a_case_is_routed_to_one_of_its_organisations_teams(
    organisation, other_organisation, agent
):
    # given
    case = _case(organisation)
    store = TeamFactory(organisation=organisation, name="Siam store")
    theirs = TeamFactory(organisation=other_organisation)

    # when
    event = case_team_set(case=case, team=store, actor=agent)
    again = case_team_set(case=case, team=store, actor=agent)
    with pytest.raises(ValidationError):
        case_team_set(case=case, team=theirs, actor=agent)

    # then
    assert Case.objects.get(pk=case.pk).team == store
    assert again is None
    assert case_event_text(event) == "Moved to the team Siam store"


def test_the_case_page_moves_a_case_to_a_team_and_refuses_another_organisations(
    client, organisation, other_organisation, agent
):
    # given
    client.force_login(agent)
    case = _case(organisation)
    theirs = TeamFactory(organisation=other_organisation)
    store = TeamFactory(organisation=organisation, name="Siam store")
    team_url = reverse("staff:case_team", args=[organisation.slug, case.pk])

    # when
    refused = client.post(team_url, {"team": theirs.pk}, follow=True)
    bad = client.post(team_url, {"team": "x" * 500}, follow=True)
    moved = client.post(team_url, {"team": store.pk}, follow=True)

    # then
    assert "Pick one of this organisation" in refused.content.decode()
    assert "Pick one of this organisation" in bad.content.decode()
    assert "Case moved to the team Siam store." in moved.content.decode()
    assert Case.objects.get(pk=case.pk).team == store


def test_the_inbox_filters_by_team_and_by_any_missed_target(client, organisation, agent):
    # given
    client.force_login(agent)
    store = TeamFactory(organisation=organisation)
    past = timezone.now() - dt.timedelta(hours=1)
    future = timezone.now() + dt.timedelta(hours=5)
    in_team = _case(organisation, team=store, due_at=future)
    unanswered = _case(organisation, first_response_due_at=past, due_at=future)
    late = _case(organisation, first_response_at=past, due_at=past)
    _case(organisation, due_at=future, first_response_due_at=future)
    _case(
        organisation,
        status=CaseStatus.CLOSED,
        due_at=past,
        resolved_at=past,
        closed_at=past,
    )

    # when / then
    assert listed(client.get(inbox_url(organisation, team=store.pk))) == [in_team.pk]
    assert set(listed(client.get(inbox_url(organisation, overdue="on")))) == {
        unanswered.pk,
        late.pk,
    }
    assert len(listed(client.get(inbox_url(organisation, status="active")))) == 4


def test_the_inbox_ignores_another_organisations_team(client, organisation, other_organisation):
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    client.force_login(agent)
    theirs = TeamFactory(organisation=other_organisation)
    mine = _case(organisation)

    page = client.get(inbox_url(organisation, team=theirs.pk))

    assert listed(page) == [mine.pk] and "team" in page.context["filter_form"].errors


def test_resolved_cases_are_closed_in_bulk(client, organisation, agent):
    # given: two resolved cases and one still open
    client.force_login(agent)
    now = timezone.now()
    resolved = [_case(organisation, status="resolved", resolved_at=now) for _ in range(2)]
    still_open = _case(organisation, status="open")

    # when
    page = client.post(
        reverse("staff:case_bulk", args=[organisation.slug]),
        {
            "action": "status",
            "status": "closed",
            "cases": [c.pk for c in (*resolved, still_open)],
        },
        follow=True,
    )

    # then: the resolved ones closed; the open one said why not
    statuses = {c.pk: c.status for c in Case.objects.all()}
    assert [statuses[c.pk] for c in resolved] == ["closed", "closed"]
    assert statuses[still_open.pk] == "open"
    html = page.content.decode()
    assert "2 cases moved to Closed." in html and f"Case #{still_open.pk} was not changed" in html


def test_bulk_resolve_refuses_another_organisations_root_cause(
    client, organisation, other_organisation, agent
):
    client.force_login(agent)
    case = _case(organisation)
    theirs = RootCauseFactory(organisation=other_organisation)

    page = client.post(
        reverse("staff:case_bulk", args=[organisation.slug]),
        {
            "action": "status",
            "status": "resolved",
            "resolution": "Done",
            "root_cause": theirs.pk,
            "cases": [case.pk],
        },
        follow=True,
    )

    assert Case.objects.get(pk=case.pk).status == "new"
    assert "Pick one of this organisation&#x27;s root causes." in page.content.decode()


def test_an_escalation_and_the_recovery_events_are_put_into_words():
    from feedback.models import CaseEvent

    escalated = CaseEvent(
        kind=CaseEventKind.ESCALATED, data={"breach": "resolution", "to": [{"name": "Lek"}]}
    )
    assert case_event_text(escalated) == "Resolution target missed; escalated to Lek"
