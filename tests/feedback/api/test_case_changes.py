"""Changing a case through the API: assign, change status, add a note. Each writes one
timeline event, an audit entry and a webhook event in the same transaction; a bad input is
a 400 problem naming the field, a move the case's status does not allow a 409 problem."""

import pytest

from communities.choices import Role
from communities.models import AuditEntry
from communities.services import api_token_create
from communities.webhooks.models import WebhookDelivery
from feedback.choices import CaseStatus
from feedback.models import Case, CaseEvent
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.feedback.api.helpers import identified_case, key_client, role_client, url

pytestmark = pytest.mark.django_db


def _case(organisation, **fields):
    return CaseFactory(response__survey__organisation=organisation, **fields)


def _pointers(answer) -> list[str]:
    assert answer["Content-Type"].startswith("application/problem+json"), answer.content
    return [error["pointer"] for error in answer.json()["errors"]]


# --- assign ------------------------------------------------------------------------------


def test_an_agent_assigns_a_case_to_a_colleague_and_it_is_recorded(organisation):
    # given
    case = _case(organisation)
    client, me = role_client(organisation)
    colleague = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user

    # when
    answer = client.post(
        url("case_assign", organisation, case.pk), {"assignee": colleague.pk}, format="json"
    )

    # then: the case, its timeline and the audit log say so
    assert answer.status_code == 200, answer.content
    assert answer.json()["assignee"] == {"id": colleague.pk, "name": colleague.name}
    event = answer.json()["timeline"][-1]
    assert event["kind"] == "assigned" and event["assignee"]["id"] == colleague.pk
    assert event["text"] == f"Assigned to {colleague.name}"
    assert event["actor"]["id"] == me.pk
    assert Case.objects.get(pk=case.pk).assignee == colleague
    entry = AuditEntry.objects.get(action="case.assign")
    assert entry.actor == me and entry.changes == {"assignee": [None, colleague.email]}


@pytest.mark.parametrize("who", ["analyst", "other_organisations_agent", "member", "nobody"])
def test_a_case_is_assigned_only_to_someone_who_works_cases_here(
    organisation, other_organisation, who
):
    # given
    case = _case(organisation)
    client, _me = role_client(organisation)
    assignee_id = {
        "analyst": lambda: StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user.pk,
        "other_organisations_agent": lambda: (
            StaffRoleFactory(organisation=other_organisation, role=Role.AGENT).user.pk
        ),
        "member": lambda: case.response.survey.organisation.pk * 0 + 10**9,
        "nobody": lambda: 2**62,
    }[who]()

    # when
    answer = client.post(
        url("case_assign", organisation, case.pk), {"assignee": assignee_id}, format="json"
    )

    # then: a body of the right shape that the organisation's staff refuses (422)
    assert answer.status_code == 422
    assert _pointers(answer) == ["/assignee"]
    assert Case.objects.get(pk=case.pk).assignee is None and not CaseEvent.objects.exists()


def test_assigning_a_case_to_whoever_has_it_changes_nothing(organisation):
    # given
    client, me = role_client(organisation)
    case = _case(organisation, assignee=me)

    # when
    answer = client.post(
        url("case_assign", organisation, case.pk), {"assignee": me.pk}, format="json"
    )

    # then
    assert answer.status_code == 200
    assert not CaseEvent.objects.exists() and not AuditEntry.objects.exists()


def test_a_case_is_unassigned_with_null(organisation):
    # given
    client, me = role_client(organisation)
    case = _case(organisation, assignee=me)

    # when
    answer = client.post(
        url("case_assign", organisation, case.pk), {"assignee": None}, format="json"
    )

    # then
    assert answer.status_code == 200 and answer.json()["assignee"] is None
    assert answer.json()["timeline"][-1]["text"] == "Unassigned"


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (CaseStatus.NEW, CaseStatus.OPEN),
        (CaseStatus.OPEN, CaseStatus.WAITING),
        (CaseStatus.WAITING, CaseStatus.OPEN),
    ],
)
def test_a_working_case_moves_between_working_statuses(organisation, start, to):
    # given
    case = _case(organisation, status=start)
    client, _me = role_client(organisation)

    # when
    answer = client.post(url("case_status", organisation, case.pk), {"status": to}, format="json")

    # then
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == to
    event = answer.json()["timeline"][-1]
    assert (event["status_from"], event["status_to"]) == (start, to)


