"""rewards' writes. Callers import from here; the modules are split by area."""

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

__all__ = [
    "REFUSALS",
    "InsufficientPoints",
    "RedemptionRefused",
    "points_adjust",
    "points_award",
    "points_award_once",
    "points_debit",
    "redemption_approve",
    "redemption_cancel",
    "redemption_fulfil",
    "redemption_reject",
    "redemption_request",
    "redemptions_decide",
    "refusal",
    "reward_availability",
    "reward_cost_for",
]
