"""Every CSV Chorus writes is safe to open in a spreadsheet: no cell runs as a formula."""

import csv
import io

import pytest

from config.spreadsheet import SafeCsvWriter, spreadsheet_safe


@pytest.mark.parametrize(
    "typed",
    ["=1+1", "+1", "-2", "@SUM(A1)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://x")'],
)
def test_a_cell_a_spreadsheet_would_run_becomes_text(typed):
    assert spreadsheet_safe(typed) == "'" + typed


@pytest.mark.parametrize("typed", ["Kim", "kim@example.com", "", "1-2", 5, None, "a=b"])
def test_other_cells_are_left_as_they_are(typed):
    assert spreadsheet_safe(typed) == typed


def test_the_writer_defuses_every_column_not_only_the_value():
    out = io.StringIO()
    SafeCsvWriter(out).writerows([["=col", "-1", "plain"], [3, "@x", "\tx"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=col", "'-1", "plain"], ["3", "'@x", "'\tx"]]
