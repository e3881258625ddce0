"""An attacker's view of the dashboard: every filter and every pair of filters it offers,
and in each view every total − shown parts subtraction across its tables, looking for a
count of fewer than k responses. It must find none."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from insights.selectors import DashboardFilters, dashboard
from surveys.choices import ChannelKind
from surveys.disclosure import leaks
from tests.insights.seed import END, LANGUAGES, START, K, seed

pytestmark = pytest.mark.django_db


def subtractions(board) -> list[tuple[str, list[int]]]:
    """Every line of the view with a visible total, and what it leaks."""
    total = board.headline.responses
    found = []

    def check(name, line_total, cells):
        found.append((name, leaks(total=line_total, shown=cells, k=K)))

    check("trend", total, [c.responses for c in board.trend])
    check("surveys", total, [c.responses for c in board.by_survey])
    check("channels", total, [c.responses for c in board.by_channel])
    check("languages", total, [c.responses for c in board.by_language])
    check("store totals", total, [row.total.responses for row in board.by_store])
    for row in board.by_store:
        check(f"store {row.label}", row.total.responses, [c.responses for c in row.cells])
    for index, channel in enumerate(board.by_channel):
        cells = [row.cells[index].responses for row in board.by_store]
        check(f"channel {channel.key}", channel.responses, cells)
    # A headline figure beside the parts of any line is the same subtraction; the stars
    # table rests on the stars answers only.
    return [(name, leaked) for name, leaked in found if leaked]


def test_no_filter_or_pair_of_filters_leaves_a_group_under_k_to_be_found(organisation, community):
    # given: stores below and above k, over three channels, four languages, two surveys
    surveys, stores = seed(organisation, community)
    months = [
        (dt.date(2025, 1, 27), dt.date(2025, 1, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
        (dt.date(2025, 3, 1), END),
    ]
    options = (
        [("survey", s.pk) for s in surveys]
        + [("channel", kind) for kind in ChannelKind.values]
        + [("location", store.pk) for store in stores.values()]
        + [("language", code) for code in LANGUAGES]
        + [("range", months_range) for months_range in months]
    )
    views = (
        [()]
        + [(o,) for o in options]
        + [pair for pair in itertools.combinations(options, 2) if pair[0][0] != pair[1][0]]
    )

    # when: the attacker reads every view
    found = []
    for view in views:
        chosen = dict(view)
        start, end = chosen.pop("range", (START, END))
        board = dashboard(
            organisation=organisation,
            filters=DashboardFilters(start=start, end=end, **chosen),
        )
        if board.withheld:
            continue
        assert board.headline.responses >= K
        found += [(view, name, leaked) for name, leaked in subtractions(board)]

    # then
    assert len(views) > 100
    assert found == []
