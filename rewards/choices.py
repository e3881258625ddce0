from django.db import models
from django.utils.translation import gettext_lazy as _


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class LedgerReason(models.TextChoices):
    SURVEY_COMPLETED = "survey_completed", _("Survey completed")
    REDEMPTION_HOLD = "redemption_hold", _("Redemption")
    REDEMPTION_RETURN = "redemption_return", _("Redemption returned")
    ADJUSTMENT = "adjustment", _("Adjustment")
