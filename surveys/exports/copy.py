"""The CSV export written by PostgreSQL itself: `COPY (…) TO STDOUT WITH (FORMAT csv)`.

A million responses through Python cost some 6 µs a row (tuples built, cells finished,
csv.writer), more than the issue's 5 s on their own. Here the database writes finished
CSV rows and Python only forwards their bytes. Every cell is what responses_export_rows
gives (tests/surveys/exports read both paths):

- the answers are not read: each response's `cells` (its answers as one jsonb value,
  kept by PostgreSQL's triggers, surveys 0010) gives each question's number, text or
  chosen choice ids, so the statement is one pass over the responses table;
- store, channel and choice labels, the hidden groups and the withdrawn members come as
  arrays from the plan (small tables, hash-joined);
- a choice cell is looked up by the text of its chosen ids among every possible set's
  cell (hash-joined), each built in Python by the row path's rule (order of the choices,
  separator, inertness); an export with a question of more choices than that table
  covers takes the row path;
- the local time is to_char under the organisation's zone (SET LOCAL TimeZone), the
  sentiment rounded as Python's round(x, 2) (half to even on the exact binary value) and
  written as its repr ("0.3", "-0.0");
- text a spreadsheet would run as a formula gets its apostrophe by a CASE on its first
  character (config.spreadsheet's FORMULA_STARTS).

Rows end in LF (PostgreSQL's COPY), the header too, so a file has one line ending. A large
export is written by two connections at once, half the ids each, from one snapshot.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from django.db import DatabaseError, connection, transaction

from communities.choices import MemberStatus
from communities.models import Member
from config.spreadsheet import FORMULA_STARTS
from surveys.choices import CHOICE_TYPES, TEXT_TYPES
from surveys.exports.selectors import ExportPlan, QuestionColumn
from surveys.exports.sheetxml import inline_fragment, sheet_row_sql

# Choice questions with at most this many choices have their cells looked up by bit mask
# (2**n cells built in Python); an export with a larger one is written by the row path.
MASK_CHOICES_MAX = 10
# Bytes gathered from COPY's rows before one piece is handed to the response.
PIECE_BYTES = 256 * 1024
_WORK_MEM = "256MB"
# From this many responses, two connections write the CSV, half the ids each.
SPLIT_MIN_ROWS = 100_000
# The upper half's CSV is held in memory up to this, then on disk.
SPOOL_BYTES = 8 * 1024 * 1024
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


# Python's repr(round(x, 2)) for a float x. Rounded as a float (round() on a float8 is
# rint: half to even) except within a hair of a tie, where x*100's own rounding could
# decide it: there the exact binary value (x scaled by 2**62, an integer for the |x| >= 2**-9
# a tie needs) is rounded half to even in numeric. The float's text is its shortest
# round-trip form, as Python's repr ("0.3", "-0.05", "-0"), with ".0" added to a whole
# number. Each step is a LATERAL the planner flattens into the row's expressions.
_SENTIMENT_JOINS = """CROSS JOIN LATERAL (SELECT {x} AS x) AS s1
CROSS JOIN LATERAL (SELECT s1.x * 100 AS y) AS s2
CROSS JOIN LATERAL (SELECT (CASE
  WHEN abs(s2.y - floor(s2.y) - 0.5) > 1e-6 THEN round(s2.y)
  ELSE (SELECT (CASE WHEN v - f > 0.5 THEN f + 1 WHEN v - f < 0.5 THEN f
                     ELSE f + abs(mod(f, 2)) END)::float8
        FROM (SELECT v, floor(v) AS f
              FROM (SELECT (s1.x * 4611686018427387904::float8)::bigint::numeric * 100
                           / 4611686018427387904 AS v) AS exact) AS parts)
  END / 100)::text AS t) AS s3"""
_SENTIMENT_CELL = """CASE WHEN s1.x IS NULL THEN NULL
       WHEN strpos(s3.t, '.') = 0 THEN s3.t || '.0' ELSE s3.t END"""


def copy_supported(plan: ExportPlan) -> bool:
    """Whether this export's CSV can be written by the database: PostgreSQL, a zone with
    a name, and no choice question with more choices than a mask table covers (those
    exports take the row path)."""
    if connection.vendor != "postgresql" or not getattr(plan.zone, "key", None):
        return False
    return all(
        len(column.labels) <= MASK_CHOICES_MAX
        for column in plan.questions
        if column.question.type in CHOICE_TYPES
    )


def _mask_keys(column: QuestionColumn) -> list[str | None]:
    """Every set of chosen choices' ids as the text of a jsonb array of them, sorted (the
    `c` of a response's cells), by bit mask of their ranks as _mask_cells."""
    ids = [int(pk) for pk in column.labels]
    keys: list[str | None] = [None]
    for mask in range(1, 1 << len(ids)):
        keys.append(json.dumps(sorted(pk for rank, pk in enumerate(ids) if mask >> rank & 1)))
    return keys


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

    def __init__(self, plan: ExportPlan, *, inert: bool = True, xml: bool = False) -> None:
        self.plan = plan
        # `xml`: each row is one line of sheet XML (surveys.exports.sheetxml); the labels
        # from small tables are escaped here, in Python, once.
        self.xml = xml
        self.inert = inert and not xml
        self.kinds: list[str] = []
        self.column_params: list[Any] = []
        self.join_params: list[Any] = []
        self.joins: list[str] = []
        self.columns: list[str] = []
        self.sentiments: list[str] = []

    def safe(self, expression: str) -> str:
        return _safe(expression) if self.inert else expression

    def safe_text(self, value: str) -> str:
        return _safe_text(value) if self.inert else value

    def label(self, value: str | None) -> str | None:
        """A label from a small table as its cell: as is, or its sheet XML."""
        return inline_fragment(value) if self.xml else value

    @property
    def label_kind(self) -> str:
        return "xml" if self.xml else "text"

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
            ([self.label(label) for _pk, label in channels], "::text[]"),
            names="id, label",
        )
        stores = list(plan.stores.items())
        self._table(
            "st",
            "st.id = r.location_id",
            ([pk for pk, _name in stores], "::bigint[]"),
            ([self.label(self.safe_text(name)) for _pk, name in stores], "::text[]"),
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
        link = self.column_param(self.label(plan.link_label), "::text")
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
        self.kinds += ["int", "safe", self.label_kind, "text", self.label_kind, "number"]
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
                f"CASE WHEN {named} THEN {self.safe('m.email')} END",
                f"CASE WHEN {named} THEN {self.safe('m.name')} END",
            ]
            self.kinds += ["int", "text", "text"]

    def answer_columns(self) -> None:
        """Each question's value from the response's own `cells` (kept by PostgreSQL from
        its answers, surveys 0010): no answer is read. A choice cell is looked up by the
        text of the chosen ids (sorted, as jsonb writes an array) among every set's cell."""
        for index, column in enumerate(self.plan.questions):
            question = column.question
            answer = f"r.cells->'a'->'{int(question.pk)}'"
            if question.type in CHOICE_TYPES:
                # With an "other" box the cell is finished in SQL, escaped there.
                xml = self.xml and not question.has_other
                keys, cells = _mask_keys(column), _mask_cells(column, inert=self.inert)
                if xml:
                    cells = [inline_fragment(cell) for cell in cells]
                self._table(
                    f"m{index}",
                    f"m{index}.k = ({answer}->'c')::text",
                    (keys[1:], "::text[]"),
                    (cells[1:], "::text[]"),
                    names="k, cell",
                )
                cell = f"m{index}.cell"
                self.kinds.append("xml" if xml else "text")
                if question.has_other:
                    other = f"({answer}->>'t')"
                    separator = self.column_param(_SEPARATOR, "::text")
                    cell = (
                        f"CASE WHEN {other} IS NULL THEN {cell} "
                        f"WHEN m{index}.k IS NULL THEN {self.safe(other)} "
                        f"ELSE {cell} || {separator} || {other} END"
                    )
                self.columns.append(cell)
            elif question.type in TEXT_TYPES:
                self.columns.append(self.safe(f"({answer}->>'t')"))
                self.kinds.append("text")
            else:
                value = f"({answer}->>'n')::int"
                if column.labels:
                    numbers = list(column.labels)
                    words = [self.label(column.labels[number]) for number in numbers]
                    self.kinds.append(self.label_kind)
                    self.columns.append(
                        f"({self.column_param(words, '::text[]')})"
                        f"[array_position({self.column_param(numbers, '::int[]')}, {value})]"
                    )
                else:
                    self.columns.append(value)
                    self.kinds.append("int")

    def build(
        self, ids: tuple[int, int] | None = None, first_row: int = 1
    ) -> tuple[str, list[Any]]:
        self.own_columns()
        self.answer_columns()
        if self.xml:
            # Named, for the outer statement; the sheet's row number (1: the header's).
            self.columns = [f"{column} AS c{at}" for at, column in enumerate(self.columns)]
            offset = self.column_param(first_row, "::bigint")
            self.columns.append(f"row_number() OVER (ORDER BY r.id) + {offset} AS n")
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
                "cells",
            )
            .query.sql_with_params()
        )
        average = "((r.cells->>'s')::float8 / NULLIF((r.cells->>'k')::int, 0))"
        # A sheet's number is the float's own text ("1", "-0"), as XlsxWriter writes it.
        sentiment = "s3.t" if self.xml else _SENTIMENT_CELL
        columns = ",\n  ".join(self.columns).replace(_SENTIMENT, sentiment)
        joins = "\n".join([*self.joins, _SENTIMENT_JOINS.format(x=average)])
        where, where_params = "", []
        if ids is not None:
            where, where_params = "WHERE r.id >= %s AND r.id < %s\n", list(ids)
        statement = f"SELECT\n  {columns}\nFROM ({responses}) AS r\n{joins}\n{where}ORDER BY r.id"
        if self.xml:
            statement = sheet_row_sql(statement, self.kinds)
        return statement, [
            *self.column_params,
            *response_params,
            *self.join_params,
            *where_params,
        ]


