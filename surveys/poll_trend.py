"""A poll's results over time: each week's or month's answers and each option's share,
every cell through the disclosure rules, and the geometry of its chart (server-side SVG,
the house approach of insights.charts; templates/surveys/results/_poll_trend.html writes
it, with a table of the same numbers beside it).

The table is periods × options with each period's answers shown and each option's overall
count shown in the poll's split above it, so it is suppressed as a two-dimensional table
(surveys.disclosure.suppress_table): a small cell is hidden, and so are the next-smallest
cells of its period and of its option; a period of fewer than k answers is hidden whole,
and the next-smallest period with it, since the poll's total is shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from surveys.disclosure import is_small, line_complement, suppress_table

INTERVALS = ("week", "month")
# Past this many weeks of answers, months read better than weeks.
WEEKS_BEFORE_MONTHS = 26

WIDTH = 760
HEIGHT = 260
LEFT = 48
RIGHT = 16
TOP = 12
BOTTOM = 36
# Okabe-Ito, colour-blind safe; a hidden share is grey and the table names every number.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
HIDDEN = "#BBBBBB"


def period_start(day: dt.date, interval: str) -> dt.date:
    """The first day of the week (Monday) or the month `day` falls in."""
    if interval == "month":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def interval_default(days: Iterable[dt.date]) -> str:
    """Weeks for a poll answered over half a year or less, months past that."""
    days = list(days)
    if not days:
        return "week"
    return "month" if (max(days) - min(days)).days > 7 * WEEKS_BEFORE_MONTHS else "week"


@dataclass(frozen=True)
class TrendCell:
    label: str
    count: int | None  # None: hidden
    percent: int | None


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    colour: str


@dataclass(frozen=True)
class TrendPeriod:
    start: dt.date
    answers: int | None  # None: hidden
    cells: list[TrendCell]
    x: float = 0.0
    width: float = 0.0
    segments: tuple[Segment, ...] = ()

    @property
    def label_x(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class PollTrend:
    interval: str
    labels: list[tuple[str, str]]  # (label, colour) of each option, the chart's legend
    periods: list[TrendPeriod]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    baseline: int = HEIGHT - BOTTOM
    plot_right: int = WIDTH - RIGHT


def _suppressed(
    counts: dict[tuple[dt.date, int], int],
    totals: dict[dt.date, int],
    *,
    k: int,
    forced: frozenset = frozenset(),
) -> tuple[set, set]:
    """The hidden cells and the hidden periods (their answers); `forced`: periods hidden
    whatever their size (to keep the other interval's hidden figures hidden)."""
    table = suppress_table(counts, k=k)
    cells, periods = set(table.cells), set(table.rows) | forced
    while True:
        before = (len(cells), len(periods))
        # A multiple-choice period's ticks may add up past its answers: its own count.
        periods = line_complement(
            totals, periods | {p for p, n in totals.items() if is_small(n, k=k)}, k=k
        )
        cells |= {key for key in counts if key[0] in periods}
        for line_of in (lambda key: key[0], lambda key: key[1]):
            lines: dict = defaultdict(dict)
            for key, n in counts.items():
                lines[line_of(key)][key] = n
            for line in lines.values():
                cells |= line_complement(line, cells & line.keys(), k=k)
        if (len(cells), len(periods)) == before:
            return cells, periods


def _grouped(
    days: list, index: dict, options: int, interval: str
) -> tuple[dict[tuple[dt.date, int], int], dict[dt.date, int]]:
    """Each (period, option)'s count and each period's answers."""
    totals: dict[dt.date, int] = defaultdict(int)
    counts: dict[tuple[dt.date, int], int] = defaultdict(int)
    for day, value, choice, n in days:
        start = period_start(day, interval)
        if value is None and choice is None:
            totals[start] += n
        elif (value, choice) in index:
            counts[(start, index[(value, choice)])] += n
    for start in totals:
        for i in range(options):
            counts.setdefault((start, i), 0)
    return dict(counts), dict(totals)


def _months_of(week: dt.date) -> set[dt.date]:
    """The months a week (its Monday) has days in."""
    return {week.replace(day=1), (week + dt.timedelta(days=6)).replace(day=1)}


def _forced(grouped: dict, *, k: int) -> dict[str, frozenset]:
    """The periods each interval hides beyond its own rules, so that the two views side by
    side give no group under k away. A shown month less the weeks shown in it is the sum of
    its hidden weeks; the poll's votes less the shown months and the weeks shown in the
    hidden ones is the sum of the hidden months' hidden weeks: each such sum must be none or
    at least k, so the next-smallest shown week joins them until it is (and a month left
    with no shown week to hide is hidden itself)."""
    (week_counts, week_totals), (month_counts, month_totals) = (
        grouped["week"],
        grouped["month"],
    )
    weeks_of: dict[dt.date, set[dt.date]] = defaultdict(set)
    for week in week_totals:
        for month in _months_of(week):
            if month in month_totals:
                weeks_of[month].add(week)
    forced_weeks: set[dt.date] = set()
    forced_months: set[dt.date] = set()
    while True:
        _cells, hidden_weeks = _suppressed(
            week_counts, week_totals, k=k, forced=frozenset(forced_weeks)
        )
        _cells, hidden_months = _suppressed(
            month_counts, month_totals, k=k, forced=frozenset(forced_months)
        )
        before = (len(forced_weeks), len(forced_months))
        groups = [(month, weeks) for month, weeks in weeks_of.items() if month not in hidden_months]
        groups.append((None, set().union(*(weeks_of[m] for m in hidden_months & weeks_of.keys()))))
        for month, weeks in groups:
            hidden = weeks & hidden_weeks
            if not is_small(sum(week_totals[week] for week in hidden), k=k):
                continue
            shown = sorted(weeks - hidden_weeks, key=lambda week: (week_totals[week], week))
            if shown:
                forced_weeks.add(shown[0])
            elif month is not None:
                forced_months.add(month)
        if (len(forced_weeks), len(forced_months)) == before:
            return {"week": frozenset(forced_weeks), "month": frozenset(forced_months)}


def poll_trend(
    *,
    options: Sequence[tuple[int | None, int | None, str]],
    days: Iterable[tuple[dt.date, int | None, int | None, int]],
    k: int,
    interval: str | None = None,
) -> PollTrend:
    """The poll question's answers per period from its answers per day (`days`: (day,
    score, choice id, answers), the day's answers when both are None), `options` its cells
    in order ((score, choice id, label))."""
    days = list(days)
    interval = interval if interval in INTERVALS else interval_default(d[0] for d in days)
    index = {(value, choice): i for i, (value, choice, _label) in enumerate(options)}
    grouped = {every: _grouped(days, index, len(options), every) for every in INTERVALS}
    counts, totals = grouped[interval]
    forced = _forced(grouped, k=k)[interval]
    hidden_cells, hidden_periods = _suppressed(counts, totals, k=k, forced=forced)
    starts = sorted(totals)
    step = (WIDTH - LEFT - RIGHT) / max(len(starts), 1)
    plot = HEIGHT - BOTTOM - TOP
    periods = []
    for position, start in enumerate(starts):
        answers = totals[start]
        # A multiple-choice answer may tick several options: the bar holds every tick.
        scale = max(answers, sum(counts[(start, i)] for i in range(len(options))))
        cells, segments, top = [], [], float(HEIGHT - BOTTOM)
        for i, (_value, _choice, label) in enumerate(options):
            n = counts[(start, i)]
            shown = (start, i) not in hidden_cells and start not in hidden_periods
            percent = round(100 * n / answers) if shown and answers else None
            cells.append(TrendCell(label, n if shown else None, percent if shown else None))
            if shown and n:
                height = round(plot * n / scale, 1)
                top -= height
                segments.append(Segment(round(top, 1), height, PALETTE[i % len(PALETTE)]))
        if start not in hidden_periods and top > TOP + 0.5:
            # What the hidden cells (or ticks beyond one per answer) leave: grey, unlabelled.
            segments.append(Segment(float(TOP), round(top - TOP, 1), HIDDEN))
        periods.append(
            TrendPeriod(
                start=start,
                answers=None if start in hidden_periods else answers,
                cells=cells,
                x=round(LEFT + position * step + step * 0.15, 1),
                width=round(step * 0.7, 1),
                segments=tuple(segments),
            )
        )
    labels = [(label, PALETTE[i % len(PALETTE)]) for i, (_v, _c, label) in enumerate(options)]
    return PollTrend(interval=interval, labels=labels, periods=periods)
