"""The rewards overview's chart, drawn on the server as inline SVG (no script, no CDN).

This module only does the geometry: where each bar, point and tick goes. The template
(templates/rewards/_chart_overview.html) writes the SVG and every word in it, translated.
Bars (issued, redeemed, expired) read against the left axis; the liability line, which is
usually far larger than a month's flow, against the right one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rewards.selectors.overview import MonthFigures

WIDTH = 760
HEIGHT = 320
LEFT = 64  # room for the left axis' numbers
RIGHT = 72  # and the right one's
TOP = 16
BOTTOM = 48  # month labels
TICKS = 4

# Okabe-Ito, safe for the common colour-vision deficiencies; each series also has its own
# pattern (bars) or marker (line), so colour is never the only cue.
COLOURS = {
    "issued": "#0072B2",
    "redeemed": "#E69F00",
    "expired": "#CC79A7",
    "liability": "#000000",
}


@dataclass
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass
class Tick:
    y: float
    value: int


@dataclass
class Column:
    month: MonthFigures
    label_x: float
    bars: list[Bar]
    point_x: float
    point_y: float

    @property
    def marker_x(self) -> float:
        return round(self.point_x - 4, 1)

    @property
    def marker_y(self) -> float:
        return round(self.point_y - 4, 1)

    @property
    def label_y(self) -> float:
        return round(self.point_y - 10, 1)


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    columns: list[Column]
    left_ticks: list[Tick]
    right_ticks: list[Tick]
    line: str  # the liability polyline's points
    colours: dict[str, str]

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def baseline(self) -> int:
        return self.height - self.bottom


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above `value` (at least 1)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return int(math.ceil(step * power))
    return 10 * power


def _ticks(ceiling: int, scale) -> list[Tick]:
    return [
        Tick(y=round(scale(ceiling * i / TICKS), 1), value=round(ceiling * i / TICKS))
        for i in range(TICKS + 1)
    ]


def overview_chart(*, months: Sequence[MonthFigures]) -> Chart:
    """Bars for issued, redeemed and expired per month, a line for the liability."""
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    bars_max = nice_ceiling(max((max(m.issued, m.redeemed, m.expired) for m in months), default=0))
    # A negative liability cannot happen (balances never go below zero); clamp anyway.
    line_max = nice_ceiling(max((m.liability for m in months), default=0))

    def bar_y(value: float) -> float:
        return TOP + plot_height - plot_height * value / bars_max

    def line_y(value: float) -> float:
        return TOP + plot_height - plot_height * max(value, 0) / line_max

    slot = plot_width / max(len(months), 1)
    bar_width = slot * 0.8 / 3
    columns = []
    for i, month in enumerate(months):
        x0 = LEFT + i * slot + slot * 0.1
        bars = []
        for j, series in enumerate(("issued", "redeemed", "expired")):
            value = max(getattr(month, series), 0)
            y = bar_y(value)
            bars.append(
                Bar(
                    series=series,
                    x=round(x0 + j * bar_width, 1),
                    y=round(y, 1),
                    width=round(bar_width - 1, 1),
                    height=round(TOP + plot_height - y, 1),
                    value=getattr(month, series),
                )
            )
        center = LEFT + i * slot + slot / 2
        columns.append(
            Column(
                month=month,
                label_x=round(center, 1),
                bars=bars,
                point_x=round(center, 1),
                point_y=round(line_y(month.liability), 1),
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        top=TOP,
        bottom=BOTTOM,
        columns=columns,
        left_ticks=_ticks(bars_max, bar_y),
        right_ticks=_ticks(line_max, line_y),
        line=" ".join(f"{c.point_x},{c.point_y}" for c in columns),
        colours=COLOURS,
    )
