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
    counts: dict[tuple[dt.date, int], int], totals: dict[dt.date, int], *, k: int
) -> tuple[set, set]:
    """The hidden cells and the hidden periods (their answers)."""
    table = suppress_table(counts, k=k)
    cells, periods = set(table.cells), set(table.rows)
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
    totals: dict[dt.date, int] = defaultdict(int)
    counts: dict[tuple[dt.date, int], int] = defaultdict(int)
    for day, value, choice, n in days:
        start = period_start(day, interval)
        if value is None and choice is None:
            totals[start] += n
        elif (value, choice) in index:
            counts[(start, index[(value, choice)])] += n
    for start in totals:
        for i in range(len(options)):
            counts.setdefault((start, i), 0)
    hidden_cells, hidden_periods = _suppressed(dict(counts), dict(totals), k=k)
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
