"""The organisation dashboard: every figure of a seeded set, computed independently in
tests/insights/seed.py, compared with the page; small groups withheld; a bounded number of
queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.insights.seed import END, START, K, csat, nps, per, seed, seed_rows, stars

pytestmark = pytest.mark.django_db


def url(organisation, **params) -> str:
    query = {"start": START.isoformat(), "end": END.isoformat(), **params}
    return reverse("staff:insights_dashboard", args=[organisation.slug]), query


def board_for(client, organisation, **params):
    path, query = url(organisation, **params)
    page = client.get(path, query)
    assert page.status_code == 200
    return page.context["board"], page.content.decode()


@pytest.fixture
def seeded(organisation, community):
    return seed(organisation, community)


def test_the_headline_figures_are_those_the_seed_implies(staff_client, organisation, seeded):
    # given
    rows = seed_rows()

    # when
    board, html = board_for(staff_client, organisation)

    # then
    assert not board.withheld
    assert board.headline.responses == len(rows)
    assert board.headline.nps == nps(rows)
    assert board.headline.csat == csat(rows)
    assert board.headline.stars == stars(rows)
    answers = [r["csat"] for r in rows if r["csat"] is not None]
    assert board.headline.csat_mean == round(sum(answers) / len(answers), 2)
    given = [r["stars"] for r in rows if r["stars"] is not None]
    assert dict(board.headline.stars_distribution) == {v: given.count(v) for v in range(1, 6)}
    assert 'id="stat-nps"' in html and str(nps(rows)) in html


def test_the_weekly_trend_counts_each_week_and_its_nps(staff_client, organisation, seeded):
    # given: nine weeks, Monday to Sunday
    weeks = per(seed_rows(), lambda r: r["day"] - dt.timedelta(days=r["day"].weekday()))

    # when
    board, _html = board_for(staff_client, organisation, interval="week")

    # then: every week of the range, each shown one with the seed's count and NPS
    assert [cell.key for cell in board.trend] == [START + dt.timedelta(weeks=w) for w in range(9)]
    for cell in board.trend:
        rows = weeks.get(cell.key, [])
        if cell.hidden:
            assert cell.responses is None
        else:
            assert cell.responses == len(rows)
            assert cell.nps == (nps(rows) if len(rows) >= K else None)
    hidden = [len(weeks.get(c.key, [])) for c in board.trend if c.hidden]
    assert not hidden or sum(hidden) >= K


def test_the_channel_breakdown_counts_the_public_link_as_a_link(staff_client, organisation, seeded):
    # given
    channels = per(seed_rows(), lambda r: r["channel"] or "link")

    # when
    board, _html = board_for(staff_client, organisation)

    # then
    shown = {c.key: (c.responses, c.nps) for c in board.by_channel}
    assert shown == {kind: (len(rows), nps(rows)) for kind, rows in channels.items()}


def test_each_store_appears_once_with_its_channels_and_total(staff_client, organisation, seeded):
    # given: Bangkok Siam has 4 kiosk and 3 link answers, 7 in all (k is 5)
    rows = seed_rows()

    # when
    board, html = board_for(staff_client, organisation)

    # then: one row per store (and one for answers from no store), in name order
    labels = [row.label for row in board.by_store]
    assert labels == ["Ari", "Bangkok Siam", "Chiang Mai", "Silom", "Thonglor", "No store"]
    siam = next(row for row in board.by_store if row.label == "Bangkok Siam")
    assert siam.total.responses == 7 and not siam.total.hidden
    assert siam.total.nps == nps([r for r in rows if r["store"] == "Bangkok Siam"])
    assert all(cell.hidden for cell in siam.cells if cell.key in ("kiosk", "link"))
    hidden = [row.label for row in board.by_store if row.total.hidden]
    assert hidden == ["Ari", "Thonglor"]
    silom = next(row for row in board.by_store if row.label == "Silom")
    assert silom.total.responses == 12
    assert html.count('data-store="Bangkok Siam"') == 1


def test_a_filter_to_one_store_and_month_gives_that_stores_figures(
    staff_client, organisation, seeded
):
    # given
    _surveys, stores = seeded
    month = [r for r in seed_rows() if r["store"] == "Silom" and r["day"].month == 2]

    # when
    board, _html = board_for(
        staff_client,
        organisation,
        location=stores["Silom"].pk,
        start="2025-02-01",
        end="2025-02-28",
    )

    # then
    if len(month) >= K:
        assert board.headline.responses == len(month)
    else:
        assert board.withheld


def test_a_filter_narrowing_to_fewer_than_k_responses_shows_no_figures(
    staff_client, organisation, seeded
):
    # given: Ari has three responses
    _surveys, stores = seeded

    # when
    board, html = board_for(staff_client, organisation, location=stores["Ari"].pk)

    # then
    assert board.withheld and board.headline is None
    assert 'id="insights-withheld"' in html and 'id="trend-table"' not in html


def test_the_dashboard_reads_in_a_fixed_number_of_queries(
    staff_client, organisation, seeded, django_assert_max_num_queries
):
    # when / then: whatever the range (days or months) and the data
    for interval in ("day", "month"):
        with django_assert_max_num_queries(20):
            board_for(staff_client, organisation, interval=interval)


def test_the_hebrew_dashboard_renders(staff_client, organisation, seeded):
    # when
    path, query = url(organisation)
    page = staff_client.get(path, query, HTTP_ACCEPT_LANGUAGE="he")

    # then
    assert page.status_code == 200 and 'role="img"' in page.content.decode()


@pytest.mark.parametrize("role", ["owner", "admin", "analyst", "agent"])
def test_the_walk_table_says_who_may_read_the_dashboard(client, organisation, role):
    # given
    from communities.choices import Role
    from tests.factories.communities import StaffRoleFactory
    from tests.walks.insights import ACCESS

    client.force_login(StaffRoleFactory(organisation=organisation, role=Role(role)).user)

    # when
    page = client.get(reverse("staff:insights_dashboard", args=[organisation.slug]))

    # then
    assert page.status_code == (200 if Role(role) in ACCESS["insights_dashboard"] else 403)


def test_an_outsider_gets_404(client, organisation):
    # given: staff of another organisation
    from tests.factories.communities import StaffRoleFactory

    client.force_login(StaffRoleFactory(role="owner").user)

    # when / then
    page = client.get(reverse("staff:insights_dashboard", args=[organisation.slug]))
    assert page.status_code == 404
