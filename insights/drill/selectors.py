"""The responses behind a figure, one by one, under the minimum group size.

Three queries for the list whatever the page size: the count, the places grouping, and the
page itself (its survey, store, channel and case joined, its score answers prefetched).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from communities.models import Organisation
from insights.drill.filters import (
    ResponseFilters,
    place_counts,
    places_hidden,
    responses_selected,
)
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Answer, Response

SCORE_TYPES = (QuestionType.NPS, QuestionType.STAR, QuestionType.CSAT)


@dataclass
class Drill:
    k: int
    count: int | None  # None when withheld: fewer than k responses match
    responses: QuerySet | None = None
    hidden_places: set = field(default_factory=set)

    @property
    def withheld(self) -> bool:
        return self.count is None


def place_of(response: Response) -> tuple:
    # No channel means the public link, as on the dashboard.
    return (response.location_id, response.channel.kind if response.channel else ChannelKind.LINK)


def responses_behind(*, organisation: Organisation, filters: ResponseFilters) -> Drill:
    """The responses the filters select, newest first, or none when fewer than k."""
    k = organisation.min_group_size
    responses = responses_selected(organisation=organisation, filters=filters)
    count = responses.count()
    if count < k:
        return Drill(k=k, count=None if count else 0)
    counts: dict[tuple, int] = {}
    for (location, kind), n in place_counts(
        responses=responses, fields=("location_id", "channel__kind")
    ).items():
        key = (location, kind or ChannelKind.LINK)
        counts[key] = counts.get(key, 0) + n
    scores = Answer.objects.for_organisation(organisation).filter(question_type__in=SCORE_TYPES)
    listed = (
        responses.select_related("survey", "location", "channel", "case")
        .prefetch_related(Prefetch("answers", queryset=scores, to_attr="scores"))
        .order_by("-submitted_at", "-pk")
    )
    return Drill(
        k=k, count=count, responses=listed, hidden_places=places_hidden(counts=counts, k=k)
    )


@dataclass
class Row:
    response: Response
    place_shown: bool
    nps: int | None
    stars: int | None
    csat: int | None


def rows_of(*, page, drill: Drill) -> list[Row]:
    """The page's responses with their scores and whether their place may be shown."""
    rows = []
    for response in page:
        numbers = {answer.question_type: answer.number for answer in response.scores}
        rows.append(
            Row(
                response=response,
                place_shown=place_of(response) not in drill.hidden_places,
                nps=numbers.get(QuestionType.NPS),
                stars=numbers.get(QuestionType.STAR),
                csat=numbers.get(QuestionType.CSAT),
            )
        )
    return rows
