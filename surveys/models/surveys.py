"""Surveys, their questions and the choices of choice questions."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Community, Organisation, TimeStampedModel
from surveys.choices import (
    CHOICE_TYPES,
    FIXED_BOUNDS,
    Anonymity,
    QuestionType,
    SurveyKind,
    SurveyPhase,
    SurveyStatus,
    TriggerEvent,
)


def _public_token() -> str:
    return secrets.token_urlsafe(12)


def translated(texts: dict, language: str | None = None, fallback: str = "en") -> str:
    """Pick one language out of a {"en": …, "th": …} field, falling back sensibly."""
    if not texts:
        return ""
    language = (language or get_language() or fallback).split("-")[0]
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


class Survey(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="surveys")
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    public_id = models.CharField(max_length=32, unique=True, default=_public_token, editable=False)
    title = models.JSONField(_("title"), default=dict)
    kind = models.CharField(
        _("kind"), max_length=8, choices=SurveyKind.choices, default=SurveyKind.SURVEY
    )
    status = models.CharField(
        _("status"), max_length=8, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    anonymity = models.CharField(
        _("anonymity"), max_length=20, choices=Anonymity.choices, default=Anonymity.IDENTIFIED
    )
    points = models.PositiveIntegerField(_("points for answering"), default=0)
    languages = models.JSONField(_("languages"), default=list)
    thank_you = models.JSONField(_("thank-you text"), default=dict, blank=True)
    allow_multiple_responses = models.BooleanField(_("allow more than one answer"), default=False)
    one_question_per_page = models.BooleanField(_("one question at a time"), default=False)
    # Email invitations: how long a personal link works, and how often to remind.
    invitation_valid_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=30)
    reminder_limit = models.PositiveSmallIntegerField(_("reminders at most"), default=2)
    reminder_interval_days = models.PositiveSmallIntegerField(
        _("days between reminders"), default=3
    )
    trigger = models.CharField(
        _("sent when the API reports"), max_length=20, choices=TriggerEvent.choices, blank=True
    )
    # Without it, a member who answers anonymously earns nothing: points would need a
    # trace of who answered, and anonymity promises there is none beyond participation.
    anonymous_points = models.BooleanField(_("award points for anonymous answers"), default=False)
    # Bumped whenever the survey, a question or a choice changes (surveys.compiled): the
    # key of the compiled survey each web process keeps, so no process serves a stale one.
    revision = models.PositiveIntegerField(default=1, editable=False)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SurveyStatus.values), name="survey_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(anonymity__in=Anonymity.values), name="survey_anonymity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(closes_at__isnull=True)
                | models.Q(opens_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="survey_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=models.Q(reminder_interval_days__gte=1)
                & models.Q(invitation_valid_days__gte=1),
                name="survey_invitation_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title_text or f"survey #{self.pk}"

    @property
    def title_text(self) -> str:
        return translated(self.title)

    @property
    def thank_you_text(self) -> str:
        return translated(self.thank_you)

    @property
    def phase(self) -> str:
        """Draft, scheduled, live or closed, now (see SurveyPhase)."""
        now = timezone.now()
        if self.status == SurveyStatus.LIVE:
            if self.opens_at and now < self.opens_at:
                return SurveyPhase.SCHEDULED
            if self.closes_at and now >= self.closes_at:
                return SurveyPhase.CLOSED
        return SurveyPhase(self.status)

    @property
    def phase_label(self) -> str:
        return SurveyPhase(self.phase).label

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == SurveyStatus.LIVE
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )


class Question(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="questions"
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    type = models.CharField(_("type"), max_length=16, choices=QuestionType.choices)
    text = models.JSONField(_("text"), default=dict)
    required = models.BooleanField(_("required"), default=True)
    # {"min": 1, "max": 7, "min_label": {"en": …}, "max_label": {"en": …}}
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    hidden = models.BooleanField(_("hidden"), default=False)

    objects = TenantManager()

    class Meta:
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "position"], name="question_position_unique_per_survey"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=QuestionType.values), name="question_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text_for()

    def text_for(self, language: str | None = None) -> str:
        return translated(self.text, language)

    @property
    def bounds(self) -> tuple[int, int] | None:
        if self.type in FIXED_BOUNDS:
            return FIXED_BOUNDS[self.type]
        if self.type == QuestionType.RATING:
            return (int(self.settings.get("min", 1)), int(self.settings.get("max", 5)))
        return None

    @property
    def show_if(self) -> dict | None:
        """{"question": id, "op": "lte"|"gte"|"eq"|"in", "value": …}, or None."""
        return self.settings.get("show_if") or None

    @property
    def has_other(self) -> bool:
        return self.type in CHOICE_TYPES and bool(self.settings.get("other"))


class Choice(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.JSONField(_("label"), default=dict)

    objects = TenantManager()

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "position"], name="choice_position_unique_per_question"
            ),
        ]

    def __str__(self) -> str:
        return self.label_for()

    def label_for(self, language: str | None = None) -> str:
        return translated(self.label, language)
