"""Staff URLs of this rewards area for the walks in tests/communities: which roles may
use each (ACCESS), how to make the object an id names (OBJECT_FOR), which take only POST."""

from communities.choices import Role
from tests.factories.communities import CommunityFactory
from tests.factories.rewards import TierFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _community(org):
    return CommunityFactory(organisation=org)


def _tier(org):
    return TierFactory(community=CommunityFactory(organisation=org))


ACCESS: dict = {
    # analysts read a community's earning rules and tiers; changing them is managing
    "rewards_policy_list": READ,
    "rewards_policy": READ,
    "tier_create": MANAGE,
    "tier_edit": MANAGE,
    "tier_delete": MANAGE,
}
OBJECT_FOR: dict = {
    "rewards_policy": _community,
    "tier_create": _community,
    "tier_edit": _tier,
    "tier_delete": _tier,
}
POST_ONLY: set = {"tier_delete"}