def test_resolving_a_case_needs_a_resolution(organisation):
    # given
    case = _case(organisation)
    client, _me = role_client(organisation)
    status_url = url("case_status", organisation, case.pk)
    cause = RootCauseFactory(organisation=organisation).pk

    # when
    missing = client.post(status_url, {"status": "resolved"}, format="json")
    blank = client.post(
        status_url, {"status": "resolved", "resolution": "   ", "root_cause": cause}, format="json"
    )
    resolved = client.post(
        status_url,
        {"status": "resolved", "resolution": "Refunded the coffee.", "root_cause": cause},
        format="json",
    )

    # then
    assert missing.status_code == 400 and _pointers(missing) == ["/resolution", "/root_cause"]
    assert blank.status_code == 400 and _pointers(blank) == ["/resolution"]
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolved_at"] is not None
    assert body["resolution"] == "Refunded the coffee."
    assert body["timeline"][-1]["body"] == "Refunded the coffee."
    assert AuditEntry.objects.get(action="case.status").changes == {
        "status": ["new", "resolved"],
        "resolution": ["", "Refunded the coffee."],
        "root_cause": [None, cause],
    }


def test_a_resolved_case_can_only_be_reopened(organisation):
    # given
    case = _case(organisation)
    client, _me = role_client(organisation)
    status_url = url("case_status", organisation, case.pk)
    cause = RootCauseFactory(organisation=organisation).pk
    client.post(
        status_url,
        {"status": "resolved", "resolution": "Done.", "root_cause": cause},
        format="json",
    )

    # when
    waiting = client.post(status_url, {"status": "waiting"}, format="json")
    again = client.post(
        status_url,
        {"status": "resolved", "resolution": "Twice.", "root_cause": cause},
        format="json",
    )
    reopened = client.post(status_url, {"status": "open"}, format="json")

    # then
    assert waiting.status_code == 409 and again.status_code == 409
    assert waiting["Content-Type"].startswith("application/problem+json")
    assert waiting.json()["detail"] == "A resolved case can only be reopened or closed."
    assert reopened.status_code == 200
    assert reopened.json()["resolved_at"] is None and reopened.json()["resolution"] == ""
    assert reopened.json()["timeline"][-1]["text"] == "Reopened"


def test_moving_a_case_to_the_status_it_has_is_a_conflict(organisation):
    case = _case(organisation, status=CaseStatus.WAITING)
    client, _me = role_client(organisation)

    answer = client.post(
        url("case_status", organisation, case.pk), {"status": "waiting"}, format="json"
    )

    assert answer.status_code == 409 and not CaseEvent.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"status": "in_progress"}, {"status": None}, {"resolution": "x"}, ["open"]]
)
def test_a_status_change_refuses_what_is_not_one(organisation, body):
    case = _case(organisation)
    client, _me = role_client(organisation)

    answer = client.post(url("case_status", organisation, case.pk), body, format="json")

    assert answer.status_code == 400 and not CaseEvent.objects.exists()


# --- notes -------------------------------------------------------------------------------


def test_a_note_joins_the_timeline(organisation):
    # given
    case = _case(organisation)
    client, me = role_client(organisation)

    # when
    answer = client.post(
        url("case_note_add", organisation, case.pk),
        {"body": "  Left a voicemail.  "},
        format="json",
    )

    # then
    assert answer.status_code == 201, answer.content
    assert answer.json()["kind"] == "note" and answer.json()["body"] == "Left a voicemail."
    assert CaseEvent.objects.get(kind="note").data == {"body": "Left a voicemail."}
    # the first thing done on the new case: it is being worked now
    case.refresh_from_db()
    assert case.status == "open"
    assert AuditEntry.objects.get(action="case.note_add").actor == me


