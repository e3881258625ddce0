"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the cases
API and the results API.

Cases are the agents' work, as on the staff case pages: owners, admins and agents read and
change them, analysts get 403. Results are read by owners, admins and analysts, as the
staff results page is.

ACCESS: staff page route name -> roles; OBJECT_FOR: route -> maker of the object its id
names; POST_ONLY: routes visited with POST; API_ACCESS: api route -> (roles, id maker or
None); API_WRITE_ACCESS: (method, api route) -> (roles, id maker or None, a valid body).
"""

from communities.choices import Role
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import SurveyFactory

CASES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _case(org):
    return CaseFactory(response__survey__organisation=org)


def _survey(org):
    return SurveyFactory(organisation=org)


# The inbox and the case page themselves are in test_roles.py's own table; the case page's
# forms and the inbox's bulk form are POST-only buttons (an empty form is refused with a
# message and a redirect back, 302, for the roles that may use them).
ACCESS: dict = {
    "case_bulk": CASES,
    "case_assign": CASES,
    "case_status": CASES,
    "case_note": CASES,
}
OBJECT_FOR: dict = {
    "case_assign": _case,
    "case_status": _case,
    "case_note": _case,
}
POST_ONLY: set = {"case_bulk", "case_assign", "case_status", "case_note"}
API_ACCESS: dict = {
    "api:case_list": (CASES, None),
    "api:case_detail": (CASES, _case),
    "api:survey_results": (READ, _survey),
}
API_WRITE_ACCESS: dict = {
    ("post", "api:case_assign"): (CASES, _case, {"assignee": None}),
    ("post", "api:case_status"): (CASES, _case, {"status": "open"}),
    ("post", "api:case_note_add"): (CASES, _case, {"body": "Called the customer back."}),
}
