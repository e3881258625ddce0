from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    SURVEY = "survey", _("Survey")
    POLL = "poll", _("Quick poll")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    CLOSED = "closed", _("Closed")


class Anonymity(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    RESPONDENT_CHOICE = "respondent_choice", _("Respondent chooses")
    ANONYMOUS = "anonymous", _("Anonymous")


class QuestionType(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    STAR = "star", _("Stars (1–5)")
    RATING = "rating", _("Rating scale")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    TEXT = "text", _("Text")


SCORED_TYPES = {QuestionType.NPS, QuestionType.STAR, QuestionType.RATING}
CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE}


class ChannelKind(models.TextChoices):
    LINK = "link", _("Public link")
    EMAIL = "email", _("Email")
    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("API")
