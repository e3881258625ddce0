"""The export's rows, read fast enough for a million responses.

One statement pivots the answers: an aggregate per question over the response's answers
(its number, its text, or its choices' ids), grouped by response and ordered by id, read
as plain tuples (no model instances, none of the ORM's per-row converters). On PostgreSQL
it is streamed (psycopg's `stream()`: rows arrive in chunks as the server produces them,
so the server works while Python writes, and its plan may be parallel, which a
server-side cursor's may not); on SQLite it is read `fetchmany` at a time. Either way a
bounded number of rows is in memory. What cost per row in Python was measured and moved:

- the time comes as whole seconds since the epoch, not a timestamptz (whose loader Django
  runs in Python, ~8 µs a row), and becomes local text through a cache of quarter-hours
  (`LocalClock`);
- the member's address and name come only for answers whose respondent agreed to be
  contacted (an aggregate with a filter, so grouping stays by response id alone);
- stores, channels and choice labels are small tables held in dictionaries; a choice
  cell is built once per distinct set of choices.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Aggregate, Avg, BigIntegerField, Func, Max, Q, QuerySet, TextField

from communities.choices import MemberStatus
from config.spreadsheet import FORMULA_STARTS
from surveys.choices import CHOICE_TYPES, TEXT_TYPES
from surveys.exports.selectors import ExportPlan, QuestionColumn

# Rows fetched from the cursor at a time.
CHUNK_ROWS = 5000
# How several chosen answers share one cell.
CHOICE_SEPARATOR = "; "
# A member who left the community or was erased is not named, whatever they agreed to.
_NOT_NAMED = frozenset({MemberStatus.ERASED, MemberStatus.UNSUBSCRIBED})
# The row's own fields before the answers (see export_pivot).
_ID, _AT, _CHANNEL, _LANGUAGE, _STORE, _ANONYMOUS, _CONSENT, _MEMBER = range(8)
_SENTIMENT, _EMAIL, _NAME, _STATUS = range(8, 12)
_ANSWERS = 12
# PostgreSQL sorts the grouped rows in memory up to this, rather than on disk.
_WORK_MEM = "64MB"


class _IdList(Aggregate):
    """The ids aggregated, comma-separated, as text (GROUP_CONCAT / STRING_AGG)."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = "STRING_AGG"
        clone.template = "%(function)s(CAST(%(expressions)s AS text), ',')"
        return clone.as_sql(compiler, connection, **extra_context)


class _EpochSeconds(Func):
    """A timestamp as whole seconds since 1970-01-01 UTC (rounded down, as the export's
    times are written to the second)."""

    output_field = BigIntegerField()
    # SQLite stores UTC text, which strftime reads; %% is the driver's escaped %.
    template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS bigint)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _has_other(column: QuestionColumn) -> bool:
    return column.question.type in CHOICE_TYPES and column.question.has_other


def export_pivot(*, plan: ExportPlan) -> QuerySet:
    """One row per response: id, time, channel, language, store, anonymous, consent, member,
    sentiment, the member's address, name and status (only where the response says they
    may be contacted), then per question its number, text or choice ids (and a choice
    question with an "other" box, its text), ordered by id."""
    consented = Q(consent_to_contact=True, is_anonymous=False)
    aggregates: dict[str, Any] = {
        "export_at": _EpochSeconds("submitted_at"),
        "export_sentiment": Avg("answers__sentiment"),
        "export_email": Max("member__email", filter=consented),
        "export_name": Max("member__name", filter=consented),
        "export_status": Max("member__status", filter=consented),
    }
    for index, column in enumerate(plan.questions):
        question = column.question
        mine = Q(answers__question_id=question.pk)
        if question.type in CHOICE_TYPES:
            aggregates[f"q{index}"] = _IdList("answers__choices", filter=mine)
            if _has_other(column):
                aggregates[f"q{index}_other"] = Max("answers__text", filter=mine)
        elif question.type in TEXT_TYPES:
            aggregates[f"q{index}"] = Max("answers__text", filter=mine)
        else:
            aggregates[f"q{index}"] = Max("answers__number", filter=mine)
    own = ["channel_id", "language", "location_id", "is_anonymous", "consent_to_contact"]
    at, *rest = aggregates
    return (
        plan.responses.annotate(**aggregates)
        .order_by("pk")
        .values_list("pk", at, *own, "member_id", *rest)
    )


class LocalClock:
    """Seconds since the epoch as ISO 8601 local times of one zone ("2026-03-01T17:05:09
    +07:00"), or local dates.

    A zone's offset changes only at its transitions, so each quarter-hour of UTC is looked
    up once (its "YYYY-MM-DDTHH:" and offset text) and a time within it is that plus
    "MM:SS". A quarter-hour in which the offset changes is done the slow way.
    """

    _MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
    _QUARTER = 900

    def __init__(self, zone: datetime.tzinfo) -> None:
        self.zone = zone
        self._quarters: dict[int, tuple[str, int, str] | None] = {}

    def _quarter(self, start: int) -> tuple[str, int, str] | None:
        first = datetime.datetime.fromtimestamp(start, self.zone)
        last = datetime.datetime.fromtimestamp(start + self._QUARTER - 1, self.zone)
        if first.utcoffset() != last.utcoffset():
            return None
        text = first.isoformat(timespec="seconds")
        return text[:14], first.minute * 60, text[19:]

    def time(self, epoch: int) -> str:
        start = epoch - epoch % self._QUARTER
        try:
            quarter = self._quarters[start]
        except KeyError:
            quarter = self._quarters[start] = self._quarter(start)
        if quarter is None:
            local = datetime.datetime.fromtimestamp(epoch, self.zone)
            return local.isoformat(timespec="seconds")
        hour, seconds, offset = quarter
        return hour + self._MINUTES_SECONDS[seconds + epoch - start] + offset

    def date(self, epoch: int) -> str:
        return self.time(epoch)[:10]


