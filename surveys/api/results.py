"""GET /api/v1/<org>/surveys/<id>/results/: a survey's results, the figures of its staff
results page (surveys.views.results), for dashboards and BI tools.

Both render one `SurveyResults` (surveys.selectors_results), so the two never disagree,
and both take the page's filters as query parameters (since, until, channel, location,
language). The organisation's minimum group size k is applied as on the page: a group of
fewer than k responses, and the next-smallest group wherever a total shown beside it
would give it away, is listed with its figures null and `suppressed: true`; a figure
resting on fewer than k answers is null; a filter that narrows the survey to fewer than
k responses gives `withheld: true` and no figures at all.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response as DRFResponse

from communities.api.auth import ApiTokenAuthentication
from communities.api.serializers import Unprocessable
from communities.permissions import can_read_results
from communities.scoping import OrganisationScopedAPIView
from surveys.choices import ChannelKind, QuestionType, SurveyKind
from surveys.disclosure import Cell
from surveys.exports.params import export_params_read
from surveys.models import Survey
from surveys.poll_trend import INTERVALS
from surveys.selectors_results import SurveyResults, survey_results

# --- shapes ------------------------------------------------------------------------------

SUPPRESSED = "Fewer than min_group_size responses, or the next-smallest group hidden beside one "
SUPPRESSED += "that a total would give away: the figures are null."


class ResultsSurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="In the caller's language, else the survey's.")
    kind = serializers.ChoiceField(choices=SurveyKind.choices)


class NpsResultSerializer(serializers.Serializer):
    score = serializers.FloatField(
        allow_null=True,
        help_text="Promoters minus detractors, in percent of NPS answers (−100 to 100), to "
        "one decimal; null with fewer than min_group_size NPS answers.",
    )
    answers = serializers.IntegerField(
        allow_null=True, help_text="NPS answers counted; null when fewer than min_group_size."
    )
    promoters = serializers.IntegerField(allow_null=True, help_text="Answers of 9 or 10.")
    passives = serializers.IntegerField(allow_null=True, help_text="Answers of 7 or 8.")
    detractors = serializers.IntegerField(allow_null=True, help_text="Answers of 0 to 6.")


class CsatResultSerializer(serializers.Serializer):
    satisfied = serializers.FloatField(
        allow_null=True,
        help_text="Percent of CSAT answers of 4 or 5 (of 5), to one decimal; null with "
        "fewer than min_group_size CSAT answers.",
    )
    mean = serializers.FloatField(allow_null=True, help_text="The mean CSAT answer (1–5).")


class BreakdownCellSerializer(serializers.Serializer):
    responses = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField(help_text=SUPPRESSED)
    nps = serializers.FloatField(
        allow_null=True, help_text="null with fewer than min_group_size NPS answers."
    )
    csat = serializers.FloatField(
        allow_null=True, help_text="Percent satisfied; null with fewer than min_group_size."
    )
    stars = serializers.FloatField(
        allow_null=True, help_text="Mean stars; null with fewer than min_group_size."
    )


class LanguageResultSerializer(BreakdownCellSerializer):
    language = serializers.CharField(help_text="The language the responses were given in.")


class ChannelResultSerializer(BreakdownCellSerializer):
    channel = serializers.ChoiceField(
        choices=ChannelKind.choices,
        help_text="link includes answers through the survey's own public link.",
    )
    label = serializers.CharField(help_text="The channel in the caller's language.")


class StoreChannelSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    responses = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField(help_text=SUPPRESSED)


class StoreResultSerializer(BreakdownCellSerializer):
    store_id = serializers.IntegerField(
        allow_null=True, help_text="null: the responses given at no store."
    )
    store = serializers.CharField(help_text="The store's name.")
    channels = StoreChannelSerializer(
        many=True, help_text="The store's responses per channel, one per channel of by_channel."
    )


class DistributionCellSerializer(serializers.Serializer):
    value = serializers.IntegerField(
        allow_null=True, help_text="The score (number questions); null for a choice."
    )
    choice_id = serializers.IntegerField(
        allow_null=True, help_text="The choice (choice questions); null for a score."
    )
    label = serializers.CharField(help_text="In the caller's language.")
    count = serializers.IntegerField(allow_null=True, help_text="null when suppressed.")
    percent = serializers.IntegerField(
        allow_null=True,
        help_text="Of the question's answers, rounded (several choices of one answer each "
        "count); null when suppressed.",
    )


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = serializers.CharField(help_text="In the caller's language, else the survey's.")
    answers = serializers.IntegerField(
        allow_null=True,
        help_text="How many responses answered it; null when fewer than min_group_size.",
    )
    suppressed = serializers.BooleanField(
        help_text="Fewer than min_group_size answers: the split is withheld (counts null)."
    )
    distribution = DistributionCellSerializer(
        many=True,
        help_text="Every score of the scale or every choice, in order; empty for text.",
    )


class TrendCellSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The answer, in the caller's language.")
    count = serializers.IntegerField(allow_null=True, help_text="null when suppressed.")
    percent = serializers.IntegerField(
        allow_null=True, help_text="Of the period's votes, rounded; null when suppressed."
    )


class TrendPeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The period's first day (a Monday, or the 1st).")
    votes = serializers.IntegerField(
        allow_null=True, help_text="The period's votes; null when suppressed."
    )
    cells = TrendCellSerializer(many=True, help_text="Every answer, in the poll's order.")


class PollTrendSerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["week", "month"])
    periods = TrendPeriodSerializer(many=True)


class SurveyResultsOutputSerializer(serializers.Serializer):
    survey = ResultsSurveySerializer()
    min_group_size = serializers.IntegerField(
        help_text="The organisation's minimum group size: smaller groups are suppressed."
    )
    filtered = serializers.BooleanField(help_text="Whether a filter narrowed the responses.")
    responses = serializers.IntegerField(
        allow_null=True,
        help_text="The responses the filters match (all, unfiltered); null when a filter "
        "narrowed them to fewer than min_group_size.",
    )
    withheld = serializers.BooleanField(
        help_text="Fewer than min_group_size responses: every figure below is null or empty."
    )
    pooled = serializers.IntegerField(
        help_text="Anonymous answers waiting to be released in a batch; not counted yet."
    )
    pool_batch = serializers.IntegerField(help_text="The size of the batches they are released in.")
    cases_open = serializers.IntegerField(
        help_text="The survey's follow-up cases not resolved yet (not filtered)."
    )
    nps = NpsResultSerializer(allow_null=True)
    has_csat = serializers.BooleanField(help_text="Whether the survey asks a CSAT question.")
    csat = CsatResultSerializer(allow_null=True, help_text="null without a CSAT question.")
    stars = serializers.FloatField(
        allow_null=True, help_text="The mean of star answers, to two decimals."
    )
    sentiment = serializers.FloatField(
        allow_null=True, help_text="The mean sentiment of text answers, to two decimals."
    )
    by_language = LanguageResultSerializer(many=True)
    by_channel = ChannelResultSerializer(many=True)
    by_store = StoreResultSerializer(many=True)
    questions = QuestionResultSerializer(many=True)
    over_time = PollTrendSerializer(
        allow_null=True,
        help_text="A poll's votes per week or month (`every`), each cell suppressed as the "
        "page's table is; null for a survey, or when its figures are withheld.",
    )


# --- figures -----------------------------------------------------------------------------


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "responses": cell.responses,
        "suppressed": cell.hidden,
        "nps": cell.nps,
        "csat": cell.csat,
        "stars": cell.stars,
    }


def survey_results_api(*, survey: Survey, results: SurveyResults) -> dict[str, Any]:
    """The results page's figures as the API answers them (see the module docstring)."""
    nps, stores, trend = results.nps, results.stores, results.poll_trend
    return {
        "survey": {"id": survey.pk, "title": survey.title_text, "kind": survey.kind},
        "min_group_size": results.k,
        "filtered": results.filtered,
        "responses": results.responses,
        "withheld": results.withheld,
        "pooled": results.pooled,
        "pool_batch": results.pool_batch,
        "cases_open": results.cases_open,
        "nps": None
        if nps is None
        else {
            "score": nps.score,
            "answers": nps.answers,
            "promoters": nps.promoters,
            "passives": nps.passives,
            "detractors": nps.detractors,
        },
        "has_csat": results.has_csat,
        "csat": {"satisfied": results.csat, "mean": results.csat_mean}
        if results.has_csat
        else None,
        "stars": results.stars,
        "sentiment": results.sentiment,
        "by_language": [{"language": c.key, **_cell(c)} for c in results.by_language],
        "by_channel": [
            {"channel": c.key, "label": c.label, **_cell(c)}
            for c in (stores.by_channel if stores else [])
        ],
        "by_store": [
            {
                "store_id": row.key,
                "store": row.label,
                "channels": [
                    {"channel": c.key, "responses": c.responses, "suppressed": c.hidden}
                    for c in row.cells
                ],
                **_cell(row.total),
            }
            for row in (stores.rows if stores else [])
        ],
        "questions": [
            {
                "id": split.question.pk,
                "position": split.question.position,
                "type": split.question.type,
                "text": split.question.text_for(),
                "answers": split.answers,
                "suppressed": split.suppressed,
                "distribution": [vars(cell) for cell in split.cells],
            }
            for split in results.questions
        ],
        "over_time": None
        if trend is None
        else {
            "interval": trend.interval,
            "periods": [
                {"start": p.start, "votes": p.answers, "cells": [vars(c) for c in p.cells]}
                for p in trend.periods
            ],
        },
    }


FILTERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="Responses from this day on."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Responses up to this day."),
    OpenApiParameter(
        "channel", OpenApiTypes.STR, enum=ChannelKind.values, description="One channel kind."
    ),
    OpenApiParameter("location", OpenApiTypes.INT, description="One store's id."),
    OpenApiParameter(
        "language",
        OpenApiTypes.STR,
        enum=[code for code, _name in settings.LANGUAGES],
        description="The responses' language.",
    ),
    OpenApiParameter(
        "every",
        OpenApiTypes.STR,
        enum=list(INTERVALS),
        description="A poll's periods in `over_time` (default: weeks up to half a year).",
    ),
]
FILTERED = OpenApiResponse(
    description="The filters fit the schema but the organisation's data refuses them "
    "(`code` unprocessable): a store id it does not have, until before since, a day "
    "outside the years responses can have."
)
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(raw: str) -> bool:
    try:
        datetime.date.fromisoformat(raw)
    except ValueError:
        return False
    return DAY.fullmatch(raw) is not None


# A value of the shape each filter's schema gives, or the request does not fit it (400).
# The shape checked here, the page's form then decides whether the data allows it (422).
SHAPES = {
    "since": _day,
    "until": _day,
    "channel": lambda raw: raw in ChannelKind.values,
    "location": lambda raw: raw.isascii() and raw.lstrip("-").isdigit(),
    "language": lambda raw: raw in {code for code, _name in settings.LANGUAGES},
    "every": lambda raw: raw in INTERVALS,
}


