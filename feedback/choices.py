from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Condition(models.TextChoices):
    NPS_AT_MOST = "nps_at_most", _("NPS at most")
    STARS_AT_MOST = "stars_at_most", _("Stars at most")
    SENTIMENT_BELOW = "sentiment_below", _("Sentiment below")
    CHOICE_SELECTED = "choice_selected", _("Choice selected")


class RuleMatch(models.TextChoices):
    """How a follow-up rule combines its conditions."""

    ALL = "all", _("All conditions hold")
    ANY = "any", _("Any condition holds")


class RuleConditionKind(models.TextChoices):
    """What one condition of a follow-up rule looks at (stored in FollowUpRule.conditions)."""

    SCORE = "score", _("A score in a range")
    CHOICE = "choice", _("A choice was picked")
    SENTIMENT = "sentiment", _("Sentiment below a threshold")
    KEYWORDS = "keywords", _("Text contains any of these words")
    SEGMENT = "segment", _("Respondent is in a segment")
    HISTORY = "history", _("Respondent's history")


class RuleScoreKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")
    STARS = "star", _("Stars (1–5)")
    RATING = "rating", _("Rating scale")


class RuleHistory(models.TextChoices):
    FIRST = "first", _("First response")
    REPEAT_DETRACTOR = "repeat_detractor", _("Repeat detractor")


class RuleAssignment(models.TextChoices):
    """Who a case a rule opens is given to."""

    NOBODY = "", _("Nobody (the team's queue)")
    PERSON = "person", _("A named person")
    ROUND_ROBIN = "round_robin", _("Round-robin within the team")
    LOCATION_MANAGER = "location_manager", _("The store's manager")


class RuleAlert(models.TextChoices):
    NONE = "", _("No alert")
    IMMEDIATE = "immediate", _("Immediately")
    DIGEST = "digest", _("In the digest")


class CaseStatus(models.TextChoices):
    """A case's life: new (nobody has acted on it yet) → open (being worked) → waiting on
    the customer → resolved (root cause and resolution recorded) → closed; a resolved or
    closed case can be reopened. Before this workflow the statuses were open, in_progress,
    waiting and resolved: migration 0005 moved open to new (or to open where staff had
    already acted on it) and in_progress to open."""

    NEW = "new", pgettext_lazy("case status", "New")
    OPEN = "open", pgettext_lazy("case status", "Open")
    WAITING = "waiting", pgettext_lazy("case status", "Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


# The statuses in which a case is done with: no SLA clock runs, the inbox's "not resolved"
# leaves them out.
CASE_DONE_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


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
    ESCALATED = "escalated", _("Escalated")
    RECOVERY_SENT = "recovery_sent", _("Recovery survey sent")
    RECOVERY_ANSWERED = "recovery_answered", _("Recovery survey answered")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")


class SlaBreach(models.TextChoices):
    """Which of a case's SLA targets was missed."""

    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


# The statuses a case may move to from each status. Work moves forward (new → open →
# waiting → resolved → closed) or back to open when the customer answers; a resolved or
# closed case may only be reopened (to open) or, once resolved, closed. Staying put is no
# change.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.WAITING, CaseStatus.RESOLVED}),
    CaseStatus.OPEN: frozenset({CaseStatus.WAITING, CaseStatus.RESOLVED}),
    CaseStatus.WAITING: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}
