"""A manager reads how one store did in one month: the insights dashboard filtered by its
form (the view is a URL to bookmark), the trend read from its table, and the same page in
Hebrew laid out right to left."""

from __future__ import annotations

import calendar
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from tests.e2e.conftest import sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.insights.seed import K, seed, seed_rows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def _busiest_month(store: str) -> tuple[int, int, int]:
    """(year, month, responses) of the store's month with the most responses in the seed."""
    months = Counter((r["day"].year, r["day"].month) for r in seed_rows() if r["store"] == store)
    (year, month), count = months.most_common(1)[0]
    return year, month, count


def test_a_manager_filters_the_dashboard_to_a_store_and_a_month_and_reads_the_trend(
    page: Page, context, live_server, organisation, community
):
    # given a seeded organisation and an analyst signed in
    _surveys, stores = seed(organisation, community)
    year, month, expected = _busiest_month("Silom")
    assert expected >= K, "the seed gives Silom a month big enough to show"
    analyst = UserFactory(email="analyst@example.com")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    sign_in_as(context, analyst, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/staff/{organisation.slug}/surveys/")

    # when they open Insights and narrow it to Silom in that month
    page.get_by_role("link", name="Insights").first.click()
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
    last = calendar.monthrange(year, month)[1]
    page.get_by_label("From", exact=True).fill(f"{year}-{month:02d}-01")
    page.get_by_label("To", exact=True).fill(f"{year}-{month:02d}-{last:02d}")
    page.get_by_label("Store", exact=True).select_option(str(stores["Silom"].pk))
    page.get_by_label("Trend by").select_option("day")
    page.get_by_role("button", name="Apply").click()

    # then the address holds the view, and the figures are Silom's in that month
    query = parse_qs(urlparse(page.url).query)
    assert query["location"] == [str(stores["Silom"].pk)]
    assert query["start"] == [f"{year}-{month:02d}-01"]
    expect(page.locator("#stat-responses [data-figure=now]")).to_have_text(str(expected))
    # and the trend's table (the chart's numbers, for a screen reader) counts them per day:
    # every day shown adds up to the month unless a day is "fewer than k"
    trend = page.locator("#trend-table")
    expect(trend.get_by_role("caption")).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(1)
    shown = [
        int(text)
        for text in trend.locator("tbody tr td:first-of-type").all_inner_texts()
        if text.strip().isdigit()
    ]
    hidden = trend.locator("tbody tr td[colspan]").count()
    assert sum(shown) == expected or hidden > 0
    assert sum(shown) <= expected


def test_the_hebrew_dashboard_reads_right_to_left(
    browser: Browser, live_server, organisation, community
):
    # given an analyst whose browser asks for Hebrew
    seed(organisation, community)
    analyst = UserFactory(email="analyst-he@example.com")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    context = browser.new_context(base_url=live_server.url, locale="he-IL", viewport=DESKTOP)
    try:
        sign_in_as(context, analyst, live_server)
        page = context.new_page()

        # when
        page.goto(f"/staff/{organisation.slug}/insights/?start=2025-01-27&end=2025-03-30")

        # then
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "he")
        expect(page.locator("#trend-table")).to_be_visible()
    finally:
        context.close()
