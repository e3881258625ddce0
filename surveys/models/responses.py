"""What came back: responses, their answers, and who took part."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Location, Member, Organisation
from surveys.choices import RATING_LIMITS, QuestionType
from surveys.models.channels import Channel, SurveyInvitation
from surveys.models.surveys import Choice, Question, Survey

TEXT_ANSWER_MAX_LENGTH = 5000
SHORT_TEXT_MAX_LENGTH = 500


class Response(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # No index of its own: the (survey, …) indexes below lead with it, and every answer
    # would write one more B-tree (likewise for the other foreign keys so marked here).
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
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
    # The answers as one value, for exports that read a million responses without joining
    # their answers: {"a": {question id: {"n": number, "t": text, "c": [choice ids]}},
    # "s": sum of the sentiments as text, "k": how many}. PostgreSQL keeps it itself, by
    # triggers on the answers and their choices (surveys 0010), whatever writes them;
    # SQLite leaves it empty and its exports read the answers.
    cells = models.JSONField(null=True, blank=True, editable=False)

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
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
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
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="participations", db_index=False
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="participations")
    completed_on = models.DateField(default=timezone.localdate)
    # Points earned by an anonymous answer wait to be awarded in a shuffled batch, in
    # another transaction than the one that wrote this row (surveys.services.pool).
    points_pending = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "member"], name="participation_one_per_member"
            ),
        ]
        indexes = [
            models.Index(
                fields=["survey"],
                condition=models.Q(points_pending__gt=0),
                name="participation_points_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} took part in {self.survey_id}"
