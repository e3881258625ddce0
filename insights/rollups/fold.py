"""Fold responses into the roll-ups, and rebuild them from the responses.

The fold runs as a beat task (insights.rollups.tasks) and never touches the submit path:
it reads the responses with an id above the watermark, recomputes every survey-day they
fall in from the responses themselves (so running it twice changes nothing), and moves the
watermark. An id under the new watermark that is not there yet belongs to a transaction
still open (ids are taken before commit); it is kept pending and read live until it turns
up, or forgotten after `MISSING_FORGET_SECONDS` (a rolled-back insert leaves a hole for
good). Only the last GAP_WINDOW ids are awaited so, and none below the first response the
first fold sees: an insert still open after ten thousand later ones is not expected.
Survey-days marked dirty (insights.rollups.dirty) are recomputed as well.

Everything runs under a row lock on the one RollupState row, so folds and rebuilds never
interleave.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from communities.models import Organisation
from insights.models import COUNT_FIELDS, RollupBucket, RollupMonth, RollupState
from insights.rollups.questions import answers_clear, answers_recompute
from surveys.metrics import metric_aggregates
from surveys.models import Response

# An uncommitted insert older than this is taken to have rolled back.
MISSING_FORGET_SECONDS = 600
# How far below the newest id an absent id is still awaited.
GAP_WINDOW = 10_000
# Responses read per fold; a backlog is worked through over several.
FOLD_BATCH = 200_000
# Days recomputed per query.
DAYS_PER_QUERY = 400

DIMENSIONS = ("organisation_id", "survey_id", "submitted_on", "channel_id", "location_id")


def bucket_aggregates() -> dict:
    """The aggregates a roll-up row stores, over a response query."""
    return {**metric_aggregates(), "sentiment_sum": Sum("answers__sentiment")}


def state_locked() -> RollupState:
    """The state row, locked for the rest of the transaction."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def _folded(responses, *, watermark: int, pending: Iterable[int]):
    """The responses the roll-ups hold: up to the watermark, the pending ones excepted."""
    responses = responses.filter(pk__lte=watermark)
    pending = list(pending)
    return responses.exclude(pk__in=pending) if pending else responses


def _insert_groups(responses) -> int:
    """INSERT … SELECT the responses' groups as roll-up rows, inside the database (the ORM's
    bulk_create would cost more in Python than the grouping does in SQL)."""
    aggregates = bucket_aggregates()
    grouped = responses.values(*DIMENSIONS, "language").annotate(**aggregates).order_by()
    select, params = grouped.query.sql_with_params()
    fields = [*DIMENSIONS, "language", *aggregates]
    columns = ", ".join(connection.ops.quote_name(name) for name in fields)
    # A group with no answer of a kind sums to NULL; the roll-up stores 0.
    values = ", ".join(
        f"COALESCE({connection.ops.quote_name(name)}, 0)"
        if name in aggregates
        else connection.ops.quote_name(name)
        for name in fields
    )
    table = connection.ops.quote_name(RollupBucket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM ({select}) AS grouped",
            params,
        )
        return cursor.rowcount


def _month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _recompute_months(*, survey_days: dict[int, set]) -> None:
    """Replace the month rows of the months these survey-days fall in with the sums of
    their day rows (INSERT … SELECT, the month's first day as a constant)."""
    dims = ("organisation_id", "survey_id", "channel_id", "location_id", "language")
    sums = (*COUNT_FIELDS, "sentiment_sum")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in (*dims, "submitted_on", *sums))
    picked = ", ".join(quote(name) for name in dims)
    summed = ", ".join(f"SUM({quote(name)})" for name in sums)
    days_table = quote(RollupBucket._meta.db_table)
    months_table = quote(RollupMonth._meta.db_table)
    with connection.cursor() as cursor:
        for survey_id, days in survey_days.items():
            for first in sorted({day.replace(day=1) for day in days}):
                first, last = _month_of(first)
                RollupMonth.objects.filter(survey_id=survey_id, submitted_on=first).delete()
                cursor.execute(
                    f"INSERT INTO {months_table} ({columns}) SELECT {picked}, %s, {summed} "
                    f"FROM {days_table} WHERE survey_id = %s AND submitted_on >= %s "
                    f"AND submitted_on <= %s GROUP BY {picked}",
                    [first, survey_id, first, last],
                )


