"""Per-question roll-ups (insights.models.RollupAnswer): folded in the same pass as the
day roll-ups (insights.rollups.fold calls `answers_recompute` for every survey-day it
recomputes, over the same folded responses), and read with the same live-tail rule as
insights.rollups.read: the rows of the folded responses, dirty survey-days left out, plus
the answers of the responses the roll-ups do not hold yet (insights.rollups.results
passes them in).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum

from communities.models import Organisation
from insights.models import RollupAnswer, RollupState
from surveys.models import Answer

# RollupAnswer's dimension columns, and the path to each from an answer.
_DIMENSIONS = {
    "organisation_id": "organisation_id",
    "survey_id": "response__survey_id",
    "question_id": "question_id",
    "submitted_on": "response__submitted_on",
    "channel_id": "response__channel_id",
    "location_id": "response__location_id",
    "language": "response__language",
}


def _insert(rows: QuerySet, *, prefix: str, extra: tuple[str, str] | None) -> int:
    """INSERT … SELECT the rows' counts grouped by the dimensions (reached from `rows`
    through `prefix`) and `extra` (a (column, path from `rows`) pair: the score or the
    choice). Each
    selected column gets an alias, so the outer SELECT names it on every database."""
    columns = {column: f"{prefix}{path}" for column, path in _DIMENSIONS.items()}
    columns.update([extra] if extra else [])
    aliases = {f"d_{column}": F(path) for column, path in columns.items()}
    grouped = rows.values(**aliases).annotate(d_count=Count("pk")).order_by()
    select, params = grouped.query.sql_with_params()
    quote = connection.ops.quote_name
    targets = ", ".join(quote(name) for name in (*columns, "count", "month"))
    picked = ", ".join(quote(name) for name in (*aliases, "d_count"))
    table = quote(RollupAnswer._meta.db_table)
    with connection.cursor() as cursor:
        # The outer placeholder (a day row: month false) precedes the inner query's.
        cursor.execute(
            f"INSERT INTO {table} ({targets}) SELECT {picked}, %s FROM ({select}) AS grouped",
            [False, *params],
        )
        return cursor.rowcount


def answers_recompute(*, survey_id: int, days: list[dt.date], responses: QuerySet) -> int:
    """Replace the per-question rows of these survey-days with the counts of `responses`'
    answers (the folded responses of exactly those survey-days); the rows written."""
    RollupAnswer.objects.filter(survey_id=survey_id, month=False, submitted_on__in=days).delete()
    answers = Answer.objects.filter(response__in=responses.values("pk"))
    written = _insert(answers, prefix="", extra=None)
    written += _insert(answers.filter(number__isnull=False), prefix="", extra=("value", "number"))
    ticks = Answer.choices.through.objects.filter(answer__in=answers.values("pk"))
    written += _insert(ticks, prefix="answer__", extra=("choice_id", "choice_id"))
    _months_recompute(survey_id=survey_id, days=days)
    return written


def _months_recompute(*, survey_id: int, days: list[dt.date]) -> None:
    """Replace the month rows of the months these days fall in with their day rows'
    sums (a month split across two calls is summed again by the second, in the same
    transaction, so it ends whole)."""
    quote = connection.ops.quote_name
    kept = (*(name for name in _DIMENSIONS if name != "submitted_on"), "value", "choice_id")
    picked = ", ".join(quote(name) for name in kept)
    columns = ", ".join(quote(name) for name in (*kept, "submitted_on", "month", "count"))
    table = quote(RollupAnswer._meta.db_table)
    with connection.cursor() as cursor:
        for first in sorted({day.replace(day=1) for day in days}):
            last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            RollupAnswer.objects.filter(
                survey_id=survey_id, month=True, submitted_on=first
            ).delete()
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {picked}, %s, %s, SUM({quote('count')}) "
                f"FROM {table} WHERE {quote('survey_id')} = %s AND {quote('month')} = %s "
                f"AND {quote('submitted_on')} >= %s AND {quote('submitted_on')} <= %s "
                f"GROUP BY {picked}",
                [first, True, survey_id, False, first, last],
            )


def answers_clear(*, organisation: Organisation | None) -> None:
    """Drop the per-question rows (of one organisation, or all) before a rebuild."""
    rows = RollupAnswer.objects.all()
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    rows.delete()


def question_counts(
    *,
    organisation: Organisation,
    state: RollupState,
    start: dt.date,
    end: dt.date,
    rolled_filter: Q,
    tail_responses: QuerySet,
    months: tuple[dt.date, dt.date] | None = None,
) -> tuple[dict[int, int], dict[int, dict[int, int]], dict[int, dict[int, int]]]:
    """Each question's answers, per score and per choice, over the folded rows matching
    `rolled_filter` (the filters, named as on RollupAnswer) and the answers of
    `tail_responses` (the same filters on the responses the roll-ups do not hold).
    `months` (the first and last day of the whole calendar months inside start…end) are
    read from the month rows, unless a survey-day is dirty (then its month row is stale
    and the day rows serve)."""
    dirty = state.dirty_of(organisation.pk)
    days = Q(month=False, submitted_on__gte=start, submitted_on__lte=end)
    if months is not None and not dirty:
        days = (
            Q(month=False, submitted_on__gte=start, submitted_on__lt=months[0])
            | Q(month=False, submitted_on__gt=months[1], submitted_on__lte=end)
            | Q(month=True, submitted_on__gte=months[0], submitted_on__lte=months[1])
        )
    rows = RollupAnswer.objects.filter(organisation=organisation).filter(days, rolled_filter)
    for survey_id, day in dirty:
        rows = rows.exclude(survey_id=survey_id, submitted_on=day)
    totals: dict[int, int] = defaultdict(int)
    by_number: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    by_choice: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    grouped = rows.values_list("question_id", "value", "choice_id").annotate(n=Sum("count"))
    for question_id, value, choice_id, n in grouped.order_by():
        if choice_id is not None:
            by_choice[question_id][choice_id] += int(n)
        elif value is not None:
            by_number[question_id][value] += int(n)
        else:
            totals[question_id] += int(n)
    if not getattr(state, "tail_empty", False) or dirty:
        answers = Answer.objects.for_organisation(organisation).filter(
            response__in=tail_responses.values("pk")
        )
        for question_id, n in answers.values_list("question_id").annotate(n=Count("pk")).order_by():
            totals[question_id] += n
        numbered = answers.filter(number__isnull=False).values_list("question_id", "number")
        for question_id, number, n in numbered.annotate(n=Count("pk")).order_by():
            by_number[question_id][number] += n
        ticks = Answer.choices.through.objects.filter(answer__in=answers.values("pk"))
        ticked = ticks.values_list("answer__question_id", "choice_id").annotate(
            n=Count("answer_id")
        )
        for question_id, choice_id, n in ticked.order_by():
            by_choice[question_id][choice_id] += n
    return (
        dict(totals),
        {question: dict(counts) for question, counts in by_number.items()},
        {question: dict(counts) for question, counts in by_choice.items()},
    )


def question_days(
    *,
    organisation: Organisation,
    state: RollupState,
    start: dt.date,
    end: dt.date,
    rolled_filter: Q,
    question_id: int,
) -> list[tuple[dt.date, int | None, int | None, int]]:
    """One question's folded answers per stored day, per score and per choice (rows of
    surveys.selectors_results.ResultsCounts.days; the caller adds the live tail's)."""
    rows = RollupAnswer.objects.filter(
        organisation=organisation,
        question_id=question_id,
        month=False,
        submitted_on__gte=start,
        submitted_on__lte=end,
    ).filter(rolled_filter)
    for survey_id, day in state.dirty_of(organisation.pk):
        rows = rows.exclude(survey_id=survey_id, submitted_on=day)
    grouped = rows.values_list("submitted_on", "value", "choice_id").annotate(n=Sum("count"))
    return [(day, value, choice, int(n)) for day, value, choice, n in grouped.order_by()]
