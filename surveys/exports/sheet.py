"""A workbook's data rows written by PostgreSQL as sheet XML (surveys.exports.sheetxml),
their bytes put straight into XlsxWriter's row file.

A large export is written as the CSV is (surveys.exports.copy): two connections, half the
ids each, one snapshot. Here both are connections of the export's own, so Django's stays
free for the job's progress, which is saved as the rows arrive.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from typing import IO

import psycopg
from django.db import connection

from surveys.exports.copy import (
    _SETTINGS,
    _WORK_MEM,
    PIECE_BYTES,
    SPLIT_MIN_ROWS,
    _copy,
    _export_session,
    _id_range,
    _UpperHalf,
    copy_statement,
    own_connection_params,
)
from surveys.exports.selectors import ExportPlan
from surveys.exports.sheetxml import SHEET_COPY_OPTIONS


def sheet_rows_copy(
    *, plan: ExportPlan, out: IO[bytes], progress: Callable[[int], None], every: int
) -> int:
    """Write the export's data rows (the sheet's rows 2…) as `<row>` XML, one a line, to
    `out`; returns how many. Progress is told every `every` rows (a small export) or as
    the rows arrive (a large one)."""
    if plan.rows_total < SPLIT_MIN_ROWS or connection.in_atomic_block:
        return _one_connection(plan, out, progress, every)
    return _two_connections(plan, out, progress)


def _one_connection(
    plan: ExportPlan, out: IO[bytes], progress: Callable[[int], None], every: int
) -> int:
    # Spooled first: Django's connection, busy with the COPY, then saves the progress.
    statement, params = copy_statement(plan=plan, sheet_row=1)
    rows = 0
    with tempfile.TemporaryFile() as spool:
        with _export_session(plan) as cursor:
            for piece in _copy(cursor, statement, params, SHEET_COPY_OPTIONS):
                spool.write(piece)
        spool.seek(0)
        for line in spool:
            out.write(line)
            rows += 1
            if rows % every == 0:
                progress(rows)
    return rows


def _two_connections(plan: ExportPlan, out: IO[bytes], progress: Callable[[int], None]) -> int:
    with psycopg.connect(**own_connection_params()) as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        cursor.execute(_SETTINGS, [plan.zone.key, _WORK_MEM])
        bounds = _id_range(cursor, plan)
        if bounds is None:
            return 0
        middle = (bounds[0] + bounds[1] + 1) // 2
        # The upper half's rows are numbered on from the lower half's.
        responses, params = plan.responses.order_by().values("id").query.sql_with_params()
        cursor.execute(
            f"SELECT count(*) FROM ({responses}) AS r WHERE r.id < %s", [*params, middle]
        )
        lower = cursor.fetchone()[0]
        upper_statement = copy_statement(
            plan=plan, ids=(middle, bounds[1] + 1), sheet_row=1 + lower
        )
        upper = _UpperHalf(plan, snapshot, upper_statement, SHEET_COPY_OPTIONS)
        upper.start()
        try:
            statement, values = copy_statement(plan=plan, ids=(bounds[0], middle), sheet_row=1)
            rows = 0
            for piece in _copy(cursor, statement, values, SHEET_COPY_OPTIONS):
                out.write(piece)
                rows += piece.count(b"\n")
                progress(rows + upper.lines)
            while upper.is_alive():
                upper.join(0.5)
                progress(rows + upper.lines)
            if upper.error is not None:
                raise upper.error
            upper.spool.seek(0)
            shutil.copyfileobj(upper.spool, out, PIECE_BYTES)
            return rows + upper.lines
        finally:
            upper.join()
            upper.spool.close()
            conn.rollback()
