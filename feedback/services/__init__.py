"""feedback's writes, by area: the follow-up rules and what they send (followup), a
case's life (cases), and who may be contacted about an answer (contact). Other apps and
tasks import from here."""

from feedback.services.cases import (
    CaseTransitionRefused,
    case_assign,
    case_note_add,
    case_open,
    case_status_change,
    case_webhook_payload,
)
from feedback.services.contact import followup_recipient
from feedback.services.followup import (
    DEFAULT_RULES,
    Rule,
    analysis_redrive,
    followup_apply,
    followup_email_queue,
    followup_rules,
    response_analyse,
    response_prepare,
    response_ride,
    response_stored,
    staff_alert_queue,
)

__all__ = [
    "DEFAULT_RULES",
    "CaseTransitionRefused",
    "Rule",
    "analysis_redrive",
    "case_assign",
    "case_note_add",
    "case_open",
    "case_status_change",
    "case_webhook_payload",
    "followup_apply",
    "followup_email_queue",
    "followup_recipient",
    "followup_rules",
    "response_analyse",
    "response_prepare",
    "response_ride",
    "response_stored",
    "staff_alert_queue",
]
