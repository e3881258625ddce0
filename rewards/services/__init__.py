"""rewards' writes. Callers import from here; the modules are split by area."""

from rewards.services.catalogue import (
    catalogue_audit_register,
    reward_active_set,
    reward_create,
    reward_image_check,
    reward_update,
)
from rewards.services.earning import (
    join_points_award,
    poll_points_for,
    profile_points_award,
    referral_points_award,
    rewards_policy_update,
    tier_create,
    tier_delete,
    tier_update,
)
from rewards.services.expiry import points_expire, points_expiry_notify
from rewards.services.ledger import (
    InsufficientPoints,
    points_adjust,
    points_award,
    points_award_once,
    points_debit,
)
from rewards.services.redemptions import (
    REFUSALS,
    RedemptionRefused,
    member_redemptions_withdraw,
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
    redemptions_decide,
    refusal,
    reward_availability,
    reward_cost_for,
)
from rewards.services.standing import badges_award, standings_compute
from rewards.services.vouchers import voucher_code_hint, voucher_codes_upload

__all__ = [
    "REFUSALS",
    "InsufficientPoints",
    "catalogue_audit_register",
    "RedemptionRefused",
    "member_redemptions_withdraw",
    "badges_award",
    "join_points_award",
    "poll_points_for",
    "profile_points_award",
    "referral_points_award",
    "rewards_policy_update",
    "tier_create",
    "tier_delete",
    "tier_update",
    "points_adjust",
    "points_award",
    "points_award_once",
    "points_debit",
    "points_expire",
    "points_expiry_notify",
    "standings_compute",
    "redemption_approve",
    "redemption_cancel",
    "redemption_fulfil",
    "redemption_reject",
    "redemption_request",
    "redemptions_decide",
    "refusal",
    "reward_active_set",
    "reward_availability",
    "reward_cost_for",
    "reward_create",
    "reward_image_check",
    "reward_update",
    "voucher_code_hint",
    "voucher_codes_upload",
]
