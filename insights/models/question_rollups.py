"""Per-question roll-ups: how many answered each question, each score of a number question
and each choice of a choice question, per survey × day × channel × store × language, so the
results page draws every question's distribution without reading the answers table.

A row counts one day, or (`month`) one calendar month, and is one of three kinds, told
apart by which of `value` and `choice` it sets: neither (the question's answers), `value`
(the answers scoring it), `choice` (the answers ticking it). The dimensions, the foreign
keys' `on_delete` and the folded set are the day roll-ups' (insights.models.rollups): the
same fold pass writes both, so the same RollupState says which responses both hold.
"""

from __future__ import annotations

from django.db import models

from communities.models import Location, Organisation
from surveys.models import Channel, Choice, Question, Survey


class RollupAnswer(models.Model):
    """One question's count of one kind in one survey × day × channel × store × language."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    submitted_on = models.DateField()
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=8)
    value = models.SmallIntegerField(null=True, blank=True)
    # A choice deleted takes its counts with it, as it takes its answers' ticks.
    choice = models.ForeignKey(
        Choice, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)
    # A month row sums the day rows of the calendar month starting on `submitted_on`, so
    # a year's results sum a twelfth of the rows (as insights.models.RollupMonth does).
    month = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["survey", "month", "submitted_on"], name="rollup_answer_survey_day"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(choice__isnull=True),
                name="rollup_answer_value_or_choice",
            ),
        ]

    def __str__(self) -> str:
        return f"answers to question {self.question_id} on {self.submitted_on}"