def _recompute(*, survey_days: dict[int, set], watermark: int, pending: Iterable[int]) -> int:
    """Replace the roll-up rows of these survey-days with ones computed from the responses,
    and the month rows of their months with the sums of the day rows."""
    pending = list(pending)
    written = 0
    for survey_id, days in survey_days.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), DAYS_PER_QUERY):
            chunk = ordered[start : start + DAYS_PER_QUERY]
            RollupBucket.objects.filter(survey_id=survey_id, submitted_on__in=chunk).delete()
            folded = _folded(
                Response.objects.filter(survey_id=survey_id, submitted_on__in=chunk),
                watermark=watermark,
                pending=pending,
            )
            written += _insert_groups(folded)
            written += answers_recompute(survey_id=survey_id, days=chunk, responses=folded)
    _recompute_months(survey_days=survey_days)
    return written


@transaction.atomic
def rollups_fold(*, batch: int = FOLD_BATCH, now: float | None = None) -> int:
    """Fold the next responses past the watermark (and any pending or dirty) into the
    roll-ups; the number of responses newly folded. Idempotent."""
    now = time.time() if now is None else now
    state = state_locked()
    watermark = state.watermark
    pending = {int(pk): float(seen) for pk, seen in state.pending}
    touched: dict[int, set] = defaultdict(set)
    folded = 0

    new = list(
        Response.objects.filter(pk__gt=watermark)
        .order_by("pk")
        .values_list("pk", "survey_id", "submitted_on")[:batch]
    )
    if new:
        present = {pk for pk, _survey, _day in new}
        top = new[-1][0]
        # Only ids taken recently can belong to a transaction still open: the window
        # bounds the list when ids jump (a sequence's cache, a first fold on a database
        # whose ids start high).
        low = max(watermark, top - GAP_WINDOW) if watermark else new[0][0] - 1
        for pk in range(low + 1, top + 1):
            if pk not in present:
                pending[pk] = now
        for _pk, survey_id, day in new:
            touched[survey_id].add(day)
        folded += len(new)
        watermark = top
    if pending:
        arrived = Response.objects.filter(pk__in=list(pending)).values_list(
            "pk", "survey_id", "submitted_on"
        )
        for pk, survey_id, day in arrived:
            del pending[pk]
            touched[survey_id].add(day)
            folded += 1
        pending = {pk: seen for pk, seen in pending.items() if now - seen < MISSING_FORGET_SECONDS}
    for _organisation_id, survey_id, day in state.dirty:
        touched[int(survey_id)].add(dt.date.fromisoformat(day))
    _recompute(survey_days=touched, watermark=watermark, pending=pending)
    state.dirty = []
    state.watermark = watermark
    state.pending = [[pk, seen] for pk, seen in sorted(pending.items())]
    state.folded_at = timezone.now()
    state.save()
    return folded


def rollups_fold_all(*, batch: int = FOLD_BATCH) -> int:
    """Fold until the watermark reaches the newest response (each batch commits)."""
    total = 0
    while True:
        folded = rollups_fold(batch=batch)
        total += folded
        if not Response.objects.filter(pk__gt=RollupState.objects.get(pk=1).watermark).exists():
            return total


@transaction.atomic
def rollups_rebuild(*, organisation: Organisation | None = None) -> int:
    """Recompute the roll-ups (of one organisation, or all) from the responses the state
    says are folded; the number of roll-up rows written."""
    state = state_locked()
    buckets = RollupBucket.objects.all()
    responses = Response.objects.all()
    months = RollupMonth.objects.all()
    if organisation is not None:
        buckets = buckets.filter(organisation=organisation)
        months = months.filter(organisation=organisation)
        responses = responses.filter(organisation=organisation)
    buckets.delete()
    months.delete()
    answers_clear(organisation=organisation)
    survey_days: dict[int, set] = defaultdict(set)
    folded = _folded(responses, watermark=state.watermark, pending=state.pending_ids)
    for survey_id, day in folded.values_list("survey_id", "submitted_on").distinct().order_by():
        survey_days[survey_id].add(day)
    written = _recompute(
        survey_days=survey_days, watermark=state.watermark, pending=state.pending_ids
    )
    state.dirty = (
        []
        if organisation is None
        else [mark for mark in state.dirty if int(mark[0]) != organisation.pk]
    )
    state.save(update_fields=["dirty"])
    return written


def folded_filter(state: RollupState) -> Q:
    """A Q on responses selecting those NOT held by the roll-ups (the live tail), dirty
    survey-days aside."""
    tail = Q(pk__gt=state.watermark)
    if state.pending:
        tail |= Q(pk__in=state.pending_ids)
    return tail
