from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Community, Location, Member, Organisation, TimeStampedModel
from surveys.choices import (
    CHOICE_TYPES,
    FIXED_BOUNDS,
    RATING_LIMITS,
    Anonymity,
    BatchStatus,
    ChannelKind,
    EventOutcome,
    QuestionType,
    SurveyKind,
    SurveyStatus,
    TriggerEvent,
)

TEXT_ANSWER_MAX_LENGTH = 5000
SHORT_TEXT_MAX_LENGTH = 500


def _public_token() -> str:
    return secrets.token_urlsafe(12)


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


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


class Channel(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=8, choices=ChannelKind.choices)
    device_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="channels"
    )
    idle_reset_seconds = models.PositiveSmallIntegerField(default=30)
    active = models.BooleanField(default=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ChannelKind.values), name="channel_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ChannelKind.KIOSK) | models.Q(device_token__isnull=False),
                name="channel_kiosk_has_device_token",
            ),
            models.UniqueConstraint(
                fields=["survey"],
                condition=models.Q(kind=ChannelKind.LINK),
                name="channel_one_link_per_survey",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.kind}"


class SurveyInvitation(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    email = models.EmailField(blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    external_ref = models.CharField(_("external reference"), max_length=200, blank=True)
    batch = models.ForeignKey(
        "InvitationBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="invitation_one_per_external_ref",
            ),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | ~models.Q(email=""),
                name="invitation_has_recipient",
            ),
            # A batch re-run after a worker died finds its invitations already there.
            models.UniqueConstraint(
                fields=["batch", "email"],
                condition=models.Q(batch__isnull=False),
                name="invitation_one_per_batch_address",
            ),
        ]
        indexes = [
            models.Index(
                fields=["survey", "sent_at"],
                condition=models.Q(responded_at__isnull=True),
                name="invitation_awaiting_answer",
            ),
            models.Index(fields=["organisation", "email", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.email or self.member}"


class InvitationBatch(TimeStampedModel):
    """One staff send of a survey by email: who to, and how far the workers have got."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(
        "communities.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [[email, name], …] for a pasted or imported list.
    recipients = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch #{self.pk} of {self.survey_id}"


class SurveyEvent(models.Model):
    """An event another system reported; stored before anything else happens to it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=TriggerEvent.choices)
    external_ref = models.CharField(max_length=200)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=EventOutcome.choices, default=EventOutcome.PENDING
    )
    invitation = models.ForeignKey(
        SurveyInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "external_ref"], name="event_once_per_reference"
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=models.Q(processed_at__isnull=True),
                name="event_awaiting_processing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_ref}"


class Response(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    invitation = models.OneToOneField(
        SurveyInvitation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response",
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    language = models.CharField(max_length=8, default="en")
    submitted_at = models.DateTimeField(default=timezone.now)
    # A stored date lets reports bucket by day without Trunc*, which SQLite runs in Python.
    submitted_on = models.DateField(default=timezone.localdate)
    is_anonymous = models.BooleanField(default=False)
    consent_to_contact = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=64)
    analysed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "idempotency_key"], name="response_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(is_anonymous=False)
                | models.Q(member__isnull=True, invitation__isnull=True, consent_to_contact=False),
                name="response_anonymous_holds_no_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "submitted_at"], name="response_survey_submitted"),
            models.Index(fields=["survey", "submitted_on"], name="response_survey_day"),
            models.Index(
                fields=["submitted_at"],
                condition=models.Q(analysed_at__isnull=True),
                name="response_awaiting_analysis",
            ),
        ]

    def __str__(self) -> str:
        return f"response #{self.pk} to {self.survey_id}"


class Answer(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    # Copied from the question so the score ranges can be database constraints.
    question_type = models.CharField(max_length=16, choices=QuestionType.choices)
    number = models.SmallIntegerField(null=True, blank=True)
    choices = models.ManyToManyField(Choice, blank=True, related_name="answers")
    text = models.TextField(blank=True)
    sentiment = models.FloatField(_("sentiment polarity"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="answer_one_per_question"
            ),
            models.CheckConstraint(
                condition=~models.Q(question_type=QuestionType.NPS)
                | models.Q(number__gte=0, number__lte=10),
                name="answer_nps_0_10",
            ),
            models.CheckConstraint(
                condition=~models.Q(question_type=QuestionType.STAR)
                | models.Q(number__gte=1, number__lte=5),
                name="answer_star_1_5",
            ),
            models.CheckConstraint(
                condition=~models.Q(question_type=QuestionType.CSAT)
                | models.Q(number__gte=1, number__lte=5),
                name="answer_csat_1_5",
            ),
            models.CheckConstraint(
                condition=~models.Q(question_type=QuestionType.YES_NO)
                | models.Q(number__in=[0, 1]),
                name="answer_yes_no_0_1",
            ),
            models.CheckConstraint(
                condition=~models.Q(question_type=QuestionType.RATING)
                | models.Q(number__gte=RATING_LIMITS[0], number__lte=RATING_LIMITS[1]),
                name="answer_rating_within_limits",
            ),
            models.CheckConstraint(
                condition=models.Q(sentiment__isnull=True)
                | models.Q(sentiment__gte=-1, sentiment__lte=1),
                name="answer_sentiment_range",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), TEXT_ANSWER_MAX_LENGTH),
                name="answer_text_max_length",
            ),
        ]
        indexes = [models.Index(fields=["question", "number"])]

    def __str__(self) -> str:
        return f"answer to {self.question_id}"


class Participation(models.Model):
    """Who took part, kept apart from what they answered.

    A random primary key and a date (not a time) so the row cannot be lined up with an
    anonymous Response by insertion order or timestamp.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="participations")
    completed_on = models.DateField(default=timezone.localdate)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "member"], name="participation_one_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} took part in {self.survey_id}"
