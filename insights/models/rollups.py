"""Roll-ups: the metric components (surveys.metrics.COMPONENTS) of every survey × day ×
channel × store × language, so the dashboard sums a few thousand rows instead of
scanning a million responses (README, "Insights: roll-ups").

The day is the response's stored `submitted_on` (the day the dashboard has always bucketed
by). The channel and the store are foreign keys with the same `on_delete` as the
response's own, so deleting a store or a channel moves the roll-up rows exactly as it
moves the responses; a survey or an organisation deleted takes its roll-ups with it.
There is no unique key over the dimensions for that reason (two stores' rows may both
become "no store"); readers always group and sum.

Which responses are folded in is kept in `RollupState`: every response with an id up to
the watermark, except the pending ids (an id seen missing, i.e. not yet committed, when
the fold passed it), and the dirty survey-days, whose folded responses changed after they
were folded: readers ignore their rows and the next fold recomputes them.
"""

from __future__ import annotations

from django.db import models

from communities.models import Location, Organisation
from surveys.models import Channel, Survey

# One column per metric component; named as surveys.metrics.COMPONENTS names them.
_COUNTS = (
    "responses",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "csat_answers",
    "csat_satisfied",
    "csat_sum",
    "stars_answers",
    "stars_sum",
    "stars_1",
    "stars_2",
    "stars_3",
    "stars_4",
    "stars_5",
    "rating_answers",
    "rating_sum",
    "sentiment_scored",
    "sentiment_negative",
    "sentiment_positive",
)


class RollupFields(models.Model):
    """The dimensions and components both roll-up levels hold."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    submitted_on = models.DateField()
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=8)
    responses = models.PositiveIntegerField(default=0)
    nps_answers = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)
    csat_answers = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0)
    csat_sum = models.BigIntegerField(default=0)
    stars_answers = models.PositiveIntegerField(default=0)
    stars_sum = models.BigIntegerField(default=0)
    stars_1 = models.PositiveIntegerField(default=0)
    stars_2 = models.PositiveIntegerField(default=0)
    stars_3 = models.PositiveIntegerField(default=0)
    stars_4 = models.PositiveIntegerField(default=0)
    stars_5 = models.PositiveIntegerField(default=0)
    rating_answers = models.PositiveIntegerField(default=0)
    rating_sum = models.BigIntegerField(default=0)
    sentiment_scored = models.PositiveIntegerField(default=0)
    sentiment_negative = models.PositiveIntegerField(default=0)
    sentiment_positive = models.PositiveIntegerField(default=0)
    # For the mean sentiment of a survey's text answers (the results page).
    sentiment_sum = models.FloatField(default=0)

    class Meta:
        abstract = True


class RollupBucket(RollupFields):
    """One survey × day × channel × store × language."""

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "submitted_on"], name="rollup_org_day"),
            models.Index(fields=["survey", "submitted_on"], name="rollup_survey_day"),
        ]

    def __str__(self) -> str:
        return f"roll-up of survey {self.survey_id} on {self.submitted_on}"


class RollupMonth(RollupFields):
    """The day rows of one calendar month summed (`submitted_on` is the month's first day,
    named like the day rows' so one filter serves both): a year's dashboard sums a
    thousand of these instead of thirty thousand day rows."""

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "submitted_on"], name="rollup_org_month"),
            models.Index(fields=["survey", "submitted_on"], name="rollup_survey_month"),
        ]

    def __str__(self) -> str:
        return f"roll-up of survey {self.survey_id} in {self.submitted_on:%Y-%m}"


class RollupState(models.Model):
    """The one row saying which responses the roll-ups hold (its pk is always 1)."""

    watermark = models.BigIntegerField(default=0)
    # [[response id, unix time first seen missing], …]: ids at or under the watermark that
    # were not committed when the fold passed them; read live until they turn up.
    pending = models.JSONField(default=list, blank=True)
    # [[organisation id, survey id, "YYYY-MM-DD"], …]: survey-days whose folded responses
    # changed after they were folded; read live until the next fold recomputes them.
    # Kept on this row (not a table of their own) so a reader learns all it needs in
    # one query; marks are rare (an admin edit, a late sentiment score).
    dirty = models.JSONField(default=list, blank=True)
    folded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"roll-ups up to response {self.watermark}"

    def dirty_of(self, organisation_id: int) -> list[tuple[int, str]]:
        return [(int(s), day) for o, s, day in self.dirty if int(o) == organisation_id]

    @property
    def pending_ids(self) -> list[int]:
        return [int(row[0]) for row in self.pending]


COUNT_FIELDS = _COUNTS
