"""insights' models, one module per area."""

from insights.models.notifications import (
    ALERT_WINDOWS,
    DigestFrequency,
    NotificationPreference,
    ReportSchedule,
    ThresholdAlert,
    Weekday,
)
from insights.models.rollups import COUNT_FIELDS, RollupBucket, RollupMonth, RollupState

__all__ = [
    "ALERT_WINDOWS",
    "COUNT_FIELDS",
    "DigestFrequency",
    "NotificationPreference",
    "ReportSchedule",
    "RollupBucket",
    "RollupMonth",
    "RollupState",
    "ThresholdAlert",
    "Weekday",
]

# The receivers that keep the roll-ups valid when a folded response changes; imported
# here, once the models above exist, so they are connected whenever the app loads.
import insights.rollups.dirty  # noqa: E402, F401
