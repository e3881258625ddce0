"""An export's rows as CSV text (streamed to the browser, or written to a file) or as an
XLSX workbook. On PostgreSQL the database writes the CSV rows itself (surveys.exports.copy)
and the workbook's rows as sheet XML (surveys.exports.sheet); elsewhere (SQLite, or a choice
question too large for copy's mask table) both come from responses_export_rows, read from a
cursor a chunk at a time, cell for cell the same.

CSV: UTF-8 with a byte-order mark, so Excel reads Thai, Hebrew and Japanese; every text
cell a spreadsheet would run as a formula starts with an apostrophe (config.spreadsheet's
rule, applied by the rows themselves to the cells that can hold text: calling it on each of
a million rows' numbers would cost a third of the export). XLSX: XlsxWriter in
constant_memory mode (each row goes to disk as it is written) with every text cell typed
as text, never as a formula, so no apostrophe is needed.
"""

from __future__ import annotations

import csv
import functools
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.utility
import xlsxwriter.workbook
from django.utils import translation
from django.utils.translation import gettext as _

from config.spreadsheet import spreadsheet_safe
from surveys.exports.copy import copy_chunks, copy_supported
from surveys.exports.rows import responses_export_rows
from surveys.exports.selectors import ExportPlan
from surveys.exports.sheet import sheet_rows_copy
from surveys.exports.sheetxml import inline

# Rows joined into one piece of the streamed CSV: large enough that the server's per-piece
# cost vanishes, small enough to stay a few hundred kilobytes.
CSV_PIECE_ROWS = 2000
# How often a file being written reports its progress, in rows.
PROGRESS_ROWS = 5000
BOM = "\ufeff"
# Distinct texts whose escaped XML a sheet keeps, at most.
KNOWN_TEXTS = 20000

Progress = Callable[[int], None]
# zlib's level for the workbook's package: level 1 deflates a million rows of sheet XML
# about three times faster than zipfile's default (6), for a file about a fifth larger.
ZIP_LEVEL = 1
_zipping = threading.Lock()


