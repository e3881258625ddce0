"""The mixing pool: anonymous answers from respondents the product knows, waiting to be
released in shuffled batches (see surveys.services.pool)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from communities.managers import TenantManager
from communities.models import Organisation
from surveys.models.channels import Channel
from surveys.models.surveys import Survey


class PooledAnswer(models.Model):
    """One anonymous answer, held apart from whoever gave it until its batch is released.

    Nothing here names the respondent: a random key (no insertion order), the day only,
    and the cleaned answers. The row is deleted when its batch becomes Responses.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="pooled_answers")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=8, default="en")
    # {question id: {"number": …, "text": …, "choice_ids": […]}}, as answers_validate made it.
    answers = models.JSONField()
    # The form's key, so a double submit while pooled is recognised; the Response made at
    # release gets a fresh one.
    idempotency_key = models.CharField(max_length=64)
    pooled_on = models.DateField(default=timezone.localdate)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "idempotency_key"], name="pooled_answer_idempotency_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["survey", "pooled_on"], name="pooled_answer_survey_day")]

    def __str__(self) -> str:
        return f"pooled answer to {self.survey_id}"
