"""The case settings owners and admins keep: teams, root causes and service levels. Each
form refuses malformed, missing, oversized, duplicate and other organisations' input,
writing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from communities.choices import Role
from communities.models import AuditEntry
from feedback.models import BusinessHours, Case, RootCause, SlaPolicy, Team
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, organisation):
    admin = StaffRoleFactory(organisation=organisation, role=Role.ADMIN).user
    client.force_login(admin)
    return client


@pytest.fixture
def agents(organisation):
    return [StaffRoleFactory(organisation=organisation, role=Role.AGENT).user for _ in range(2)]


def _url(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


# --- teams -------------------------------------------------------------------------------


def test_an_admin_creates_a_team_with_a_lead_and_members(admin_client, organisation, agents):
    lead, member = agents

    page = admin_client.post(
        _url("team_list", organisation),
        {"name": "  Siam   store ", "lead": lead.pk, "members": [member.pk]},
    )

    assert page.status_code == 302
    team = Team.objects.get(organisation=organisation)
    assert team.name == "Siam store" and team.lead == lead
    assert set(team.members.all()) == {lead, member}, "the lead is one of the team"
    assert AuditEntry.objects.filter(action="team.save").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "siam STORE"}, "name"),  # the same name as another team
        ({"name": "Night shift", "lead": "abc"}, "lead"),
        ({"name": "Night shift", "members": ["99999999"]}, "members"),
    ],
)
def test_a_team_form_refuses_bad_input(admin_client, organisation, data, field):
    TeamFactory(organisation=organisation, name="Siam Store")

    page = admin_client.post(_url("team_list", organisation), data)

    assert page.status_code == 400 and field in page.context["form"].errors
    assert Team.objects.count() == 1


def test_a_team_takes_no_one_from_another_organisation(
    admin_client, organisation, other_organisation
):
    outsider = StaffRoleFactory(organisation=other_organisation, role=Role.AGENT).user
    analyst = StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user

    for person in (outsider, analyst):
        page = admin_client.post(
            _url("team_list", organisation), {"name": "Team", "members": [person.pk]}
        )
        assert page.status_code == 400 and "members" in page.context["form"].errors
    assert not Team.objects.exists()


def test_an_admin_edits_a_team_and_deleting_it_keeps_its_cases(admin_client, organisation, agents):
    # given
    team = TeamFactory(organisation=organisation, name="Old")
    case = CaseFactory(response__survey__organisation=organisation, team=team)

    # when
    edited = admin_client.post(
        _url("team_edit", organisation, team.pk), {"name": "New", "members": [agents[0].pk]}
    )
    deleted = admin_client.post(_url("team_delete", organisation, team.pk))

    # then
    assert edited.status_code == 302 and deleted.status_code == 302
    assert not Team.objects.exists()
    assert Case.objects.get(pk=case.pk).team is None


# --- root causes -------------------------------------------------------------------------


def test_an_admin_lists_root_causes_and_retires_one(admin_client, organisation):
    # given
    admin_client.post(_url("root_cause_list", organisation), {"name": "Cold food"})
    cause = RootCause.objects.get(organisation=organisation)

    # when
    admin_client.post(_url("root_cause_edit", organisation, cause.pk), {"name": "Cold food"})

    # then: retired (the box unticked), kept, no longer offered
    cause.refresh_from_db()
    assert cause.active is False
    page = admin_client.get(_url("root_cause_list", organisation))
    assert "No (retired)" in page.content.decode()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "COLD food"])
def test_a_root_cause_needs_a_new_name_of_a_sensible_length(admin_client, organisation, name):
    RootCauseFactory(organisation=organisation, name="Cold food")

    page = admin_client.post(_url("root_cause_list", organisation), {"name": name})

    assert page.status_code == 400 and "name" in page.context["form"].errors
    assert RootCause.objects.count() == 1


# --- service levels ----------------------------------------------------------------------


def _levels(**changes):
    data = {
        "days": ["1", "2", "3", "4", "5", "6"],
        "opens": "08:00",
        "closes": "20:00",
        "high_first_response": "0.5",
        "high_resolution": "4",
        "normal_first_response": "2",
        "normal_resolution": "16",
        "low_first_response": "8",
        "low_resolution": "40",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_sets_business_hours_and_targets(admin_client, organisation):
    # when
    page = admin_client.post(_url("service_levels", organisation), _levels())

    # then
    assert page.status_code == 302
    hours = BusinessHours.objects.get(organisation=organisation)
    assert hours.days == [1, 2, 3, 4, 5, 6]
    assert (hours.opens, hours.closes) == (dt.time(8), dt.time(20))
    high = SlaPolicy.objects.get(organisation=organisation, priority="high")
    assert (high.first_response_minutes, high.resolution_minutes) == (30, 240)
    form = admin_client.get(_url("service_levels", organisation)).context["form"]
    assert form.initial["high_first_response"] == 0.5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"days": None}, "days"),
        ({"days": ["8"]}, "days"),
        ({"opens": "18:00", "closes": "09:00"}, "closes"),
        ({"opens": "nine"}, "opens"),
        ({"high_first_response": "5", "high_resolution": "4"}, "high_first_response"),
        ({"normal_resolution": "100000"}, "normal_resolution"),
        ({"low_resolution": "-1"}, "low_resolution"),
        ({"low_resolution": None}, "low_resolution"),
    ],
)
def test_service_levels_refuse_what_cannot_be_kept(admin_client, organisation, changes, field):
    page = admin_client.post(_url("service_levels", organisation), _levels(**changes))

    assert page.status_code == 400 and field in page.context["form"].errors
    assert not BusinessHours.objects.exists() and not SlaPolicy.objects.exists()


def test_an_agent_may_not_change_the_case_settings(client, organisation):
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    client.force_login(agent)

    assert client.post(_url("service_levels", organisation), _levels()).status_code == 403
    assert client.post(_url("team_list", organisation), {"name": "x"}).status_code == 403
    assert not BusinessHours.objects.exists() and not Team.objects.exists()
