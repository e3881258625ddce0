"""Small groups never leak: the organisation's minimum group size k applied to every cell.

Pure functions over counts, so every table, chart and filter uses the same rules:

- primary suppression: a cell counting 1…k−1 responses is hidden ("fewer than k"); an
  empty cell (0) says nothing about anyone and stays shown;
- complementary suppression: a table whose total is visible (on the same page, or as the
  unfiltered figure) would give a lone hidden cell away by subtraction, so the next-smallest
  cells are hidden too until what total − shown reveals is 0 or a group of at least k
  (with one hidden cell of 3 and k = 5, the smallest other cell joins it);
- two-dimensional tables (store × channel, with a total per store and a total per channel)
  apply that to every row and every column, and a hidden row or column total hides its
  whole row or column, until nothing changes;
- a figure resting on fewer than k answers (an NPS of three answers) is withheld, and a
  filter that narrows to fewer than k responses shows no figures at all.

What this does not claim: differencing *across* views (the same cell with and without a
filter) and interval inference from several margins are not closed; the attacker test in
tests/insights checks every single view, every filter and pair of filters.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def is_small(n: int, *, k: int) -> bool:
    """Whether a count would single people out: some, but fewer than k."""
    return 0 < n < k


def enough(n: int, *, k: int) -> bool:
    """Whether a figure resting on `n` answers (or responses) may be shown."""
    return n >= k


def _order(item: tuple[Hashable, int]) -> tuple[int, str]:
    # Smallest first; ties broken by the key's text so the choice never depends on the
    # order the database returned the rows in.
    key, n = item
    return n, repr(key)


def line_complement(counts: Mapping[Key, int], hidden: Iterable[Key], *, k: int) -> set[Key]:
    """`hidden` grown by the next-smallest non-empty cells of one line (a row, a column or
    a one-dimensional table with a visible total) until the hidden cells together are
    none, or at least k."""
    hidden = {key for key in hidden if key in counts}
    while 0 < sum(counts[key] for key in hidden) < k:
        rest = sorted(
            ((key, n) for key, n in counts.items() if key not in hidden and n > 0), key=_order
        )
        if not rest:
            # Everything is hidden: the line's own total is under k, and hidden too.
            break
        hidden.add(rest[0][0])
    return hidden


def suppress_line(counts: Mapping[Key, int], *, k: int) -> set[Key]:
    """The cells of a one-dimensional table (whose total is shown) to hide."""
    small = [key for key, n in counts.items() if is_small(n, k=k)]
    return line_complement(counts, small, k=k)


@dataclass(frozen=True)
class TableSuppression:
    cells: set
    rows: set
    columns: set


def suppress_table(counts: Mapping[tuple[Hashable, Hashable], int], *, k: int) -> TableSuppression:
    """Which cells, row totals and column totals of a two-dimensional table to hide, when
    every row total, every column total and the grand total are visible."""
    row_keys = sorted({row for row, _column in counts}, key=repr)
    column_keys = sorted({column for _row, column in counts}, key=repr)
    rows = {r: sum(n for (row, _c), n in counts.items() if row == r) for r in row_keys}
    columns = {c: sum(n for (_r, column), n in counts.items() if column == c) for c in column_keys}
    cells = {key for key, n in counts.items() if is_small(n, k=k)}
    hidden_rows: set = set()
    hidden_columns: set = set()
    while True:
        before = (len(cells), len(hidden_rows), len(hidden_columns))
        hidden_rows = line_complement(
            rows, hidden_rows | {r for r, n in rows.items() if is_small(n, k=k)}, k=k
        )
        hidden_columns = line_complement(
            columns, hidden_columns | {c for c, n in columns.items() if is_small(n, k=k)}, k=k
        )
        # A hidden total with all its cells shown would be their sum.
        cells |= {key for key in counts if key[0] in hidden_rows or key[1] in hidden_columns}
        for r in row_keys:
            line = {key: n for key, n in counts.items() if key[0] == r}
            cells |= line_complement(line, cells & line.keys(), k=k)
        for c in column_keys:
            line = {key: n for key, n in counts.items() if key[1] == c}
            cells |= line_complement(line, cells & line.keys(), k=k)
        if (len(cells), len(hidden_rows), len(hidden_columns)) == before:
            return TableSuppression(cells=cells, rows=hidden_rows, columns=hidden_columns)


def leaks(*, total: int | None, shown: Iterable[int | None], k: int) -> list[int]:
    """What an attacker learns from one line that a rule forbids: every shown count under
    k, and total − shown parts when that is a group under k. Empty when nothing leaks."""
    shown = list(shown)
    found = [n for n in shown if n is not None and is_small(n, k=k)]
    if total is not None:
        rest = total - sum(n for n in shown if n is not None)
        if is_small(rest, k=k):
            found.append(rest)
    return found
