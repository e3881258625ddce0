"""Staff URLs of this rewards area for the walks in tests/communities: which roles may
use each (ACCESS), how to make the object an id names (OBJECT_FOR), which take only POST.

Analysts read the queue, a redemption (without its address) and a member's ledger;
deciding, fulfilling, adjusting and the shipping export (it holds addresses) are managing.
"""

from communities.choices import Role
from rewards.choices import RedemptionStatus
from tests.factories.communities import MemberFactory
from tests.factories.rewards import RedemptionFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _requested(org):
    return RedemptionFactory(member__community__organisation=org)


def _approved(org):
    return RedemptionFactory(member__community__organisation=org, status=RedemptionStatus.APPROVED)


ACCESS = {
    "redemption_list": READ,
    "redemption_decide": MANAGE,
    "redemption_export": MANAGE,
    "redemption_detail": READ,
    "redemption_approve": MANAGE,
    "redemption_reject": MANAGE,
    "redemption_cancel": MANAGE,
    "redemption_fulfil": MANAGE,
    "member_points": READ,
}
OBJECT_FOR = {
    "redemption_detail": _requested,
    "redemption_approve": _requested,
    "redemption_reject": _requested,
    "redemption_cancel": _requested,
    "redemption_fulfil": _approved,
    "member_points": lambda org: MemberFactory(community__organisation=org),
}
POST_ONLY = {
    "redemption_decide",
    "redemption_approve",
    "redemption_reject",
    "redemption_cancel",
    "redemption_fulfil",
}
