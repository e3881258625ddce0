"""A survey's results counts (surveys.selectors_results.ResultsCounts) read from the
roll-ups, registered in InsightsConfig.ready() as surveys' results reader: the metric
components from the day and month roll-ups (insights.rollups.read), each question's counts
from the per-question roll-ups (insights.rollups.questions), both with the live tail, so
every figure equals a scan of the responses while no query reads a folded response.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, Sum

from communities.models import Organisation
from insights.models import RollupState
from insights.rollups.fold import folded_filter
from insights.rollups.questions import question_counts, question_days
from insights.rollups.read import rollup_source, rollup_state, whole_months
from surveys.choices import ChannelKind
from surveys.exports.params import ExportParams
from surveys.models import Answer, Response, Survey
from surveys.selectors_results import ResultsCounts, question_days_scan

# The days an unbounded filter reaches (dates no response can lie outside of).
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(9999, 11, 30)


def tail_filter(*, organisation: Organisation, state: RollupState) -> Q:
    """A Q on responses selecting those the roll-ups do not hold, dirty survey-days included."""
    tail = folded_filter(state)
    for survey_id, day in state.dirty_of(organisation.pk):
        tail |= Q(survey_id=survey_id, submitted_on=day)
    return tail


def _narrowing(*, survey: Survey, params: ExportParams) -> Q:
    """The results filters other than the dates, as a Q on any of responses, day, month
    and question roll-ups (their fields are named alike); as surveys.exports.selectors
    applies them to the responses."""
    narrow = Q(survey_id=survey.pk)
    if params.channel is not None:
        on_channel = Q(channel__kind=params.channel)
        if params.channel == ChannelKind.LINK:
            on_channel |= Q(channel__isnull=True)  # the survey's own public link
        narrow &= on_channel
    if params.location_id is not None:
        narrow &= Q(location_id=params.location_id)
    if params.language is not None:
        narrow &= Q(language=params.language)
    return narrow


def results_counts_rollups(
    *,
    organisation: Organisation,
    survey: Survey,
    params: ExportParams,
    trend_question: int | None = None,
) -> ResultsCounts:
    """A survey's results counts (surveys.selectors_results) from the roll-ups and their
    live tail, equal to a scan of the responses. The dates filter the stored day
    (`submitted_on`), as the dashboard does."""
    state = rollup_state()
    start, end = params.since or FIRST_DAY, params.until or LAST_DAY
    narrow = _narrowing(survey=survey, params=params)
    source = rollup_source(
        organisation=organisation,
        start=start,
        end=end,
        narrow=lambda rows: rows.filter(narrow),
        state=state,
    )
    total = source.aggregate()
    sentiment = 0.0
    for rows in source.rolled:
        sentiment += rows.aggregate(s=Sum("sentiment_sum"))["s"] or 0.0
    tail = (
        Response.objects.for_organisation(organisation)
        .filter(submitted_on__gte=start, submitted_on__lte=end)
        .filter(narrow)
        .filter(tail_filter(organisation=organisation, state=state))
    )
    if source.tail is not None:
        sentiment += source.tail.aggregate(s=Sum("answers__sentiment"))["s"] or 0.0
    totals, by_number, by_choice = question_counts(
        organisation=organisation,
        state=state,
        start=start,
        end=end,
        rolled_filter=narrow,
        tail_responses=tail,
        months=whole_months(start, end),
    )
    days = []
    if trend_question is not None:
        days = question_days(
            organisation=organisation,
            state=state,
            start=start,
            end=end,
            rolled_filter=narrow,
            question_id=trend_question,
        )
        if not getattr(state, "tail_empty", False) or state.dirty_of(organisation.pk):
            answers = Answer.objects.for_organisation(organisation).filter(
                response__in=tail.values("pk")
            )
            days += question_days_scan(answers=answers, question_id=trend_question)
    scored = total["sentiment_scored"]
    return ResultsCounts(
        total=total,
        sentiment_mean=sentiment / scored if scored else None,
        by_language=source.grouped("language"),
        by_store_channel=source.grouped("location_id", "location__name", "channel__kind"),
        question_answers=totals,
        by_number=by_number,
        by_choice=by_choice,
        days=days,
    )
