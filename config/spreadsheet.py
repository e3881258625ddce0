"""CSV files people open in a spreadsheet: no cell may run as a formula.

A cell that starts with = + - @ (or a tab or carriage return, which some spreadsheets skip
before looking for one) is a formula to Excel, LibreOffice and Google Sheets; a member's
name or a value in an uploaded file could then run on a staff member's machine. Every CSV
the product writes goes through `SafeCsvWriter`, which makes such cells plain text with a
leading apostrophe (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value`, or for text that a spreadsheet would run, the same text made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer whose every cell passes through `spreadsheet_safe`."""

    def __init__(self, out, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
