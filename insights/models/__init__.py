"""insights' models, one module per area."""

from insights.models.notifications import (
    ALERT_WINDOWS,
    DigestFrequency,
    NotificationPreference,
    ReportSchedule,
    ThresholdAlert,
    Weekday,
)
from insights.models.question_rollups import RollupAnswer
from insights.models.rollups import COUNT_FIELDS, RollupBucket, RollupMonth, RollupState

__all__ = [
    "ALERT_WINDOWS",
    "COUNT_FIELDS",
    "DigestFrequency",
    "NotificationPreference",
    "RollupAnswer",
    "ReportSchedule",
    "RollupBucket",
    "RollupMonth",
    "RollupState",
    "ThresholdAlert",
    "Weekday",
]