class _Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook, zipped at ZIP_LEVEL: at the default level, deflating the
    sheet took a third of a large export's time. XlsxWriter has no option for it and
    builds its ZipFile from its module's name, so that name is pointed at one with the
    level while this workbook is zipped (one workbook at a time per process)."""

    def _store_workbook(self) -> None:
        with _zipping:
            xlsxwriter.workbook.ZipFile = functools.partial(
                zipfile.ZipFile, compresslevel=ZIP_LEVEL
            )
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = zipfile.ZipFile


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


def _pieces(plan: ExportPlan, *, alone: bool) -> Iterator[tuple[str, int]]:
    """(CSV text, how many rows it holds): the byte-order mark and header first."""
    out = _Lines()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(cell) for cell in plan.header])
    yield BOM + out.take(), 0
    piece: list[list] = []
    for row in responses_export_rows(plan=plan, inert=True, alone=alone):
        piece.append(row)
        if len(piece) >= CSV_PIECE_ROWS:
            writer.writerows(piece)
            yield out.take(), len(piece)
            piece.clear()
    if piece:
        writer.writerows(piece)
        yield out.take(), len(piece)


def _copied_pieces(plan: ExportPlan) -> Iterator[tuple[bytes, int]]:
    """(CSV bytes, rows in them: the total with the last piece) written by PostgreSQL
    (surveys.exports.copy); the header's line ends in LF, as COPY's rows do."""
    out = _Lines()
    csv.writer(out, lineterminator="\n").writerow([spreadsheet_safe(cell) for cell in plan.header])
    yield (BOM + out.take()).encode(), 0
    yield from copy_chunks(plan=plan)


def csv_pieces(*, plan: ExportPlan) -> Iterator[str | bytes]:
    """The CSV, a few hundred kilobytes at a time, for a StreamingHttpResponse."""
    if copy_supported(plan):
        for data, _rows in _copied_pieces(plan):
            yield data
        return
    for text, _rows in _pieces(plan, alone=True):
        yield text


def csv_file_write(*, plan: ExportPlan, path: Path, progress: Progress) -> int:
    """Write the CSV to `path`; returns the rows written (after the header). Written by
    PostgreSQL, it is the streamed CSV byte for byte, its progress told once at the end (the
    connection is busy with COPY until then, and a million rows take seconds)."""
    written = 0
    if copy_supported(plan):
        with open(path, "wb") as handle:
            for data, rows in _copied_pieces(plan):
                handle.write(data)
                written += rows
        progress(written)
        return written
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for text, rows in _pieces(plan, alone=False):
            handle.write(text)
            if rows:
                written += rows
                progress(written)
    return written


class _SheetRows:
    """Data rows written as sheet XML straight into XlsxWriter's constant_memory row file.

    Two reasons. Speed: XlsxWriter's cell API costs some 4 µs a cell, which made a million
    rows take over a minute (the issue asks for at least 0.3x the CSV's rate). Safety: in
    constant_memory mode XlsxWriter writes a string that starts with "<r>" and ends with
    "</r>" into the sheet unescaped (it takes it for a rich string), so a respondent's text
    could break, or inject into, the workbook; here every string is escaped. The workbook
    itself (styles, the header row, frozen panes, the package) stays XlsxWriter's; this
    relies on four of its worksheet internals (_write_single_row, row_data_fh,
    _check_dimensions, previous_row), which tests/surveys/exports read back through.
    """

    _COLUMN_LETTERS = [xlsxwriter.utility.xl_col_to_name(col) for col in range(16384)]

    def __init__(self, sheet, *, first_row: int) -> None:
        self.sheet = sheet
        # Writes out the rows XlsxWriter holds (the header), as its own next row would.
        sheet._write_single_row(first_row)
        self.out = sheet.row_data_fh
        self.next_row = first_row
        self.width = 0
        self.known: dict[str, str] = {}

    def write(self, row: list[Any]) -> None:
        number = str(self.next_row + 1)
        letters = self._COLUMN_LETTERS
        known = self.known
        cells = []
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if type(value) is str:
                # Most text repeats (channels, stores, languages, labels): escaped once.
                element = known.get(value)
                if element is None:
                    element = inline(value)
                    if len(known) < KNOWN_TEXTS:
                        known[value] = element
                cells.append(f'<c r="{letters[col]}{number}" t="inlineStr">{element}</c>')
            elif type(value) is int:
                cells.append(f'<c r="{letters[col]}{number}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{letters[col]}{number}"><v>{value:.16G}</v></c>')
        self.out.write(f'<row r="{number}">{"".join(cells)}</row>')
        if len(row) > self.width:
            self.width = len(row)
        self.next_row += 1

    def skip(self, rows: int, width: int) -> None:
        """Count `rows` rows of `width` cells written into the row file by someone else."""
        self.next_row += rows
        if rows:
            self.width = max(self.width, width)

    def close(self) -> None:
        if self.next_row > self.sheet.previous_row:
            self.sheet._check_dimensions(self.next_row - 1, max(self.width - 1, 0))
        # XlsxWriter's own flush at close then finds no row of its own to write.
        self.sheet.previous_row = self.next_row


def xlsx_file_write(*, plan: ExportPlan, path: Path, progress: Progress) -> int:
    """Write the workbook to `path`; returns the rows written (after the header)."""
    workbook = _Workbook(
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
            # A sheet name holds at most 31 characters.
            sheet = workbook.add_worksheet(_("Responses")[:31])
        bold = workbook.add_format({"bold": True})
        sheet.freeze_panes(1, 1)
        sheet.write_row(0, 0, plan.header, bold)
        rows = _SheetRows(sheet, first_row=1)
        written = 0
        try:
            if copy_supported(plan):
                # On PostgreSQL the database writes the rows' XML (surveys.exports.sheet):
                # building them in Python held the job under a third of the CSV's rate.
                rows.out.flush()
                written = sheet_rows_copy(
                    plan=plan, out=rows.out.buffer, progress=progress, every=PROGRESS_ROWS
                )
                rows.skip(written, len(plan.header))
            else:
                source = responses_export_rows(plan=plan, inert=False, alone=False)
                for written, row in enumerate(source, start=1):
                    rows.write(row)
                    if written % PROGRESS_ROWS == 0:
                        progress(written)
        finally:
            rows.close()
    finally:
        workbook.close()
    return written
