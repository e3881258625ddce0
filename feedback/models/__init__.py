"""feedback's models, one module per area: rules, teams, cases and their timeline."""

from feedback.models.cases import Case, CaseEvent, CaseEventIsFinal
from feedback.models.rules import FollowUpRule
from feedback.models.teams import Team

__all__ = ["Case", "CaseEvent", "CaseEventIsFinal", "FollowUpRule", "Team"]
