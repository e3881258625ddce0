"""Filters shared by the two pages that list responses one by one (the responses behind a
figure, and the text answers): what may be asked, and which responses it selects.

A list of single responses is more revealing than a table of counts, so both pages apply
the same two rules (surveys.disclosure):

- a filter, or a combination of filters, that selects fewer than k responses lists none;
- a response's place (its store, and on the drill page its channel too) is shown only when
  the group it belongs to *in this view* holds at least k responses, and the groups hidden
  together hold none or at least k (complementary suppression, as on the dashboard), so
  counting the rows of each place never tells a small group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from communities.models import Organisation
from insights.selectors import DashboardFilters, responses_filtered
from surveys.choices import QuestionType
from surveys.disclosure import suppress_line
from surveys.metrics import CSAT_SATISFIED_MIN, NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN
from surveys.models import Answer

NPS_BANDS = {
    "detractor": Q(number__lte=NPS_DETRACTOR_MAX),
    "passive": Q(number__gt=NPS_DETRACTOR_MAX, number__lt=NPS_PROMOTER_MIN),
    "promoter": Q(number__gte=NPS_PROMOTER_MIN),
}
CSAT_BANDS = {
    "satisfied": Q(number__gte=CSAT_SATISFIED_MIN),
    "unsatisfied": Q(number__lt=CSAT_SATISFIED_MIN),
}


@dataclass(frozen=True)
class ResponseFilters:
    start: dt.date
    end: dt.date  # inclusive
    survey: int | None = None
    channel: str | None = None
    location: int | None = None
    language: str | None = None
    # Who answered, applied by insights.selectors as on the dashboard.
    segment: int | None = None
    status: str | None = None
    tier: int | None = None
    band: str | None = None  # NPS: detractor, passive, promoter
    stars: int | None = None  # 1…5
    csat: str | None = None  # satisfied, unsatisfied
    interval: str = ""  # the top terms' periods: day, week, month, or "" for automatic

    def dashboard(self) -> DashboardFilters:
        return DashboardFilters(
            start=self.start,
            end=self.end,
            interval=self.interval,
            survey=self.survey,
            channel=self.channel,
            location=self.location,
            language=self.language,
            segment=self.segment,
            status=self.status,
            tier=self.tier,
        )

    def but(self, **changes: Any) -> ResponseFilters:
        return replace(self, **changes)


def _with_answer(question_type: str, condition: Q) -> Exists:
    return Exists(
        Answer.objects.filter(response=OuterRef("pk"), question_type=question_type).filter(
            condition
        )
    )


def responses_selected(*, organisation: Organisation, filters: ResponseFilters) -> QuerySet:
    """The organisation's responses the filters select (a response "is a detractor" when
    its NPS answer is 0–6, and so on for the other bands; anonymous responses hold no
    member, so a segment, status or tier never selects one)."""
    responses = responses_filtered(organisation=organisation, filters=filters.dashboard())
    if filters.band in NPS_BANDS:
        responses = responses.filter(_with_answer(QuestionType.NPS, NPS_BANDS[filters.band]))
    if filters.stars is not None:
        responses = responses.filter(_with_answer(QuestionType.STAR, Q(number=filters.stars)))
    if filters.csat in CSAT_BANDS:
        responses = responses.filter(_with_answer(QuestionType.CSAT, CSAT_BANDS[filters.csat]))
    return responses


def places_hidden(*, counts: dict, k: int) -> set:
    """The places (group keys) whose responses are listed without their place: groups of
    fewer than k, and the next-smallest beside them until the hidden ones add up to k."""
    return suppress_line(counts, k=k)


def place_counts(*, responses: QuerySet, fields: tuple[str, ...]) -> dict[tuple, int]:
    """Responses per place in one grouping query (`fields` are Response columns)."""
    rows = responses.values(*fields).annotate(n=Count("pk", distinct=True)).order_by()
    return {tuple(row[f] for f in fields): row["n"] for row in rows}
