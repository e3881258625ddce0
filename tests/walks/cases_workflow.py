"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py (see
tests/walks/feedback.py for the shape of each table): the case workflow's pages.

Moving a case to a team is the agents' work, as the other buttons of the case page are;
the case settings (teams, root causes, service levels) are kept by owners and admins.
"""

from types import SimpleNamespace

from communities.choices import Role
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory, SlaPolicyFactory

CASES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
MANAGE = frozenset({Role.OWNER, Role.ADMIN})


def _case(org):
    return CaseFactory(response__survey__organisation=org)


def _team(org):
    return TeamFactory(organisation=org)


def _root_cause(org):
    return RootCauseFactory(organisation=org)


def _high(org):
    # The service level routes are named by priority, not by id.
    return SimpleNamespace(pk="high")


def _high_policy(org):
    SlaPolicyFactory(
        organisation=org, priority="high", first_response_minutes=60, resolution_minutes=240
    )
    return SimpleNamespace(pk="high")


ACCESS: dict = {
    "case_team": CASES,
    "case_reply": CASES,
    "case_priority": CASES,
    "team_list": MANAGE,
    "team_edit": MANAGE,
    "team_delete": MANAGE,
    "root_cause_list": MANAGE,
    "root_cause_edit": MANAGE,
    "service_levels": MANAGE,
}
OBJECT_FOR: dict = {
    "case_team": _case,
    "case_reply": _case,
    "case_priority": _case,
    "team_edit": _team,
    "team_delete": _team,
    "root_cause_edit": _root_cause,
}
POST_ONLY: set = {"case_team", "case_reply", "case_priority", "team_delete"}
API_ACCESS: dict = {
    "api:case_team_list": (CASES, None),
    "api:case_team_detail": (CASES, _team),
    "api:case_root_cause_list": (CASES, None),
    "api:case_root_cause_detail": (CASES, _root_cause),
    "api:case_sla_policy_list": (CASES, None),
    "api:case_sla_policy_detail": (CASES, _high),
}
API_WRITE_ACCESS: dict = {
    ("post", "api:case_team_list"): (MANAGE, None, {"name": "Walk team"}),
    ("patch", "api:case_team_detail"): (MANAGE, _team, {"name": "Renamed team"}),
    ("post", "api:case_root_cause_list"): (MANAGE, None, {"name": "Walk cause"}),
    ("patch", "api:case_root_cause_detail"): (MANAGE, _root_cause, {"active": False}),
    ("post", "api:case_sla_policy_list"): (
        MANAGE,
        None,
        {"priority": "low", "first_response_minutes": 60, "resolution_minutes": 120},
    ),
    ("patch", "api:case_sla_policy_detail"): (MANAGE, _high_policy, {"resolution_minutes": 480}),
}
