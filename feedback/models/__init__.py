"""feedback's models, one module per area: rules, teams, cases and their timeline, and
the SLA (business hours, targets per priority, root causes)."""

from feedback.models.cases import Case, CaseEvent, CaseEventIsFinal
from feedback.models.recovery import RecoveryCheck
from feedback.models.rules import FollowUpRule, RuleAlertIntent
from feedback.models.sla import BusinessHours, RootCause, SlaPolicy
from feedback.models.teams import Team

__all__ = [
    "BusinessHours",
    "Case",
    "CaseEvent",
    "CaseEventIsFinal",
    "FollowUpRule",
    "RecoveryCheck",
    "RootCause",
    "RuleAlertIntent",
    "SlaPolicy",
    "Team",
]
