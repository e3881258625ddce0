"""The dashboard's trend chart, drawn on the server as inline SVG (the house approach of
rewards.charts): this module does the geometry; templates/insights/_trend_chart.html
writes the SVG and its words. Bars are responses per interval (left scale), the line is
NPS (right scale, −100…100). A withheld interval has neither bar nor point, and the line
breaks there rather than bridging it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rewards.charts import nice_ceiling
from surveys.disclosure import Cell

WIDTH = 760
HEIGHT = 300
LEFT = 56
RIGHT = 56
TOP = 16
BOTTOM = 40
TICKS = 4
# Okabe-Ito: blue bars, a black line with square markers (colour is never the only cue).
COLOURS = {"responses": "#0072B2", "nps": "#000000", "withheld": "#E69F00"}


@dataclass
class Column:
    cell: Cell
    x: float
    width: float
    bar_y: float | None
    bar_height: float | None
    point_y: float | None
    label_x: float
    show_label: bool


@dataclass
class Tick:
    y: float
    value: int


@dataclass
class TrendChart:
    width: int
    height: int
    left: int
    right: int
    columns: list[Column]
    left_ticks: list[Tick]
    right_ticks: list[Tick]
    lines: list[str]  # the NPS polyline, one string of points per unbroken stretch
    colours: dict[str, str]

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM


def trend_chart(*, cells: Sequence[Cell]) -> TrendChart:
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    ceiling = nice_ceiling(max((c.responses or 0 for c in cells), default=0))

    def count_y(value: float) -> float:
        return round(TOP + plot_height - plot_height * value / ceiling, 1)

    def nps_y(value: float) -> float:
        return round(TOP + plot_height - plot_height * (value + 100) / 200, 1)

    slot = plot_width / max(len(cells), 1)
    # Label about a dozen intervals, whatever their number.
    every = max(1, round(len(cells) / 12))
    columns, lines, stretch = [], [], []
    for i, cell in enumerate(cells):
        center = round(LEFT + i * slot + slot / 2, 1)
        bar_y = count_y(cell.responses) if cell.responses is not None else None
        point_y = nps_y(cell.nps) if cell.nps is not None else None
        columns.append(
            Column(
                cell=cell,
                x=round(LEFT + i * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                bar_y=bar_y,
                bar_height=round(TOP + plot_height - bar_y, 1) if bar_y is not None else None,
                point_y=point_y,
                label_x=center,
                show_label=i % every == 0,
            )
        )
        if point_y is None:
            if stretch:
                lines.append(" ".join(stretch))
            stretch = []
        else:
            stretch.append(f"{center},{point_y}")
    if stretch:
        lines.append(" ".join(stretch))
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        columns=columns,
        left_ticks=[
            Tick(y=count_y(ceiling * i / TICKS), value=round(ceiling * i / TICKS))
            for i in range(TICKS + 1)
        ],
        right_ticks=[Tick(y=nps_y(v), value=v) for v in (-100, -50, 0, 50, 100)],
        lines=lines,
        colours=COLOURS,
    )