# Where the sentiment's SQL goes in the column list (it needs every answer's alias).
_SENTIMENT = "<sentiment>"


def copy_statement(
    *,
    plan: ExportPlan,
    ids: tuple[int, int] | None = None,
    inert: bool = True,
    sheet_row: int | None = None,
) -> tuple[str, list[Any]]:
    """The SELECT whose rows COPY writes as the export's CSV rows, and its parameters
    (psycopg's %s, bound client-side as COPY needs); `ids`: only responses with
    ids[0] <= id < ids[1]; `inert`: text a spreadsheet would run gets its apostrophe
    (CSV; a workbook types its cells as text instead); `sheet_row`: each row is instead
    one `<row>` of sheet XML, numbered from sheet_row + 1 (surveys.exports.sheetxml)."""
    if sheet_row is not None:
        return _Statement(plan, xml=True).build(ids, first_row=sheet_row)
    return _Statement(plan, inert=inert).build(ids)


# What the export's session sets (transaction-local), in _SETTINGS's order.
_SET = (
    "TimeZone",
    "work_mem",
    "jit",
    "extra_float_digits",
    "enable_hashagg",
    "max_parallel_workers_per_gather",
)
_SETTINGS = (
    "SELECT set_config('TimeZone', %s, true), set_config('work_mem', %s, true),"
    " set_config('jit', 'off', true), set_config('extra_float_digits', '1', true),"
    " set_config('enable_hashagg', 'off', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)
# The same, reading first what it replaces (the values are read left to right).
_SWAP = (
    "SELECT "
    + ", ".join(f"current_setting('{name}')" for name in _SET)
    + ", "
    + _SETTINGS.removeprefix("SELECT ")
)
_RESTORE = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in _SET)


