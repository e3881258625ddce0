"""The CSV export written by PostgreSQL itself: `COPY (…) TO STDOUT WITH (FORMAT csv)`.

A million responses through Python cost some 6 µs a row (tuples built, cells finished,
csv.writer), more than the issue's 5 s on their own. Here the database writes finished
CSV rows and Python only forwards their bytes. Every cell is what responses_export_rows
gives (tests/surveys/exports read both paths):

- one row per response, each question's answer by the unique index (response, question)
  (a LEFT JOIN each) rather than a GROUP BY over all answers and a sort of the joined rows;
- store, channel and choice labels, the hidden groups and the withdrawn members come as
  arrays from the plan (small tables, hash-joined);
- a choice cell is looked up by the set of chosen ranks (a bit mask) in the cells built in
  Python by the same code as the row path, so order, separator and inertness are one rule;
  a question with more choices than a mask table covers aggregates labels in order instead;
- the local time is to_char under the organisation's zone (SET LOCAL TimeZone), the
  sentiment rounded as Python's round(x, 2) (half to even on the exact binary value) and
  written as its repr ("0.3", "-0.0");
- text a spreadsheet would run as a formula gets its apostrophe by a CASE on its first
  character (config.spreadsheet's FORMULA_STARTS).

Rows end in LF (PostgreSQL's COPY), the header too, so a file has one line ending.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction

from communities.choices import MemberStatus
from communities.models import Member
from config.spreadsheet import FORMULA_STARTS
from surveys.choices import CHOICE_TYPES, TEXT_TYPES
from surveys.exports.selectors import ExportPlan, QuestionColumn
from surveys.models import Answer

# Choice questions with at most this many choices have their cells looked up by bit mask
# (2**n cells built in Python); more, and labels are aggregated in order in SQL.
MASK_CHOICES_MAX = 10
# Bytes gathered from COPY's rows before one piece is handed to the response.
PIECE_BYTES = 256 * 1024
_WORK_MEM = "64MB"
_NOT_NAMED = (MemberStatus.ERASED, MemberStatus.UNSUBSCRIBED)
_SEPARATOR = "; "
_FORMULA_SQL = ", ".join(f"chr({ord(start)})" for start in FORMULA_STARTS)


def _safe(expression: str) -> str:
    """SQL for text made inert: a leading apostrophe where a spreadsheet would run it."""
    return (
        f"CASE WHEN left({expression}, 1) IN ({_FORMULA_SQL}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def _safe_text(value: str) -> str:
    return "'" + value if value and value[0] in FORMULA_STARTS else value


# Python's repr(round(x, 2)) for a float x: the exact binary value (x scaled by 2**62 is an
# integer for |x| >= 2**-9, and below that the result is 0 whatever the rounding) rounded
# half to even, then its shortest text: no trailing zeros, at least one decimal, and -0.0
# for a negative x that rounds to zero. Each step a LATERAL the planner flattens into the
# row's expressions (no subquery run per row).
_SENTIMENT_JOINS = """CROSS JOIN LATERAL (SELECT {x} AS x) AS s1
CROSS JOIN LATERAL (SELECT (s1.x * 4611686018427387904::float8)::bigint::numeric * 100
                           / 4611686018427387904 AS v) AS s2
CROSS JOIN LATERAL (SELECT floor(s2.v) AS f) AS s3
CROSS JOIN LATERAL (SELECT CASE WHEN s2.v - s3.f > 0.5 THEN s3.f + 1
                                WHEN s2.v - s3.f < 0.5 THEN s3.f
                                ELSE s3.f + abs(mod(s3.f, 2)) END AS n) AS s4"""
_SENTIMENT_CELL = """CASE WHEN s1.x IS NULL THEN NULL
       WHEN s4.n = 0 AND s1.x < 0 THEN '-0.0'
       ELSE regexp_replace(rtrim((s4.n / 100)::numeric(8, 2)::text, '0'), '[.]$', '.0') END"""


def copy_supported(plan: ExportPlan) -> bool:
    """Whether this export's CSV can be written by the database (PostgreSQL, a zone name
    PostgreSQL knows by the same name)."""
    return connection.vendor == "postgresql" and bool(getattr(plan.zone, "key", None))


def _mask_cells(column: QuestionColumn, *, inert: bool) -> list[str | None]:
    """Every set of chosen choices' cell, by bit mask of their ranks (bit 0: the first)."""
    labels = list(column.labels.values())
    safe = _safe_text if inert else str
    cells: list[str | None] = [None]
    for mask in range(1, 1 << len(labels)):
        chosen = [label for rank, label in enumerate(labels) if mask >> rank & 1]
        cells.append(safe(_SEPARATOR.join(chosen)))
    return cells