def results_filters_check(query: Any) -> None:
    """Refuse (400) a filter that is not of its schema's shape: empty, a day that is not
    YYYY-MM-DD, a channel or language not in the list, a store id that is no integer."""
    errors = {
        name: [_("Not a value this filter takes.")]
        for name, fits in SHAPES.items()
        if name in query and not fits(query[name])
    }
    if errors:
        raise ValidationError(errors)


# --- the view ----------------------------------------------------------------------------


class SurveyResultsAPI(OrganisationScopedAPIView, generics.RetrieveAPIView):
    """Owners, admins and analysts (as the staff results page), or an API key with the
    "results" scopes."""

    api_area = "results"
    model = Survey
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    permission = staticmethod(can_read_results)
    serializer_class = SurveyResultsOutputSerializer

    @extend_schema(
        summary="A survey's results",
        description=(
            "The figures of the survey's staff results page, filtered as the page is: "
            "responses, NPS, CSAT, the mean of star answers and of sentiment, open cases, "
            "responses by language, by channel and by store (with each store's channels), "
            "every question's split, and a poll's votes per week or month. Groups smaller "
            "than the organisation's minimum group size, and the next-smallest group where "
            "a total would give one away, are listed with their figures null and "
            "`suppressed: true`; a filter matching "
            "fewer responses than that gives `withheld: true` and no figures. Anonymous "
            "answers still waiting in the pool are not counted (see `pooled`). Labels and "
            "texts are in the caller's language (Accept-Language)."
        ),
        parameters=FILTERS,
        responses={200: SurveyResultsOutputSerializer, 422: FILTERED},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.get_object()
        results_filters_check(request.query_params)
        params, form = export_params_read(
            organisation=self.organisation, data=request.query_params, default_labels=""
        )
        if params is None:
            raise Unprocessable(
                {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            )
        results = survey_results(
            organisation=self.organisation,
            survey=survey,
            params=params,
            every=request.query_params.get("every"),
        )
        figures = survey_results_api(survey=survey, results=results)
        return DRFResponse(SurveyResultsOutputSerializer(figures).data)
