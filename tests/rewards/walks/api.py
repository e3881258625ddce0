"""rewards' API routes for tests/communities/test_roles.py: read routes -> (roles, id
maker), and writes (method, route) -> (roles, id maker or None for a route without an id,
a valid body)."""

from communities.choices import Role
from rewards.choices import RedemptionStatus
from tests.factories.communities import MemberFactory
from tests.factories.rewards import RedemptionFactory, RewardFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _reward(org):
    return RewardFactory(organisation=org, community__organisation=org)


def _redemption(org, status=RedemptionStatus.REQUESTED):
    return RedemptionFactory(member=MemberFactory(community__organisation=org), status=status)


API_ACCESS: dict = {
    "api:reward_list": (READ, None),
    "api:reward_detail": (READ, _reward),
    "api:redemption_list": (READ, None),
    "api:redemption_detail": (READ, _redemption),
    "api:member_points": (READ, lambda org: MemberFactory(community__organisation=org)),
}
API_WRITE_ACCESS: dict = {
    ("post", "api:reward_list"): (MANAGE, None, {"name": "Coffee mug", "cost": 300}),
    ("patch", "api:reward_detail"): (MANAGE, _reward, {"cost": 150}),
    ("post", "api:redemption_approve"): (MANAGE, _redemption, {}),
    ("post", "api:redemption_reject"): (MANAGE, _redemption, {"reason": "Out of season."}),
    ("post", "api:redemption_fulfil"): (
        MANAGE,
        lambda org: _redemption(org, RedemptionStatus.APPROVED),
        {"tracking_note": "TH123456789"},
    ),
}
