from rewards.models.catalogue import Redemption, Reward, VoucherCode, VoucherUpload
from rewards.models.ledger import LedgerEntry
from rewards.models.loyalty import ExpiryNotice, MemberBadge, MemberStanding, RewardsPolicy, Tier

__all__ = [
    "ExpiryNotice",
    "LedgerEntry",
    "MemberBadge",
    "MemberStanding",
    "Redemption",
    "Reward",
    "RewardsPolicy",
    "Tier",
    "VoucherCode",
    "VoucherUpload",
]
