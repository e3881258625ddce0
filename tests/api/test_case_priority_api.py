"""A case's priority set through the cases API (PATCH on the case): the same service as
the case page, so the due times follow the new priority's service level, with a timeline
event and an audit entry saying what they were before; bad, missing, extra and
cross-tenant input refused, and only those who work cases may change it."""

from __future__ import annotations

import datetime as dt

import pytest

from communities.choices import Role
from communities.models import AuditEntry
from communities.services import api_token_create
from feedback.choices import CaseEventKind, CasePriority
from feedback.models import Case, CaseEvent
from feedback.reasons import reason_make
from feedback.services.cases import case_open
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import SlaPolicyFactory
from tests.factories.surveys import ResponseFactory
from tests.feedback.api.helpers import key_client, role_client, url

pytestmark = pytest.mark.django_db

# A Monday, as the working day starts.
OPENED = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


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


def _opened(organisation) -> Case:
    response = ResponseFactory(survey__organisation=organisation)
    return case_open(
        response=response, reasons=[reason_make(code="nps", value=3, threshold=6)], at=OPENED
    )


def _patch(client, organisation, case, body):
    return client.patch(url("case_detail", organisation, case.pk), body, format="json")


def test_an_agent_raises_a_cases_priority_and_its_due_times_follow(organisation, policies):
    # given: a normal case due for a first response at 13:00 and resolved by Tuesday 17:00
    case = _opened(organisation)
    before = (case.first_response_due_at, case.due_at)
    client, me = role_client(organisation)

    # when
    answer = _patch(client, organisation, case, {"priority": "high"})

    # then: answered in 1 h and resolved in 4 h from the opening
    assert answer.status_code == 200, answer.content
    assert answer.json()["priority"] == "high"
    case.refresh_from_db()
    assert case.priority == CasePriority.HIGH
    assert case.first_response_due_at == OPENED + dt.timedelta(hours=1)
    assert case.due_at == OPENED + dt.timedelta(hours=4)
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.PRIORITY_CHANGED)
    assert event.actor == me and (event.data["from"], event.data["to"]) == ("normal", "high")
    entry = AuditEntry.objects.get(action="case.priority")
    assert entry.actor == me
    assert entry.changes["priority"] == ["normal", "high"]
    assert entry.changes["due_at"][0] != entry.changes["due_at"][1]
    assert before != (case.first_response_due_at, case.due_at)


def test_an_api_key_with_the_cases_write_scope_changes_the_priority(organisation, policies):
    # given
    case = _opened(organisation)
    key = api_token_create(organisation=organisation, name="Helpdesk", scopes=["cases:write"])[1]

    # when
    answer = _patch(key_client(key), organisation, case, {"priority": "high"})

    # then: recorded without a person
    assert answer.status_code == 200, answer.content
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.PRIORITY_CHANGED)
    assert event.actor is None


def test_setting_the_priority_the_case_has_changes_nothing(organisation, policies):
    # given
    case = _opened(organisation)
    client, _me = role_client(organisation)

    # when
    answer = _patch(client, organisation, case, {"priority": "normal"})

    # then
    assert answer.status_code == 200
    assert not CaseEvent.objects.filter(kind=CaseEventKind.PRIORITY_CHANGED).exists()
    assert not AuditEntry.objects.filter(action="case.priority").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"priority": "urgent"},
        {"priority": ""},
        {"priority": None},
        {"priority": ["high"]},
        {"priority": "h" * 100_000},
        {"priority": "high", "status": "closed"},
        ["high"],
        "high",
    ],
    ids=["unknown", "empty", "null", "list", "oversized", "extra", "array", "text"],
)
def test_a_body_that_is_not_a_priority_is_refused_and_changes_nothing(organisation, policies, body):
    # given
    case = _opened(organisation)
    client, _me = role_client(organisation)

    # when
    answer = _patch(client, organisation, case, body)

    # then
    assert answer.status_code in (400, 413), answer.content
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL
    assert not CaseEvent.objects.filter(kind=CaseEventKind.PRIORITY_CHANGED).exists()


def test_a_patch_without_a_priority_answers_the_case_unchanged(organisation, policies):
    # given
    case = _opened(organisation)
    client, _me = role_client(organisation)

    # when: a PATCH that names nothing to change
    answer = _patch(client, organisation, case, {})

    # then
    assert answer.status_code == 200, answer.content
    assert answer.json()["priority"] == CasePriority.NORMAL
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL
    assert not CaseEvent.objects.filter(kind=CaseEventKind.PRIORITY_CHANGED).exists()


def test_a_malformed_json_body_is_refused(organisation, policies):
    case = _opened(organisation)
    client, _me = role_client(organisation)

    answer = client.patch(
        url("case_detail", organisation, case.pk), "{priority:", content_type="application/json"
    )

    assert answer.status_code == 400
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL


def test_another_organisations_case_is_not_found_and_keeps_its_priority(
    organisation, other_organisation
):
    # given: a case of the other organisation, patched through this one's address
    theirs = CaseFactory(response__survey__organisation=other_organisation)
    client, _me = role_client(organisation)

    # when
    answer = _patch(client, organisation, theirs, {"priority": "high"})

    # then
    assert answer.status_code == 404
    assert Case.objects.get(pk=theirs.pk).priority == CasePriority.NORMAL


def test_a_key_of_another_organisation_cannot_change_this_ones_case(
    organisation, other_organisation
):
    case = CaseFactory(response__survey__organisation=organisation)
    key = api_token_create(organisation=other_organisation, name="Theirs", scopes=["cases:write"])[
        1
    ]

    answer = _patch(key_client(key), organisation, case, {"priority": "high"})

    assert answer.status_code in (401, 403, 404)
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL


def test_a_read_only_key_cannot_change_the_priority(organisation):
    case = CaseFactory(response__survey__organisation=organisation)
    key = api_token_create(organisation=organisation, name="Reader", scopes=["cases:read"])[1]

    answer = _patch(key_client(key), organisation, case, {"priority": "high"})

    assert answer.status_code == 403
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.AGENT])
def test_those_who_work_cases_may_change_the_priority(organisation, policies, role):
    case = _opened(organisation)
    client, _me = role_client(organisation, role=role)

    answer = _patch(client, organisation, case, {"priority": "low"})

    assert answer.status_code == 200, answer.content
    assert Case.objects.get(pk=case.pk).priority == CasePriority.LOW


def test_an_analyst_cannot_change_the_priority(organisation):
    case = CaseFactory(response__survey__organisation=organisation)
    client, _me = role_client(organisation, role=Role.ANALYST)

    answer = _patch(client, organisation, case, {"priority": "high"})

    assert answer.status_code == 403
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL


def test_someone_signed_out_cannot_change_the_priority(organisation, client):
    case = CaseFactory(response__survey__organisation=organisation)

    answer = client.patch(
        url("case_detail", organisation, case.pk),
        '{"priority": "high"}',
        content_type="application/json",
    )

    assert answer.status_code in (401, 403)
    assert Case.objects.get(pk=case.pk).priority == CasePriority.NORMAL
