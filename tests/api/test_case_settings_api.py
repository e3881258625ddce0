"""The case settings API: teams, root causes and each priority's service level. Case
workers read them; owners and admins (or a key with "cases:write") change them, audited;
bad, missing, oversized, duplicate and other organisations' input is refused."""

from __future__ import annotations

import pytest

from communities.choices import Role
from communities.models import AuditEntry
from communities.services import api_token_create
from feedback.models import RootCause, SlaPolicy, Team
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory, SlaPolicyFactory
from tests.feedback.api.helpers import key_client, role_client, url

pytestmark = pytest.mark.django_db


def _admin(organisation):
    return role_client(organisation, Role.ADMIN)


# --- teams -------------------------------------------------------------------------------


def test_an_admin_creates_a_team_with_a_lead_and_members(organisation):
    # given
    client, admin = _admin(organisation)
    lead = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user

    # when
    answer = client.post(
        url("case_team_list", organisation),
        {"name": "Siam store", "lead": lead.pk, "members": [agent.pk]},
        format="json",
    )

    # then: the lead is a member too, and the change is audited
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["name"] == "Siam store" and body["lead"] == lead.pk
    assert body["members"] == sorted([lead.pk, agent.pk])
    assert answer["Location"].endswith(f"/teams/{body['id']}/")
    assert AuditEntry.objects.get(action="team.save").actor == admin


def test_an_agent_reads_teams_but_cannot_change_them(organisation):
    TeamFactory(organisation=organisation, name="Front desk")
    client, _agent = role_client(organisation, Role.AGENT)

    listed = client.get(url("case_team_list", organisation))
    created = client.post(url("case_team_list", organisation), {"name": "X"}, format="json")

    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["results"]] == ["Front desk"]
    assert created.status_code == 403
    assert not Team.objects.filter(name="X").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 12},
        {"name": "x" * 101},
        {"name": "Ok", "members": "1"},
        {"name": "Ok", "members": [1] * 501},
        {"name": "Ok", "lead": "one"},
        {"name": "Ok", "colour": "red"},
    ],
)
def test_a_malformed_missing_or_oversized_team_is_a_400(organisation, body):
    client, _admin_user = _admin(organisation)

    answer = client.post(url("case_team_list", organisation), body, format="json")

    assert answer.status_code == 400, answer.content
    assert not Team.objects.exists()


def test_a_duplicate_team_name_is_refused_in_any_case(organisation):
    TeamFactory(organisation=organisation, name="Siam store")
    client, _admin_user = _admin(organisation)

    answer = client.post(url("case_team_list", organisation), {"name": "SIAM STORE"}, format="json")

    assert answer.status_code == 422
    assert Team.objects.count() == 1


def test_a_team_cannot_take_someone_of_another_organisation(organisation, other_organisation):
    client, _admin_user = _admin(organisation)
    outsider = StaffRoleFactory(organisation=other_organisation, role=Role.AGENT).user

    as_member = client.post(
        url("case_team_list", organisation), {"name": "A", "members": [outsider.pk]}, format="json"
    )
    as_lead = client.post(
        url("case_team_list", organisation), {"name": "B", "lead": outsider.pk}, format="json"
    )
    unknown = client.post(
        url("case_team_list", organisation), {"name": "C", "members": [99_999_999]}, format="json"
    )

    assert (as_member.status_code, as_lead.status_code, unknown.status_code) == (422, 422, 422)
    assert not Team.objects.exists()


def test_a_team_is_renamed_and_deleted_its_cases_staying(organisation):
    # given
    team = TeamFactory(organisation=organisation, name="Old")
    case = CaseFactory(response__survey__organisation=organisation, team=team)
    client, _admin_user = _admin(organisation)
    detail = url("case_team_detail", organisation, team.pk)

    # when
    renamed = client.patch(detail, {"name": "New"}, format="json")
    deleted = client.delete(detail)

    # then
    assert renamed.status_code == 200 and renamed.json()["name"] == "New"
    assert deleted.status_code == 204
    case.refresh_from_db()
    assert case.team is None
    assert AuditEntry.objects.filter(action="team.delete").exists()