class _Statement:
    """Builds the SELECT; its parameters are kept per part (columns, joins) so they can
    be put in the order their placeholders appear."""

    def __init__(self, plan: ExportPlan) -> None:
        self.plan = plan
        self.column_params: list[Any] = []
        self.join_params: list[Any] = []
        self.joins: list[str] = []
        self.columns: list[str] = []
        self.sentiments: list[str] = []

    def column_param(self, value: Any, cast: str) -> str:
        self.column_params.append(value)
        return f"%s{cast}"

    def join_param(self, value: Any, cast: str) -> str:
        self.join_params.append(value)
        return f"%s{cast}"

    def _table(self, alias: str, on: str, *arrays: tuple[list, str], names: str) -> None:
        unnest = ", ".join(self.join_param(values, cast) for values, cast in arrays)
        self.joins.append(f"LEFT JOIN unnest({unnest}) AS {alias}({names}) ON {on}")

    def own_columns(self) -> None:
        plan = self.plan
        channels = list(plan.channels.items())
        self._table(
            "ch",
            "ch.id = r.channel_id",
            ([pk for pk, _label in channels], "::bigint[]"),
            ([label for _pk, label in channels], "::text[]"),
            names="id, label",
        )
        stores = list(plan.stores.items())
        self._table(
            "st",
            "st.id = r.location_id",
            ([pk for pk, _name in stores], "::bigint[]"),
            ([_safe_text(name) for _pk, name in stores], "::text[]"),
            names="id, name",
        )
        hidden = sorted(plan.hidden_groups, key=lambda pair: (pair[0], pair[1] or 0))
        if hidden:
            self._table(
                "h",
                "h.store = r.location_id AND h.channel = coalesce(r.channel_id, 0)",
                ([store for store, _channel in hidden], "::bigint[]"),
                ([channel or 0 for _store, channel in hidden], "::bigint[]"),
                names="store, channel",
            )
            shown = "h.store IS NULL"
        else:
            shown = "TRUE"
        link = self.column_param(plan.link_label, "::text")
        self.columns += [
            "r.id",
            f"CASE WHEN {shown} THEN to_char(r.submitted_at, "
            "'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') ELSE to_char(r.submitted_at, 'YYYY-MM-DD') END",
            f"CASE WHEN {shown} THEN CASE WHEN r.channel_id IS NULL THEN {link} "
            "ELSE ch.label END END",
            "r.language",
            f"CASE WHEN {shown} THEN st.name END",
            _SENTIMENT,
        ]
        if plan.named:
            member = Member._meta.db_table
            not_named = self.join_param([str(status) for status in _NOT_NAMED], "::text[]")
            self.joins.append(
                f"LEFT JOIN {member} AS m ON m.id = r.member_id AND r.consent_to_contact "
                f"AND NOT r.is_anonymous AND NOT (m.status = ANY({not_named}))"
            )
            self._table(
                "w", "w.id = r.member_id", (sorted(plan.withdrawn), "::bigint[]"), names="id"
            )
            named = "m.id IS NOT NULL AND w.id IS NULL"
            self.columns += [
                f"CASE WHEN {named} THEN m.id END",
                f"CASE WHEN {named} THEN {_safe('m.email')} END",
                f"CASE WHEN {named} THEN {_safe('m.name')} END",
            ]

    def answer_columns(self) -> None:
        """Each question's value from one pass over the survey's answers grouped by
        response (the answers' own order: no sort), the chosen choices of each answer folded
        into a bit mask first."""
        answers = Answer._meta.db_table
        chosen = Answer.choices.through._meta.db_table
        aggregates: list[str] = []
        choice_ids: list[int] = []
        choice_bits: list[int] = []
        for index, column in enumerate(self.plan.questions):
            question = column.question
            mine = f"FILTER (WHERE a.question_id = {self.join_param(question.pk, '::bigint')})"
            value = f"g.v{index}"
            if question.type in CHOICE_TYPES:
                aggregates.append(f"bit_or(cm.mask) {mine} AS v{index}")
                for rank, pk in enumerate(column.labels):
                    choice_ids.append(int(pk))
                    choice_bits.append(1 << rank)
                cells = self.column_param(_mask_cells(column, inert=True), "::text[]")
                cell = f"({cells})[{value} + 1]"
                if column.question.has_other:
                    mine = f"FILTER (WHERE a.question_id = {self.join_param(question.pk, '::bigint')})"
                    aggregates.append(f"max(NULLIF(a.text, '')) {mine} AS o{index}")
                    other = f"g.o{index}"
                    separator = self.column_param(_SEPARATOR, "::text")
                    cell = (
                        f"CASE WHEN {other} IS NULL THEN {cell} "
                        f"WHEN {value} IS NULL THEN {_safe(other)} "
                        f"ELSE {cell} || {separator} || {other} END"
                    )
                self.columns.append(cell)
            elif question.type in TEXT_TYPES:
                aggregates.append(f"max(NULLIF(a.text, '')) {mine} AS v{index}")
                self.columns.append(_safe(value))
            else:
                aggregates.append(f"max(a.number) {mine} AS v{index}")
                if column.labels:
                    numbers = list(column.labels)
                    words = [column.labels[number] for number in numbers]
                    self.columns.append(
                        f"({self.column_param(words, '::text[]')})"
                        f"[array_position({self.column_param(numbers, '::int[]')}, {value}::int)]"
                    )
                else:
                    self.columns.append(value)
        aggregates += ["sum(a.sentiment) AS sentiment_sum", "count(a.sentiment) AS sentiment_n"]
        masks = (
            f"SELECT ac.answer_id, bit_or(k.bit) AS mask FROM {chosen} AS ac "
            f"JOIN unnest({self.join_param(choice_ids, '::bigint[]')}, "
            f"{self.join_param(choice_bits, '::int[]')}) AS k(id, bit) "
            "ON k.id = ac.choice_id GROUP BY ac.answer_id"
        )
        questions = [column.question.pk for column in self.plan.questions]
        self.joins.append(
            f"LEFT JOIN (SELECT a.response_id, {', '.join(aggregates)} FROM {answers} AS a "
            f"LEFT JOIN ({masks}) AS cm ON cm.answer_id = a.id "
            f"WHERE a.question_id = ANY({self.join_param(questions, '::bigint[]')}) "
            "GROUP BY a.response_id) AS g ON g.response_id = r.id"
        )

    def build(self) -> tuple[str, list[Any]]:
        self.own_columns()
        self.answer_columns()
        responses, response_params = (
            self.plan.responses.order_by()
            .values(
                "id",
                "submitted_at",
                "channel_id",
                "member_id",
                "location_id",
                "language",
                "is_anonymous",
                "consent_to_contact",
            )
            .query.sql_with_params()
        )
        average = "(g.sentiment_sum / NULLIF(g.sentiment_n, 0))"
        columns = ",\n  ".join(self.columns).replace(_SENTIMENT, _SENTIMENT_CELL)
        joins = "\n".join([*self.joins, _SENTIMENT_JOINS.format(x=average)])
        statement = f"SELECT\n  {columns}\nFROM ({responses}) AS r\n{joins}\nORDER BY r.id"
        return statement, [*self.column_params, *response_params, *self.join_params]


