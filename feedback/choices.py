from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Condition(models.TextChoices):
    NPS_AT_MOST = "nps_at_most", _("NPS at most")
    STARS_AT_MOST = "stars_at_most", _("Stars at most")
    SENTIMENT_BELOW = "sentiment_below", _("Sentiment below")
    CHOICE_SELECTED = "choice_selected", _("Choice selected")


class CaseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("case status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", pgettext_lazy("case status", "Waiting")
    RESOLVED = "resolved", _("Resolved")


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class CaseEventKind(models.TextChoices):
    """What a case's timeline records; each event's words are composed when it is shown."""

    OPENED = "opened", pgettext_lazy("case event", "Opened")
    ASSIGNED = "assigned", pgettext_lazy("case event", "Assigned")
    STATUS_CHANGED = "status_changed", _("Status changed")
    NOTE = "note", _("Note")
    EMAIL_SENT = "email_sent", _("Email sent")
    REPLY_RECEIVED = "reply_received", _("Reply received")


# The statuses a case may move to from each status: any working status to another or to
# resolved, and a resolved case only back to open (reopened). Staying put is no change.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.WAITING, CaseStatus.RESOLVED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.OPEN, CaseStatus.WAITING, CaseStatus.RESOLVED}),
    CaseStatus.WAITING: frozenset({CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN}),
}
