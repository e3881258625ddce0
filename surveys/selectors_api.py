"""Reads for the surveys API: responses filtered as an integration asks, and which of them sit
in a group too small to show where and when they were given.

The organisation's minimum group size k is the results pages' rule (surveys.selectors
survey_results: a store's row needs k responses) applied to single responses:

- a response whose store has fewer than k responses in its survey, or whose store and
  channel kind together have, is in a small group: the API withholds its store, its channel
  and its time of day (responses_in_small_groups);
- filters on the withheld attributes (store, channel, time) match only responses outside
  small groups, so a filter cannot place one in its group either (response_list_api);
- a filtered list matching fewer than k responses (but some) is refused by the caller
  (surveys.api.responses), so no filter singles out a few people.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Count, Prefetch, Q, QuerySet

from communities.models import Location, Organisation
from surveys.choices import SCALE_TYPES, ChannelKind, QuestionType
from surveys.models import Answer, Question, Response, Survey


@dataclass(frozen=True)
class ResponseFilters:
    survey: Survey | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None
    channel: str | None = None
    location: Location | None = None
    language: str | None = None
    score_question: Question | None = None
    min_score: int | None = None
    max_score: int | None = None

    @property
    def narrowing(self) -> bool:
        """Whether anything beyond the survey narrows the list (the k rule applies)."""
        return self.on_withheld or any(
            value is not None for value in (self.language, self.min_score, self.max_score)
        )

    @property
    def on_withheld(self) -> bool:
        """Whether a filter looks at what small groups withhold: store, channel, time."""
        return any(
            value is not None
            for value in (self.submitted_after, self.submitted_before, self.channel, self.location)
        )


def survey_score_question(*, survey: Survey) -> Question | None:
    """The question whose number is the survey's score: its first NPS question, else its
    first other scale (CSAT, stars, rating); shown questions before hidden ones."""
    scales = list(survey.questions.filter(type__in=SCALE_TYPES).order_by("hidden", "position"))
    return next((q for q in scales if q.type == QuestionType.NPS), None) or next(iter(scales), None)


def _channel_q(kind: str) -> Q:
    # A response with no channel came through the public link (as the results pages say).
    if kind == ChannelKind.LINK:
        return Q(channel__isnull=True) | Q(channel__kind=kind)
    return Q(channel__kind=kind)


def _small_groups_q(*, organisation: Organisation, filters: ResponseFilters) -> Q | None:
    """Responses in small groups, within the scope the filters give (one survey, one store,
    one channel kind, where they name one); None when there are none."""
    scope = Response.objects.for_organisation(organisation).filter(location__isnull=False)
    if filters.survey is not None:
        scope = scope.filter(survey=filters.survey)
    if filters.location is not None:
        scope = scope.filter(location=filters.location)
    rows = list(
        scope.order_by()
        .values_list("survey_id", "location_id", "channel__kind")
        .annotate(n=Count("pk"))
    )
    minimum = organisation.min_group_size
    per_store = Counter()
    for survey_id, location_id, _kind, n in rows:
        per_store[survey_id, location_id] += n
    small = [
        Q(survey_id=survey_id, location_id=location_id)
        for (survey_id, location_id), n in per_store.items()
        if n < minimum
    ] + [
        Q(survey_id=survey_id, location_id=location_id)
        & (Q(channel__isnull=True) if kind is None else Q(channel__kind=kind))
        for survey_id, location_id, kind, n in rows
        if n < minimum and per_store[survey_id, location_id] >= minimum
    ]
    return reduce(or_, small) if small else None


def response_list_api(
    *, organisation: Organisation, filters: ResponseFilters
) -> QuerySet[Response]:
    """The organisation's responses the filters match (see the module docstring for the
    small groups), with their answers and chosen choices, in bounded queries."""
    responses = Response.objects.for_organisation(organisation)
    if filters.survey is not None:
        responses = responses.filter(survey=filters.survey)
    if filters.submitted_after is not None:
        responses = responses.filter(submitted_at__gte=filters.submitted_after)
    if filters.submitted_before is not None:
        responses = responses.filter(submitted_at__lt=filters.submitted_before)
    if filters.channel is not None:
        responses = responses.filter(_channel_q(filters.channel))
    if filters.location is not None:
        responses = responses.filter(location=filters.location)
    if filters.language is not None:
        responses = responses.filter(language=filters.language)
    if filters.min_score is not None or filters.max_score is not None:
        scored = {"answers__question": filters.score_question}
        if filters.min_score is not None:
            scored["answers__number__gte"] = filters.min_score
        if filters.max_score is not None:
            scored["answers__number__lte"] = filters.max_score
        responses = responses.filter(**scored)
    if filters.on_withheld:
        small = _small_groups_q(organisation=organisation, filters=filters)
        if small is not None:
            responses = responses.exclude(small)
    return responses_with_answers(responses)


def responses_with_answers(responses: QuerySet[Response]) -> QuerySet[Response]:
    return responses.select_related("channel").prefetch_related(
        Prefetch("answers", queryset=Answer.objects.order_by("pk").prefetch_related("choices"))
    )


def responses_in_small_groups(*, organisation: Organisation, responses: list[Response]) -> set[int]:
    """The ids of these responses whose store, or store and channel kind, has fewer than the
    organisation's minimum group size of responses in its survey (one query)."""
    placed = [r for r in responses if r.location_id is not None]
    if not placed:
        return set()
    rows = (
        Response.objects.for_organisation(organisation)
        .filter(
            survey_id__in={r.survey_id for r in placed},
            location_id__in={r.location_id for r in placed},
        )
        .order_by()
        .values_list("survey_id", "location_id", "channel__kind")
        .annotate(n=Count("pk"))
    )
    per_store: Counter = Counter()
    per_group: Counter = Counter()
    for survey_id, location_id, kind, n in rows:
        per_store[survey_id, location_id] += n
        per_group[survey_id, location_id, kind] += n
    minimum = organisation.min_group_size
    return {
        r.pk
        for r in placed
        if per_store[r.survey_id, r.location_id] < minimum
        or per_group[r.survey_id, r.location_id, r.channel.kind if r.channel else None] < minimum
    }
