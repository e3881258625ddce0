from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    SURVEY = "survey", _("Survey")
    POLL = "poll", _("Quick poll")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    CLOSED = "closed", _("Closed")


class SurveyPhase(models.TextChoices):
    """What a survey is right now, as people say it: a live survey whose open time is still
    ahead is scheduled, and one whose close time has passed is closed."""

    DRAFT = SurveyStatus.DRAFT.value, SurveyStatus.DRAFT.label
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = SurveyStatus.LIVE.value, SurveyStatus.LIVE.label
    CLOSED = SurveyStatus.CLOSED.value, SurveyStatus.CLOSED.label


class Anonymity(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    RESPONDENT_CHOICE = "respondent_choice", _("Respondent chooses")
    ANONYMOUS = "anonymous", _("Anonymous")


class QuestionType(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5 faces)")
    STAR = "star", _("Stars (1–5)")
    RATING = "rating", _("Rating scale")
    YES_NO = "yes_no", _("Yes / no")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    SHORT_TEXT = "short_text", _("Short text")
    TEXT = "text", _("Long text")


# Answered with one number, shown as a row of big buttons.
SCALE_TYPES = frozenset(
    {QuestionType.NPS, QuestionType.CSAT, QuestionType.STAR, QuestionType.RATING}
)
NUMBER_TYPES = SCALE_TYPES | {QuestionType.YES_NO}
CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE})
TEXT_TYPES = frozenset({QuestionType.SHORT_TEXT, QuestionType.TEXT})
FIXED_BOUNDS = {
    QuestionType.NPS: (0, 10),
    QuestionType.CSAT: (1, 5),
    QuestionType.STAR: (1, 5),
    QuestionType.YES_NO: (0, 1),
}
# A rating scale's bounds are the survey author's, within these.
RATING_LIMITS = (0, 10)


class Condition(models.TextChoices):
    """How a question's show-if rule compares an earlier answer."""

    AT_MOST = "lte", _("is at most")
    AT_LEAST = "gte", _("is at least")
    EQUALS = "eq", _("is")
    ANY_OF = "in", _("is any of")


class ChannelKind(models.TextChoices):
    LINK = "link", _("Public link")
    EMAIL = "email", _("Email")
    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("API")


class TriggerEvent(models.TextChoices):
    """Events another system reports through the API, each of which can send a survey."""

    TICKET_CLOSED = "ticket_closed", _("Ticket closed")
    ORDER_COMPLETED = "order_completed", _("Order completed")


class EventOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    INVITED = "invited", _("Invitation sent")
    DUPLICATE = "duplicate", _("Skipped: this reference was already surveyed")
    CONTACT_LIMIT = "contact_limit", _("Skipped: contacted too recently")
    SUPPRESSED = "suppressed", _("Skipped: unsubscribed")
    NO_SURVEY = "no_survey", _("Skipped: no live survey for this event")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
