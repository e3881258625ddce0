"""Staff URLs of this rewards area for the walks in tests/communities: which roles may
use each (ACCESS), how to make the object an id names (OBJECT_FOR), which take only POST.

The catalogue and a voucher reward's uploads are read by owners, admins and analysts;
changing anything (a reward, its status, its codes) is for owners and admins.
"""

from communities.choices import Role
from tests.factories.rewards import RewardFactory, VoucherUploadFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _reward(org):
    return RewardFactory(organisation=org)


def _voucher_reward(org):
    return RewardFactory(organisation=org, kind="voucher", stock=None)


ACCESS: dict = {
    "reward_list": READ,
    "reward_create": MANAGE,
    "reward_edit": MANAGE,
    "reward_toggle": MANAGE,
    "voucher_upload": READ,
    "voucher_upload_detail": READ,
}
OBJECT_FOR: dict = {
    "reward_edit": _reward,
    "reward_toggle": _reward,
    "voucher_upload": _voucher_reward,
    "voucher_upload_detail": lambda org: VoucherUploadFactory(
        reward=_voucher_reward(org), report=[{"row": 1, "outcome": "added", "code": "…AB12"}]
    ),
}
POST_ONLY: set = {"reward_toggle"}