# Where the sentiment's SQL goes in the column list (it needs every answer's alias).
_SENTIMENT = "<sentiment>"


def copy_statement(*, plan: ExportPlan) -> tuple[str, list[Any]]:
    """The SELECT whose rows COPY writes as the export's CSV rows, and its parameters
    (psycopg's %s, bound client-side as COPY needs)."""
    return _Statement(plan).build()


@contextlib.contextmanager
def _export_session(plan: ExportPlan) -> Iterator[Any]:
    """A transaction whose session settings suit the export: the organisation's zone for
    to_char, memory for the hash joins, and no JIT (compiling the wide statement cost more
    than it saved, up to seconds)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('TimeZone', %s, true), set_config('work_mem', %s, true),"
            " set_config('jit', 'off', true)",
            [plan.zone.key, _WORK_MEM],
        )
        yield cursor.cursor


def copy_chunks(*, plan: ExportPlan) -> Iterator[tuple[bytes, int]]:
    """The CSV rows as PostgreSQL writes them, in pieces of about PIECE_BYTES: (bytes,
    rows in them, known only at the end: 0 until the last piece, which carries the total)."""
    statement, params = copy_statement(plan=plan)
    with _export_session(plan) as cursor:
        piece = bytearray()
        with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                piece += data
                if len(piece) >= PIECE_BYTES:
                    yield bytes(piece), 0
                    piece.clear()
        yield bytes(piece), max(cursor.rowcount, 0)