@pytest.mark.parametrize(
    ("body", "status"), [("x" * 10_000, 201), ("x" * 10_001, 400), ("", 400), (" \n ", 400)]
)
def test_a_note_holds_one_to_ten_thousand_characters(organisation, body, status):
    case = _case(organisation)
    client, _me = role_client(organisation)

    answer = client.post(url("case_note_add", organisation, case.pk), {"body": body}, format="json")

    assert answer.status_code == status
    if status == 400:
        assert _pointers(answer) == ["/body"]


# --- API keys, scopes and tenants ------------------------------------------------------------


def test_a_keys_change_names_the_key_and_no_person(organisation, survey):
    # given
    case = identified_case(survey)
    key = api_token_create(organisation=organisation, name="Helpdesk", scopes=["cases:write"])[1]

    # when
    answer = key_client(key).post(
        url("case_note_add", organisation, case.pk), {"body": "Ticket #812 opened."}, format="json"
    )

    # then
    assert answer.status_code == 201, answer.content
    assert answer.json()["actor"] == {"type": "api_key", "id": None, "name": "API key “Helpdesk”"}
    event = CaseEvent.objects.get(kind="note")
    assert event.actor is None and event.data["api_key"] == "Helpdesk"
    assert AuditEntry.objects.get(action="case.note_add").actor is None


def test_a_read_only_key_may_read_cases_but_not_change_them(organisation):
    # given
    case = _case(organisation)
    key = api_token_create(organisation=organisation, name="Dashboard", scopes=["cases:read"])[1]
    client = key_client(key)

    # when / then
    assert client.get(url("case_detail", organisation, case.pk)).status_code == 200
    refused = client.post(url("case_note_add", organisation, case.pk), {"body": "x"}, format="json")
    assert refused.status_code == 403 and not CaseEvent.objects.exists()


def test_a_key_without_the_cases_scope_is_refused(organisation):
    key = api_token_create(organisation=organisation, name="Results", scopes=["results:read"])[1]

    assert key_client(key).get(url("case_list", organisation)).status_code == 403


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("case_assign", {"assignee": None}),
        ("case_status", {"status": "open"}),
        ("case_note_add", {"body": "Hello"}),
    ],
)
def test_another_organisations_case_cannot_be_changed(
    organisation, other_organisation, api, name, body
):
    # given: a case of another organisation, changed under mine with my key and my session
    theirs = _case(other_organisation)
    client, _me = role_client(organisation)

    # when / then
    assert api.post(url(name, organisation, theirs.pk), body, format="json").status_code == 404
    assert client.post(url(name, organisation, theirs.pk), body, format="json").status_code == 404
    assert (
        client.post(url(name, other_organisation, theirs.pk), body, format="json").status_code
        == 404
    )
    assert not CaseEvent.objects.exists()


def test_a_retried_note_with_the_same_idempotency_key_is_written_once(organisation):
    # given
    case = _case(organisation)
    client, _me = role_client(organisation)
    note_url = url("case_note_add", organisation, case.pk)

    # when
    first = client.post(note_url, {"body": "Once."}, format="json", HTTP_IDEMPOTENCY_KEY="n-1")
    second = client.post(note_url, {"body": "Once."}, format="json", HTTP_IDEMPOTENCY_KEY="n-1")

    # then
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and CaseEvent.objects.filter(kind="note").count() == 1


def test_a_case_change_is_written_with_its_webhook_event(organisation, survey):
    # given: an endpoint subscribed to case events
    from tests.factories.communities import WebhookEndpointFactory

    endpoint = WebhookEndpointFactory(organisation=organisation)
    case = identified_case(survey)
    client, _me = role_client(organisation)

    # when
    client.post(url("case_status", organisation, case.pk), {"status": "waiting"}, format="json")
    client.post(
        url("case_status", organisation, case.pk),
        {
            "status": "resolved",
            "resolution": "Sorted.",
            "root_cause": RootCauseFactory(organisation=organisation).pk,
        },
        format="json",
    )

    # then
    events = CaseEvent.objects.order_by("pk")
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    assert [(d.event, d.event_id) for d in deliveries] == [
        ("case.updated", f"case.updated:{case.pk}:{events[0].pk}"),
        ("case.resolved", f"case.resolved:{case.pk}:{events[1].pk}"),
    ]
