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
tests/insights checks every single view, every filter and pair of filters (and
tests/surveys/api_results/test_results_disclosure.py the survey results page and API).

The second half builds the tables every page shares from those rules: a line of cells
(`line_cells`) and the store × channel table with its totals (`store_table`), each cell
carrying its figures (surveys.metrics) or none when hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from surveys.choices import ChannelKind
from surveys.metrics import Figures, components_add, figures_from

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


# --- tables of figures -------------------------------------------------------------------


@dataclass
class Cell:
    """One group of a table: its figures, or none when it is too small to show."""

    key: Hashable
    label: str
    hidden: bool
    responses: int | None
    nps: float | None = None
    csat: float | None = None
    stars: float | None = None


def cell_make(*, key: Hashable, label: str, figures: Figures, hidden: bool, k: int) -> Cell:
    """A cell with its figures; a metric resting on fewer than k answers is withheld."""
    if hidden:
        return Cell(key=key, label=label, hidden=True, responses=None)
    return Cell(
        key=key,
        label=label,
        hidden=False,
        responses=figures.responses,
        nps=figures.nps if enough(figures.nps_answers, k=k) else None,
        csat=figures.csat if enough(figures.csat_answers, k=k) else None,
        stars=figures.stars if enough(figures.stars_answers, k=k) else None,
    )


def line_cells(
    groups: Mapping[Hashable, Mapping[str, int | None]], labels: Mapping[Hashable, str], *, k: int
) -> list[Cell]:
    """A one-dimensional breakdown (its groups' metric components) whose total is shown,
    as cells, suppressed together."""
    figures = {key: figures_from(row) for key, row in groups.items()}
    hidden = suppress_line({key: f.responses for key, f in figures.items()}, k=k)
    return [
        cell_make(key=key, label=labels[key], figures=f, hidden=key in hidden, k=k)
        for key, f in figures.items()
    ]


@dataclass
class StoreRow:
    key: int | None
    label: str
    cells: list[Cell]  # one per channel kind of the table, in its order
    total: Cell


@dataclass
class StoreTable:
    channels: list[tuple[str, str]]  # (kind, label) of the columns
    by_channel: list[Cell]  # each column's total
    rows: list[StoreRow]


def channel_label(kind: str) -> str:
    return str(ChannelKind(kind).label)


def store_table(
    *,
    grouped: Iterable[Mapping],
    no_store: str,
    k: int,
    label: Callable[[str], str] = channel_label,
) -> StoreTable:
    """The store × channel table, a total per store and a total per channel, suppressed
    together against the grand total (every store appears once; responses with no store
    are a row of their own, so the channel totals hold nothing the rows do not).

    `grouped` holds metric components per location_id, location__name and channel__kind
    (None, for a response with no channel, is the public link).
    """
    parts: dict[tuple, list] = defaultdict(list)
    names: dict[int | None, str] = {None: no_store}
    for row in grouped:
        parts[(row["location_id"], row["channel__kind"] or ChannelKind.LINK)].append(row)
        if row["location_id"] is not None:
            names[row["location_id"]] = row["location__name"]
    components = {key: components_add(rows) for key, rows in parts.items()}
    cells = {key: figures_from(row) for key, row in components.items()}
    suppression = suppress_table({key: f.responses for key, f in cells.items()}, k=k)
    kinds = [kind for kind in ChannelKind.values if any(key[1] == kind for key in cells)]
    table = StoreTable(channels=[(kind, label(kind)) for kind in kinds], by_channel=[], rows=[])
    for kind in kinds:
        column = [row for key, row in components.items() if key[1] == kind]
        table.by_channel.append(
            cell_make(
                key=kind,
                label=label(kind),
                figures=figures_from(components_add(column)),
                hidden=kind in suppression.columns,
                k=k,
            )
        )
    stores = sorted({key[0] for key in cells}, key=lambda s: (s is None, names[s].casefold()))
    for store in stores:
        row_cells = []
        for kind in kinds:
            figures = cells.get((store, kind))
            if figures is None:
                row_cells.append(Cell(key=kind, label=label(kind), hidden=False, responses=0))
                continue
            row_cells.append(
                cell_make(
                    key=kind,
                    label=label(kind),
                    figures=figures,
                    hidden=(store, kind) in suppression.cells,
                    k=k,
                )
            )
        total_rows = [row for key, row in components.items() if key[0] == store]
        table.rows.append(
            StoreRow(
                key=store,
                label=names[store],
                cells=row_cells,
                total=cell_make(
                    key=store,
                    label=names[store],
                    figures=figures_from(components_add(total_rows)),
                    hidden=store in suppression.rows,
                    k=k,
                ),
            )
        )
    return table
