from django.db import models
from django.utils.translation import gettext_lazy as _


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# A redemption still holding its points: it can be approved, rejected or cancelled.
REDEMPTION_OPEN = (RedemptionStatus.REQUESTED, RedemptionStatus.APPROVED)
# Redemptions that count against stock and a member's per-reward limit.
REDEMPTION_COUNTED = (
    RedemptionStatus.REQUESTED,
    RedemptionStatus.APPROVED,
    RedemptionStatus.FULFILLED,
)


class LedgerReason(models.TextChoices):
    SURVEY_COMPLETED = "survey_completed", _("Survey completed")
    POLL_VOTED = "poll_voted", _("Voted in a poll")
    PROFILE_COMPLETED = "profile_completed", _("Profile completed")
    REFERRAL = "referral", _("Referred a member")
    JOINED = "joined", _("Welcome points")
    REDEMPTION_HOLD = "redemption_hold", _("Redemption")
    REDEMPTION_RETURN = "redemption_return", _("Redemption returned")
    EXPIRED = "expired", _("Points expired")
    ADJUSTMENT = "adjustment", _("Adjustment")


class RewardKind(models.TextChoices):
    VOUCHER = "voucher", _("Voucher code")
    PHYSICAL = "physical", _("Item shipped to you")
    DONATION = "donation", _("Donation")
    PERK = "perk", _("Perk")


class TierBasis(models.TextChoices):
    LIFETIME = "lifetime", _("Points earned ever")
    WINDOW = "window", _("Points earned in the last months")


class BadgeKind(models.TextChoices):
    FIRST_SURVEY = "first_survey", _("First survey")
    TEN_SURVEYS = "ten_surveys", _("10 surveys")
    ONE_YEAR = "one_year", _("A year a member")
    REFERRAL = "referral", _("Brought a friend")


class ExpiryNoticeKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    LAST_CHANCE = "last_chance", _("Last chance")
