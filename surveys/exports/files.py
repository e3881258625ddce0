"""An export's rows as CSV text (streamed to the browser, or written to a file) or as an
XLSX workbook, from responses_export_rows.

CSV: UTF-8 with a byte-order mark, so Excel reads Thai, Hebrew and Japanese; every text
cell a spreadsheet would run as a formula starts with an apostrophe (config.spreadsheet's
rule, applied by the rows themselves to the cells that can hold text: calling it on each of
a million rows' numbers would cost a third of the export). XLSX: XlsxWriter in
constant_memory mode (each row goes to disk as it is written) with every text cell typed
as text, never as a formula, so no apostrophe is needed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _

from config.spreadsheet import spreadsheet_safe
from surveys.exports.rows import responses_export_rows
from surveys.exports.selectors import ExportPlan

# Rows joined into one piece of the streamed CSV: large enough that the server's per-piece
# cost vanishes, small enough to stay a few hundred kilobytes.
CSV_PIECE_ROWS = 2000
# How often a file being written reports its progress, in rows.
PROGRESS_ROWS = 5000
BOM = "\ufeff"

Progress = Callable[[int], None]


class _Lines:
    """A file that keeps what is written, for writerows over a piece of rows."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _pieces(plan: ExportPlan) -> Iterator[tuple[str, int]]:
    """(CSV text, how many rows it holds): the byte-order mark and header first."""
    out = _Lines()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(cell) for cell in plan.header])
    yield BOM + out.take(), 0
    piece: list[list] = []
    for row in responses_export_rows(plan=plan, inert=True):
        piece.append(row)
        if len(piece) >= CSV_PIECE_ROWS:
            writer.writerows(piece)
            yield out.take(), len(piece)
            piece.clear()
    if piece:
        writer.writerows(piece)
        yield out.take(), len(piece)


def csv_pieces(*, plan: ExportPlan) -> Iterator[str]:
    """The CSV text, a few thousand rows at a time, for a StreamingHttpResponse."""
    for text, _rows in _pieces(plan):
        yield text


def csv_file_write(*, plan: ExportPlan, path: Path, progress: Progress) -> int:
    """Write the CSV to `path`; returns the rows written (after the header)."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for text, rows in _pieces(plan):
            handle.write(text)
            if rows:
                written += rows
                progress(written)
    return written


def xlsx_file_write(*, plan: ExportPlan, path: Path, progress: Progress) -> int:
    """Write the workbook to `path`; returns the rows written (after the header)."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Text stays text: never a formula, a number or a link because of how it looks.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": str(path.parent),
        },
    )
    try:
        with translation.override(plan.params.labels):
            # A sheet name holds at most 31 characters, none of []:*?/\\.
            sheet = workbook.add_worksheet(_("Responses")[:31])
        bold = workbook.add_format({"bold": True})
        sheet.freeze_panes(1, 1)
        sheet.write_row(0, 0, plan.header, bold)
        written = 0
        write_row = sheet.write_row
        for written, row in enumerate(responses_export_rows(plan=plan, inert=False), start=1):
            write_row(written, 0, row)
            if written % PROGRESS_ROWS == 0:
                progress(written)
    finally:
        workbook.close()
    return written
