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
