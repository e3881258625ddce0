"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py (see
tests/walks/feedback.py for the shape of each table): the case workflow's pages.

Moving a case to a team is the agents' work, as the other buttons of the case page are;
the case settings (teams, root causes, service levels) are kept by owners and admins.
"""

from communities.choices import Role
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory

CASES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
MANAGE = frozenset({Role.OWNER, Role.ADMIN})


def _case(org):
    return CaseFactory(response__survey__organisation=org)


def _team(org):
    return TeamFactory(organisation=org)


def _root_cause(org):
    return RootCauseFactory(organisation=org)


ACCESS: dict = {
    "case_team": CASES,
    "case_reply": CASES,
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
    "team_edit": _team,
    "team_delete": _team,
    "root_cause_edit": _root_cause,
}
POST_ONLY: set = {"case_team", "case_reply", "team_delete"}
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
