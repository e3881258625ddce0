"""Figures link to the responses behind them, carrying the page's current filters: the
dashboard's headline, breakdowns and trend, and the survey results page's detractors."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.factories.insights_text import DAY, TEXT_ROWS, text_seed

pytestmark = pytest.mark.django_db

END = DAY + dt.timedelta(days=13)


@pytest.fixture
def seeded(organisation, community):
    return text_seed(organisation, community)


def link(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return unescape(match.group(1))


def test_the_dashboards_detractors_link_lists_the_detractors_of_the_filtered_view(
    staff_client, organisation, seeded
):
    # given: the dashboard filtered to the kiosks over the seeded fortnight
    dashboard = staff_client.get(
        reverse("staff:insights_dashboard", args=[organisation.slug]),
        {"start": DAY.isoformat(), "end": END.isoformat(), "channel": "kiosk"},
    )
    href = link(dashboard.content.decode(), r'<a href="([^"]+)" id="detractors-link"')

    # when
    query = parse_qs(urlsplit(href).query)
    page = staff_client.get(href)

    # then: the link keeps the filters and adds the band
    assert query == {
        "start": [DAY.isoformat()],
        "end": [END.isoformat()],
        "channel": ["kiosk"],
        "band": ["detractor"],
    }
    wanted = [r for r in TEXT_ROWS if r.channel == "kiosk" and r.nps <= 6]
    assert page.context["drill"].count == len(wanted)


def test_a_breakdown_row_and_a_trend_interval_link_to_their_responses(
    staff_client, organisation, seeded
):
    # given
    dashboard = staff_client.get(
        reverse("staff:insights_dashboard", args=[organisation.slug]),
        {"start": DAY.isoformat(), "end": END.isoformat(), "interval": "week"},
    ).content.decode()

    # when: the English row of the language table, and the first week of the trend
    english = link(dashboard, r'<tr data-key="en">.*?<a href="([^"]+)"')
    week = link(dashboard, r'<tr data-bucket="' + DAY.isoformat() + r'">.*?<a href="([^"]+)"')

    # then
    assert parse_qs(urlsplit(english).query)["language"] == ["en"]
    english_page = staff_client.get(english)
    assert english_page.context["drill"].count == sum(r.language == "en" for r in TEXT_ROWS)
    week_query = parse_qs(urlsplit(week).query)
    assert week_query["start"] == [DAY.isoformat()]
    assert week_query["end"] == [(DAY + dt.timedelta(days=6)).isoformat()]
    first_week = [i for i in range(len(TEXT_ROWS)) if i % 14 < 7]
    assert staff_client.get(week).context["drill"].count == len(first_week)


def test_the_survey_results_pages_detractors_link_lists_that_surveys_detractors(
    staff_client, organisation, seeded
):
    # given
    survey = seeded["survey"]
    results = staff_client.get(
        reverse("staff:survey_results", args=[organisation.slug, survey.pk]),
        {"language": "en"},
    )
    href = link(results.content.decode(), r'<a href="([^"]+)" id="detractors-link"')

    # when
    page = staff_client.get(href)

    # then
    query = parse_qs(urlsplit(href).query)
    assert query["survey"] == [str(survey.pk)]
    assert query["language"] == ["en"]
    wanted = [r for r in TEXT_ROWS if r.language == "en" and r.nps <= 6]
    assert page.context["drill"].count == len(wanted)


@pytest.mark.parametrize("until", ["2025-02-30", "soon", "9" * 400])
def test_a_malformed_results_filter_still_renders_the_page_and_its_links(
    staff_client, organisation, seeded, until
):
    # when
    results = staff_client.get(
        reverse("staff:survey_results", args=[organisation.slug, seeded["survey"].pk]),
        {"until": until},
    )

    # then: the results page shows its own error; the links carry the value along for the
    # drill page to refuse in turn
    assert results.status_code == 200
    hrefs = re.findall(r'href="(/staff/[^"]*/insights/responses/[^"]*)"', results.content.decode())
    assert hrefs
    for href in hrefs:
        page = staff_client.get(unescape(href))
        assert page.status_code == 200
        assert page.context["form"].errors


def test_a_stores_total_links_to_that_stores_responses(staff_client, organisation, seeded):
    # given (with so few responses the store x channel cells are suppressed; Siam's total
    # of 8 is shown)
    siam = seeded["stores"]["Siam"]
    dashboard = staff_client.get(
        reverse("staff:insights_dashboard", args=[organisation.slug]),
        {"start": DAY.isoformat(), "end": END.isoformat()},
    ).content.decode()

    # when
    href = link(dashboard, r'<tr data-store="Siam">.*?data-total><a href="([^"]+)"')
    page = staff_client.get(href)

    # then
    assert parse_qs(urlsplit(href).query)["location"] == [str(siam.pk)]
    assert page.context["drill"].count == sum(r.store == "Siam" for r in TEXT_ROWS)
    # and no link leads from a hidden cell
    ari = re.search(r'<tr data-store="Ari">.*?</tr>', dashboard).group(0)
    assert "<a " not in ari