def session_settings(*, plan: ExportPlan) -> tuple[str, list[Any]]:
    """The statement that sets a session up for copy_statement (bench/export.py's COPY)."""
    return _SETTINGS, [plan.zone.key, _WORK_MEM]


@contextlib.contextmanager
def _export_session(plan: ExportPlan, *, snapshot: bool = False) -> Iterator[Any]:
    """A transaction whose settings suit the export: the organisation's zone for to_char,
    memory for the sorts, no JIT (compiling the wide statement cost up to seconds), the
    float text Python writes, and a serial plan of ordered aggregates (a parallel one
    built the answers' aggregate once in every worker). `snapshot`: the transaction is
    REPEATABLE READ and yields its snapshot's name too, for a second connection.

    Inside a caller's transaction (a test's) the settings are put back afterwards: they
    must not outlive the export (Django reads timestamps as if the session were in UTC)."""
    if connection.in_atomic_block and not snapshot:
        with connection.cursor() as cursor:
            cursor.execute(_SWAP, [plan.zone.key, _WORK_MEM])
            previous = list(cursor.fetchone()[: len(_SET)])
            try:
                yield cursor.cursor
            finally:
                # A failed COPY aborted the transaction, whose end puts them back anyway.
                with contextlib.suppress(DatabaseError):
                    cursor.execute(_RESTORE, previous)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        name = None
        if snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            name = cursor.fetchone()[0]
        cursor.execute(_SETTINGS, [plan.zone.key, _WORK_MEM])
        try:
            yield (cursor.cursor, name) if snapshot else cursor.cursor
        finally:
            # Rolled back rather than committed: the export wrote nothing.
            transaction.set_rollback(True)


