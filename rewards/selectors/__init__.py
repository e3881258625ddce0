"""rewards' reads. Callers import from here; the modules are split by area."""

from rewards.selectors.catalogue import reward_list, voucher_pool_counts, voucher_uploads
from rewards.selectors.ledger import member_balance
from rewards.selectors.overview import RewardsOverview, month_starts, rewards_overview
from rewards.selectors.portal import (
    CatalogueItem,
    LedgerPages,
    Loyalty,
    MemberSummary,
    RedemptionRow,
    ledger_lines,
    member_catalogue,
    member_catalogue_item,
    member_discount_percent,
    member_ledger,
    member_loyalty,
    member_redemptions,
    member_summary,
    redemption_rows,
)
from rewards.selectors.redemptions import (
    redemption_queue,
    redemption_rewards,
    redemptions_to_ship,
    staff_member_ledger,
)

__all__ = [
    "CatalogueItem",
    "LedgerPages",
    "Loyalty",
    "MemberSummary",
    "RedemptionRow",
    "RewardsOverview",
    "ledger_lines",
    "member_balance",
    "member_catalogue",
    "member_catalogue_item",
    "member_discount_percent",
    "member_ledger",
    "member_loyalty",
    "member_redemptions",
    "member_summary",
    "month_starts",
    "redemption_queue",
    "redemption_rewards",
    "redemption_rows",
    "redemptions_to_ship",
    "reward_list",
    "rewards_overview",
    "staff_member_ledger",
    "voucher_pool_counts",
    "voucher_uploads",
]
