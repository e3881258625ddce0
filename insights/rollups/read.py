"""Read metric components from the roll-ups plus the live tail, so every figure is exact
at any moment: the roll-up rows of the responses folded so far (dirty survey-days left
out) and, grouped the same way, the responses they do not hold yet (ids above the
watermark, the pending ids, and the dirty survey-days), read over the primary key's and
(survey, day) indexes. Both sides produce surveys.metrics components, which add up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet, Subquery, Sum, Value

from communities.models import Organisation
from insights.models import COUNT_FIELDS, RollupBucket, RollupMonth, RollupState
from insights.rollups.fold import folded_filter
from surveys.metrics import COMPONENTS, components_add, metric_aggregates
from surveys.models import Response

# In COMPONENTS order, the order the live side selects them in (the UNION lines them up).
SUMS = {name: Sum(name) for name in COMPONENTS}


def _ints(row: dict) -> dict:
    # PostgreSQL sums a bigint column as numeric (Decimal): the figures want plain ints.
    return {name: int(row.get(name) or 0) for name in COUNT_FIELDS}


@dataclass(frozen=True)
class Source:
    """The roll-up rows (month rows, day rows) and the live responses that together are
    one filtered set."""

    rolled: tuple[QuerySet, ...]
    tail: QuerySet | None  # None: nothing past the roll-ups

    def aggregate(self) -> dict[str, int]:
        """The components of the whole set, in one query (each part's totals, UNION ALL)."""
        rows = self._union(("_whole",), whole=True)
        return components_add(rows) if rows else components_add([])

    def grouped(self, *by: str) -> list[dict]:
        """Components per distinct value of the `by` fields (named alike on every side),
        in one query: the roll-ups' groups UNION ALL the tail's groups, added up here."""
        parts: dict[tuple, list] = defaultdict(list)
        keys: dict[tuple, dict] = {}
        for row in self._union(by):
            key = tuple(row[name] for name in by)
            parts[key].append(_ints(row))
            keys.setdefault(key, {name: row[name] for name in by})
        return [{**keys[key], **components_add(rows)} for key, rows in parts.items()]

    def grouped_sets(self, sets: Mapping[str, tuple[str, ...]]) -> dict[str, list[dict]]:
        """`grouped` for several groupings at once, in one query: each part's rows (the
        tail grouped by every field any grouping names) UNION ALL'd once as a common table,
        then one GROUP BY per grouping over it. A page with four breakdowns sums the roll-up
        rows in the database four times but compiles, sends and reads one statement."""
        dims = tuple(dict.fromkeys(name for by in sets.values() for name in by))
        parts = [rows.values(*dims, *COMPONENTS).order_by() for rows in self.rolled]
        if self.tail is not None:
            parts.insert(0, self.tail.values(*dims).annotate(**metric_aggregates()).order_by())
        found: dict[str, list[dict]] = {name: [] for name in sets}
        if not parts:
            return found
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        base_sql, params = union.query.sql_with_params()
        quote = connection.ops.quote_name
        columns = [f"d{i}" for i in range(len(dims))] + [quote(c) for c in COMPONENTS]
        sums = ", ".join(f"SUM({quote(c)})" for c in COMPONENTS)
        selects = []
        for tag, by in enumerate(sets.values()):
            keyed = {dims.index(field) for field in by}
            # The dimensions a grouping does not key on are read as MIN(…), never a bare
            # NULL: PostgreSQL types a column of a UNION from its first branches, and
            # NULL beside NULL would type a date or an integer column as text. Ignored.
            picked = ", ".join(f"d{i}" if i in keyed else f"MIN(d{i})" for i in range(len(dims)))
            group = ", ".join(f"d{i}" for i in sorted(keyed))
            grouping = f" GROUP BY {group}" if group else ""
            selects.append(f"SELECT {tag}, {picked}, {sums} FROM base{grouping}")
        sql = f"WITH base ({', '.join(columns)}) AS ({base_sql}) " + " UNION ALL ".join(selects)
        names = list(sets)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                name = names[row[0]]
                values = dict(zip(dims, row[1 : 1 + len(dims)], strict=True))
                if "submitted_on" in values and isinstance(values["submitted_on"], str):
                    # SQLite hands a raw cursor its dates as text.
                    values["submitted_on"] = dt.date.fromisoformat(values["submitted_on"])
                counts = row[1 + len(dims) :]
                found[name].append(
                    {
                        **{field: values[field] for field in sets[name]},
                        **{c: int(n or 0) for c, n in zip(COMPONENTS, counts, strict=True)},
                    }
                )
        return found

    def _union(self, by: tuple[str, ...], *, whole: bool = False) -> list[dict]:
        # A constant column with no GROUP BY makes each part one row of totals.
        def shaped(rows: QuerySet) -> QuerySet:
            return rows.annotate(_whole=Value(1)) if whole else rows

        rolled = [shaped(rows).values(*by).annotate(**SUMS).order_by() for rows in self.rolled]
        if self.tail is not None:
            live = shaped(self.tail).values(*by).annotate(**metric_aggregates()).order_by()
            rolled = [live, *rolled]
        if not rolled:
            return []
        everything = rolled[0].union(*rolled[1:], all=True) if len(rolled) > 1 else rolled[0]
        return [_ints(row) if whole else row for row in everything]


def rollup_state() -> RollupState:
    """Which responses the roll-ups hold, and whether any response lies past them (one
    query; read it once per page)."""
    # The newest id, not EXISTS(id > watermark): uncorrelated, one step down the pk index.
    newest = Response.objects.order_by("-pk").values("pk")[:1]
    state = RollupState.objects.filter(pk=1).annotate(newest=Subquery(newest)).first()
    if state is None:
        return RollupState(watermark=0)  # nothing folded yet: every response is the tail
    # Most of the time the fold has caught up: then no query need read the tail at all.
    state.tail_empty = not state.pending and (state.newest or 0) <= state.watermark
    return state


def whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and the last day of the calendar months wholly inside start…end."""
    first = start if start.day == 1 else (start.replace(day=1) + dt.timedelta(days=32))
    first = first.replace(day=1)
    after_end = end + dt.timedelta(days=1)
    last = (after_end.replace(day=1)) - dt.timedelta(days=1)
    return (first, last) if first <= last else None


def rollup_source(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    narrow: Callable[[QuerySet], QuerySet] = lambda rows: rows,
    state: RollupState | None = None,
    months: bool = True,
) -> Source:
    """The organisation's roll-ups and live tail from start to end (both included), each
    narrowed by `narrow` (a function applying the same other filters to any of them: the
    field names are the same on all). Whole calendar months come from the month rows when
    `months` (not for a trend by day or week, which needs the days), the rest from the
    day rows."""
    state = state or rollup_state()
    days = narrow(
        RollupBucket.objects.filter(
            organisation=organisation, submitted_on__gte=start, submitted_on__lte=end
        )
    )
    rolled: tuple[QuerySet, ...] = (days,)
    tail = folded_filter(state)
    dirty = state.dirty_of(organisation.pk)
    if dirty:
        stale = Q()
        for survey_id, day in dirty:
            stale |= Q(survey_id=survey_id, submitted_on=day)
        rolled = (days.exclude(stale),)
        tail |= stale
    span = whole_months(start, end) if months and not dirty else None
    if span is not None:
        # A dirty day's month row is stale too: with marks, the day rows serve (above).
        month_rows = narrow(
            RollupMonth.objects.filter(
                organisation=organisation, submitted_on__gte=span[0], submitted_on__lte=span[1]
            )
        )
        # The days before and after the whole months, each an index range of its own.
        edges = [(start, span[0] - dt.timedelta(days=1)), (span[1] + dt.timedelta(days=1), end)]
        rolled = (
            *(
                narrow(
                    RollupBucket.objects.filter(
                        organisation=organisation, submitted_on__gte=low, submitted_on__lte=high
                    )
                )
                for low, high in edges
                if low <= high
            ),
            month_rows,
        )
    if getattr(state, "tail_empty", False) and not dirty:
        return Source(rolled=rolled, tail=None)
    responses = narrow(
        Response.objects.for_organisation(organisation).filter(
            submitted_on__gte=start, submitted_on__lte=end
        )
    ).filter(tail)
    return Source(rolled=rolled, tail=responses)