def test_another_organisation_s_team_is_not_found(organisation, other_organisation):
    theirs = TeamFactory(organisation=other_organisation, name="Theirs")
    client, _admin_user = _admin(organisation)
    detail = url("case_team_detail", organisation, theirs.pk)

    assert client.get(detail).status_code == 404
    assert client.patch(detail, {"name": "Mine"}, format="json").status_code == 404
    assert client.delete(detail).status_code == 404
    # and through the other organisation's address, which this admin is not staff of
    assert client.get(url("case_team_list", other_organisation)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


# --- root causes -------------------------------------------------------------------------


def test_root_causes_are_added_renamed_retired_and_deleted(organisation):
    client, _admin_user = _admin(organisation)

    created = client.post(
        url("case_root_cause_list", organisation), {"name": "Cold food"}, format="json"
    )
    pk = created.json()["id"]
    detail = url("case_root_cause_detail", organisation, pk)
    retired = client.patch(detail, {"name": "Food too cold", "active": False}, format="json")
    deleted = client.delete(detail)

    assert created.status_code == 201 and created.json()["active"] is True
    assert retired.status_code == 200
    assert (retired.json()["name"], retired.json()["active"]) == ("Food too cold", False)
    assert deleted.status_code == 204 and not RootCause.objects.exists()
    assert AuditEntry.objects.filter(action="root_cause.delete").exists()


def test_a_root_cause_cases_are_filed_under_is_retired_not_deleted(organisation):
    cause = RootCauseFactory(organisation=organisation)
    CaseFactory(
        response__survey__organisation=organisation,
        status="resolved",
        root_cause=cause,
        resolution="Done.",
        resolved_at="2026-01-01T00:00:00Z",
    )
    client, _admin_user = _admin(organisation)

    answer = client.delete(url("case_root_cause_detail", organisation, cause.pk))

    assert answer.status_code == 409
    assert RootCause.objects.filter(pk=cause.pk).exists()


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "A", "active": "no"}, {"name": []}]
)
def test_a_malformed_root_cause_is_a_400(organisation, body):
    client, _admin_user = _admin(organisation)

    answer = client.post(url("case_root_cause_list", organisation), body, format="json")

    assert answer.status_code == 400
    assert not RootCause.objects.exists()


def test_a_duplicate_root_cause_and_another_organisation_s_are_refused(
    organisation, other_organisation
):
    RootCauseFactory(organisation=organisation, name="Late")
    theirs = RootCauseFactory(organisation=other_organisation, name="Theirs")
    client, _admin_user = _admin(organisation)

    duplicate = client.post(
        url("case_root_cause_list", organisation), {"name": "late"}, format="json"
    )
    foreign = client.patch(
        url("case_root_cause_detail", organisation, theirs.pk), {"name": "x"}, format="json"
    )

    assert (duplicate.status_code, foreign.status_code) == (422, 404)


# --- service levels ----------------------------------------------------------------------


def test_each_priority_s_service_level_is_listed_with_the_defaults(organisation, settings):
    SlaPolicyFactory(
        organisation=organisation,
        priority="high",
        first_response_minutes=30,
        resolution_minutes=120,
    )
    client, _agent = role_client(organisation, Role.AGENT)

    answer = client.get(url("case_sla_policy_list", organisation))

    assert answer.status_code == 200
    rows = {row["priority"]: row for row in answer.json()}
    assert rows["high"] == {
        "priority": "high",
        "first_response_minutes": 30,
        "resolution_minutes": 120,
        "default": False,
    }
    normal = settings.CASES_SLA_DEFAULTS["normal"]
    assert rows["normal"]["default"] is True
    assert rows["normal"]["resolution_minutes"] == normal["resolution"]