def _copy(
    cursor: Any, statement: str, params: list[Any], options: str = "FORMAT csv"
) -> Iterator[bytes]:
    """COPY's rows gathered into pieces of about PIECE_BYTES."""
    piece = bytearray()
    with cursor.copy(f"COPY ({statement}) TO STDOUT WITH ({options})", params) as copy:
        for data in copy:
            piece += data
            if len(piece) >= PIECE_BYTES:
                yield bytes(piece)
                piece.clear()
    if piece:
        yield bytes(piece)


def _id_range(cursor: Any, plan: ExportPlan) -> tuple[int, int] | None:
    responses, params = plan.responses.order_by().values("id").query.sql_with_params()
    cursor.execute(f"SELECT min(id), max(id) FROM ({responses}) AS r", params)
    low, high = cursor.fetchone()
    return None if low is None else (low, high)


class _UpperHalf(threading.Thread):
    """COPY of the upper ids on a second connection in the same snapshot, spooled (to
    disk beyond a few megabytes) while the first connection's rows are sent."""

    def __init__(
        self,
        plan: ExportPlan,
        snapshot: str,
        statement: tuple[str, list[Any]],
        options: str = "FORMAT csv",
    ) -> None:
        super().__init__(daemon=True)
        self.zone, self.snapshot = plan.zone.key, snapshot
        self.statement, self.values = statement
        self.options = options
        # Read here: Django's connection objects belong to the thread that made them.
        self.params = own_connection_params()
        # Closed by its reader once sent.
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.rows = 0
        # Lines written so far (for a job's progress), while it runs.
        self.lines = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(**self.params) as conn, conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                cursor.execute(_SETTINGS, [self.zone, _WORK_MEM])
                for piece in _copy(cursor, self.statement, self.values, self.options):
                    self.spool.write(piece)
                    self.lines += piece.count(b"\n")
                self.rows = max(cursor.rowcount, 0)
        except BaseException as error:  # handed to the reading thread
            self.error = error


def copy_chunks(*, plan: ExportPlan, inert: bool = True) -> Iterator[tuple[bytes, int]]:
    """The CSV rows as PostgreSQL writes them, in pieces of about PIECE_BYTES: (bytes,
    rows in them, known only at the end: 0 until the last piece, which carries the total).

    A large export is written by two connections at once, each half of the ids (the
    statement runs on one core; the machine has more): the lower half streamed as it
    comes, the upper half spooled meanwhile and sent after it, both from one snapshot so
    the halves are one consistent export."""
    # A transaction already open (a test's) can neither be made REPEATABLE READ nor be
    # seen from a second connection.
    if plan.rows_total < SPLIT_MIN_ROWS or connection.in_atomic_block:
        statement, params = copy_statement(plan=plan, inert=inert)
        with _export_session(plan) as cursor:
            yield from ((piece, 0) for piece in _copy(cursor, statement, params))
            yield b"", max(cursor.rowcount, 0)
        return
    with _export_session(plan, snapshot=True) as (cursor, snapshot):
        bounds = _id_range(cursor, plan)
        if bounds is None:
            yield b"", 0
            return
        middle = (bounds[0] + bounds[1] + 1) // 2
        upper_statement = copy_statement(plan=plan, ids=(middle, bounds[1] + 1), inert=inert)
        upper = _UpperHalf(plan, snapshot, upper_statement)
        upper.start()
        try:
            statement, params = copy_statement(plan=plan, ids=(bounds[0], middle), inert=inert)
            yield from ((piece, 0) for piece in _copy(cursor, statement, params))
            lower_rows = max(cursor.rowcount, 0)
            upper.join()
            if upper.error is not None:
                raise upper.error
            upper.spool.seek(0)
            while piece := upper.spool.read(PIECE_BYTES):
                yield piece, 0
            yield b"", lower_rows + upper.rows
        finally:
            upper.join()
            upper.spool.close()


def own_connection_params() -> dict[str, Any]:
    """What psycopg.connect needs to open a connection of its own to Django's database."""
    return {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("cursor_factory", "context", "prepare_threshold")
    }
