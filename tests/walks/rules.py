"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the follow-up
rules pages (see tests/walks/feedback.py for the shape of each table).

As on the rewards rules pages: owners, admins and analysts read the rules (the list and a
rule's page); owners and admins add, change, reorder and delete them; agents get 403. The
reorder and delete buttons are POST-only: an empty form is refused with a message and a
redirect back (302) for the roles that may use them.
"""

from communities.choices import Role
from tests.factories.feedback import FollowUpRuleFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _rule(org):
    return FollowUpRuleFactory(organisation=org)


ACCESS: dict = {
    "rule_list": READ,
    "rule_create": MANAGE,
    "rule_reorder": MANAGE,
    "rule_edit": READ,
    "rule_delete": MANAGE,
}
OBJECT_FOR: dict = {"rule_edit": _rule, "rule_delete": _rule}
POST_ONLY: set = {"rule_reorder", "rule_delete"}
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