def test_a_priority_s_service_level_is_set_changed_and_removed(organisation):
    client, _admin_user = _admin(organisation)
    body = {"priority": "high", "first_response_minutes": 60, "resolution_minutes": 240}

    created = client.post(url("case_sla_policy_list", organisation), body, format="json")
    again = client.post(url("case_sla_policy_list", organisation), body, format="json")
    detail = url("case_sla_policy_detail", organisation, "high")
    changed = client.patch(detail, {"resolution_minutes": 480}, format="json")
    removed = client.delete(detail)

    assert created.status_code == 201 and created.json()["default"] is False
    assert again.status_code == 409
    assert changed.status_code == 200 and changed.json()["resolution_minutes"] == 480
    assert removed.status_code == 204 and not SlaPolicy.objects.exists()
    assert AuditEntry.objects.filter(action="sla_policy.save").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"priority": "urgent", "first_response_minutes": 1, "resolution_minutes": 2},
        {"priority": "high", "first_response_minutes": 0, "resolution_minutes": 2},
        {"priority": "high", "first_response_minutes": "60", "resolution_minutes": 120},
        {"priority": "high", "first_response_minutes": 60, "resolution_minutes": 10**12},
        {"priority": "high", "first_response_minutes": 1.5, "resolution_minutes": 2},
    ],
)
def test_a_malformed_or_oversized_service_level_is_a_400(organisation, body):
    client, _admin_user = _admin(organisation)

    answer = client.post(url("case_sla_policy_list", organisation), body, format="json")

    assert answer.status_code == 400
    assert not SlaPolicy.objects.exists()


def test_a_first_response_due_after_the_resolution_is_refused(organisation):
    client, _admin_user = _admin(organisation)

    answer = client.post(
        url("case_sla_policy_list", organisation),
        {"priority": "low", "first_response_minutes": 600, "resolution_minutes": 60},
        format="json",
    )

    assert answer.status_code == 422
    assert "first_response_minutes" in str(answer.content)


def test_an_agent_cannot_change_service_levels_and_other_tenants_are_apart(
    organisation, other_organisation
):
    SlaPolicyFactory(
        organisation=other_organisation,
        priority="high",
        first_response_minutes=30,
        resolution_minutes=60,
    )
    agent_client, _agent = role_client(organisation, Role.AGENT)
    admin_client, _admin_user = _admin(organisation)

    refused = agent_client.post(
        url("case_sla_policy_list", organisation),
        {"priority": "high", "first_response_minutes": 5, "resolution_minutes": 10},
        format="json",
    )
    theirs = admin_client.patch(
        url("case_sla_policy_detail", organisation, "high"),
        {"resolution_minutes": 90},
        format="json",
    )

    assert refused.status_code == 403
    assert theirs.status_code == 404  # this organisation has no own "high" policy
    assert SlaPolicy.objects.get().resolution_minutes == 60


# --- keys --------------------------------------------------------------------------------


def test_a_key_reads_with_cases_read_and_writes_only_with_cases_write(organisation):
    reader = key_client(
        api_token_create(organisation=organisation, name="Board", scopes=["cases:read"])[1]
    )
    writer = key_client(
        api_token_create(organisation=organisation, name="Helpdesk", scopes=["cases:write"])[1]
    )

    read = reader.get(url("case_root_cause_list", organisation))
    refused = reader.post(url("case_root_cause_list", organisation), {"name": "A"}, format="json")
    written = writer.post(url("case_root_cause_list", organisation), {"name": "B"}, format="json")

    assert read.status_code == 200
    assert refused.status_code == 403
    assert written.status_code == 201
    assert AuditEntry.objects.get(action="root_cause.save").actor is None


def test_a_retried_create_with_the_same_idempotency_key_is_written_once(organisation):
    client, _admin_user = _admin(organisation)
    list_url = url("case_root_cause_list", organisation)

    first = client.post(list_url, {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="rc-1")
    second = client.post(list_url, {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="rc-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and RootCause.objects.count() == 1