@contextlib.contextmanager
def _rows_read(statement: str, params: tuple, *, alone: bool) -> Iterator[Iterator[tuple]]:
    """The statement's rows as they come, a bounded number in memory.

    On PostgreSQL, `alone` (the caller runs no other statement until the rows are read: a
    streamed download) streams them in a transaction of its own, for the sort's memory (SET
    LOCAL); an abandoned read (a cancelled download) cancels the query. Otherwise (a file
    job, which saves its progress as it writes) they come through Django's server-side
    cursor, which in autocommit PostgreSQL holds across those commits. On SQLite, a plain
    cursor read fetchmany at a time, outside any transaction: one here would take the
    write lock (BEGIN IMMEDIATE)."""
    if connection.vendor != "postgresql" or not alone:
        with connection.chunked_cursor() as cursor:
            cursor.execute(statement, params)
            yield itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(CHUNK_ROWS), []))
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{_WORK_MEM}'")
        # Chunks need libpq 17; an older one streams row by row.
        size = CHUNK_ROWS if psycopg.pq.version() >= 170000 else 1
        yield cursor.stream(statement, params, size=size)


_FORMULA_STARTS = frozenset(FORMULA_STARTS)


def _inert(text: str) -> str:
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


class _AnswerCells:
    """Finishes a row's answer cells in place, where the stored value is not the cell:
    choice ids become labels (or codes), yes / no its word, and, for a CSV, text that a
    spreadsheet would run as a formula gets its apostrophe. Scale answers are written as
    stored, at no cost."""

    def __init__(self, plan: ExportPlan, *, start: int, inert: bool) -> None:
        self.inert = inert
        self.safe = _inert if inert else str
        self.texts: list[int] = []
        self.labelled: list[tuple[int, dict]] = []
        # (position, labels, rank of each choice id, cells built so far, "other" box?)
        self.choices: list[tuple[int, dict, dict, dict, bool]] = []
        position = start
        for column in plan.questions:
            kind = column.question.type
            if kind in CHOICE_TYPES:
                ranks = {pk: rank for rank, pk in enumerate(column.labels)}
                other = _has_other(column)
                self.choices.append((position, column.labels, ranks, {}, other))
                position += 1 + other
            else:
                if kind in TEXT_TYPES and inert:
                    self.texts.append(position)
                elif column.labels:
                    self.labelled.append((position, column.labels))
                position += 1
        self.others = [choice[0] + 1 for choice in reversed(self.choices) if choice[4]]

    def _choice_cell(self, ids: str, labels: dict, ranks: dict, cache: dict) -> str:
        chosen = sorted(ids.split(","), key=lambda pk: ranks.get(pk, 0))
        cell = cache[ids] = self.safe(CHOICE_SEPARATOR.join(labels.get(pk, "") for pk in chosen))
        return cell

    def finish(self, out: list[Any]) -> None:
        for at in self.texts:
            text = out[at]
            if text and text[0] in _FORMULA_STARTS:
                out[at] = "'" + text
        for at, labels in self.labelled:
            if out[at] is not None:
                out[at] = labels[out[at]]
        for at, labels, ranks, cache, other in self.choices:
            ids = out[at]
            if ids:
                out[at] = cache.get(ids) or self._choice_cell(ids, labels, ranks, cache)
            if other and out[at + 1]:
                # Written after the chosen labels; only a cell's start can make it a formula.
                extra = out[at + 1]
                out[at] = f"{out[at]}{CHOICE_SEPARATOR}{extra}" if ids else self.safe(extra)
        for at in self.others:
            del out[at]


def responses_export_rows(
    *, plan: ExportPlan, inert: bool, alone: bool = True
) -> Iterator[list[Any]]:
    """The export's rows after its header, in response id order. `inert`: text a
    spreadsheet would run as a formula gets a leading apostrophe (for CSV; an XLSX writer
    types its cells as text instead). `alone`: the caller runs no other query while it
    reads the rows (see _rows_read). A missing answer is None."""
    clock = LocalClock(plan.zone)
    time, date = clock.time, clock.date
    hidden = plan.hidden_groups
    channels, link_label = plan.channels, plan.link_label
    safe = _inert if inert else str
    stores = {pk: safe(name) for pk, name in plan.stores.items()}
    named_columns = plan.named
    answers = _AnswerCells(plan, start=6 + 3 * named_columns, inert=inert)
    nobody = (None, None, None)
    withdrawn = plan.withdrawn
    statement, params = export_pivot(plan=plan).query.sql_with_params()
    with _rows_read(statement, params, alone=alone) as rows:
        for row in rows:
            store, channel = row[_STORE], row[_CHANNEL]
            if store is not None and (store, channel) in hidden:
                out = [row[_ID], date(row[_AT]), None, row[_LANGUAGE], None]
            else:
                out = [
                    row[_ID],
                    time(row[_AT]),
                    link_label if channel is None else channels.get(channel),
                    row[_LANGUAGE],
                    None if store is None else stores.get(store),
                ]
            sentiment = row[_SENTIMENT]
            out.append(None if sentiment is None else round(sentiment, 2))
            if named_columns:
                # The address comes only with the consent on this answer (export_pivot).
                if row[_EMAIL] is None or row[_STATUS] in _NOT_NAMED or row[_MEMBER] in withdrawn:
                    out += nobody
                else:
                    out += (row[_MEMBER], safe(row[_EMAIL]), safe(row[_NAME]))
            out += row[_ANSWERS:]
            answers.finish(out)
            yield out
