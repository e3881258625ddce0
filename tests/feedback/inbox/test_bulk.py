"""Bulk actions in the inbox: the ticked cases assigned or moved, each through the one
service a single case uses, in its own transaction, with a summary of what happened."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from communities.models import AuditEntry
from feedback.choices import CaseEventKind, CaseStatus
from feedback.models import CaseEvent
from tests.factories.communities import OrganisationFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db


def bulk(client, organisation, **data):
    return client.post(reverse("staff:case_bulk", args=[organisation.slug]), data)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_assign_gives_every_ticked_case_to_the_colleague_and_says_so(
    agent_client, organisation, colleague, make_case
):
    # given
    first, second, untouched = make_case(), make_case(), make_case()

    # when
    response = bulk(
        agent_client,
        organisation,
        action="assign",
        assignee=colleague.pk,
        cases=[first.pk, second.pk],
        back="status=open&evil=1",
    )

    # then: both assigned, each with its own timeline event and audit entry
    assert response.status_code == 302
    assert response["Location"].endswith("/cases/?status=open")
    for case in (first, second):
        case.refresh_from_db()
        assert case.assignee == colleague
        assert case.events.filter(kind=CaseEventKind.ASSIGNED).count() == 1
    untouched.refresh_from_db()
    assert untouched.assignee is None
    assert AuditEntry.objects.filter(action="case.assign").count() == 2
    assert said(response) == ["2 cases assigned to Kim Lee."]


def test_bulk_assign_to_me_counts_the_cases_that_were_already_mine(
    agent_client, organisation, agent, make_case
):
    # given
    mine, nobodys = make_case(assignee=agent), make_case()

    # when
    response = bulk(
        agent_client, organisation, action="assign", assignee="me", cases=[mine.pk, nobodys.pk]
    )

    # then
    nobodys.refresh_from_db()
    assert nobodys.assignee == agent
    assert said(response) == ["1 case assigned to Ann Agent. 1 already had that owner."]


def test_bulk_resolve_applies_the_one_resolution_to_every_case(
    agent_client, organisation, make_case
):
    # given
    cases = [make_case(), make_case(status=CaseStatus.WAITING)]

    # when
    response = bulk(
        agent_client,
        organisation,
        action="status",
        status="resolved",
        resolution="Refunded every order from the broken machine.",
        root_cause=RootCauseFactory(organisation=organisation).pk,
        cases=[c.pk for c in cases],
    )

    # then
    for case in cases:
        case.refresh_from_db()
        assert case.status == CaseStatus.RESOLVED
        assert case.resolution == "Refunded every order from the broken machine."
    assert said(response) == ["2 cases moved to Resolved."]


def test_bulk_resolve_without_a_resolution_changes_nothing(agent_client, organisation, make_case):
    # given
    case = make_case()

    # when
    response = bulk(
        agent_client,
        organisation,
        action="status",
        status="resolved",
        resolution="  ",
        cases=[case.pk],
    )

    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert said(response) == [
        "Say how the cases were resolved.",
        "Pick the root cause the cases are resolved under.",
    ]


def test_a_case_that_refuses_is_reported_and_the_others_still_change(
    agent_client, organisation, make_case
):
    # given: one case already resolved (only reopening is allowed from there)
    open_case = make_case()
    resolved = make_case(status=CaseStatus.RESOLVED, resolved_at=timezone.now(), resolution="Done")

    # when
    response = bulk(
        agent_client,
        organisation,
        action="status",
        status="waiting",
        cases=[open_case.pk, resolved.pk],
    )

    # then: one transaction per case
    open_case.refresh_from_db()
    resolved.refresh_from_db()
    assert open_case.status == CaseStatus.WAITING
    assert resolved.status == CaseStatus.RESOLVED
    assert said(response) == [
        "1 case moved to Waiting on customer.",
        f"Case #{resolved.pk} was not changed: A resolved case can only be reopened or closed.",
    ]


@pytest.mark.parametrize("who", ["stranger", "foreign"])
def test_bulk_assign_to_someone_outside_the_case_staff_changes_nothing(
    agent_client, organisation, make_case, who
):
    # given: a user id of no one on the team, or of another organisation's agent
    case = make_case()
    user = UserFactory()
    if who == "foreign":
        from tests.factories.communities import StaffRoleFactory

        StaffRoleFactory(user=user, organisation=OrganisationFactory(), role="agent")

    # when
    response = bulk(agent_client, organisation, action="assign", assignee=user.pk, cases=[case.pk])

    # then
    case.refresh_from_db()
    assert case.assignee is None
    assert said(response) == [
        "Pick someone of this organisation who works cases (an owner, admin or agent)."
    ]


def test_another_organisations_case_cannot_be_ticked(agent_client, organisation, make_case):
    # given
    mine = make_case()
    foreign = CaseFactory(response__survey=SurveyFactory(organisation=OrganisationFactory()))

    # when
    response = bulk(
        agent_client, organisation, action="assign", assignee="me", cases=[mine.pk, foreign.pk]
    )

    # then: refused as a whole
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert mine.assignee is None and foreign.assignee is None
    assert not CaseEvent.objects.filter(kind=CaseEventKind.ASSIGNED).exists()
    assert len(said(response)) == 1


def test_bulk_with_nothing_ticked_asks_for_a_case(agent_client, organisation):
    response = bulk(agent_client, organisation, action="assign", assignee="me")

    assert response.status_code == 302
    assert said(response) == ["Tick at least one case."]
