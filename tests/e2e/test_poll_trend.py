"""A staff analyst reads a poll's votes over time on the survey results page, in a real
browser: the chart and its table per week, the month figures through the page's own
control, a week of fewer than k votes shown as "fewer than k" in the table and not drawn
in the chart, and the table reachable by a screen reader with axe-core passing in English
and in Hebrew (right to left).

Every expected figure is counted here from the seeded votes, not read from the app."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from surveys.choices import SurveyKind
from surveys.models import Choice
from surveys.services import question_add, survey_create, survey_publish
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.surveys import AnswerFactory, ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

K = 5
OPTIONS = ("Yes", "No", "Maybe")
DESKTOP = {"width": 1280, "height": 900}
# Five weeks of votes, every cell of every week and month either 0 or at least k; the
# week of 24 February runs into March, so its weeks and its months split it differently.
VOTES: list[tuple[dt.date, dict[str, int]]] = [
    (dt.date(2025, 2, 25), {"Yes": 6, "No": 5}),
    (dt.date(2025, 3, 1), {"Maybe": 5}),
    (dt.date(2025, 3, 4), {"Yes": 7, "Maybe": 5}),
    (dt.date(2025, 3, 12), {"No": 8, "Yes": 5}),
    (dt.date(2025, 3, 20), {"Yes": 9}),
]
# A sixth week of three votes: fewer than k.
SMALL_WEEK = (dt.date(2025, 3, 26), {"Yes": 2, "No": 1})


# --- the seed and what it should show ----------------------------------------------------


@pytest.fixture
def poll(organisation, community):
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk", "he": "חלב שיבולת שועל"},
        languages=["en", "he"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?", "he": "להחזיק חלב שיבולת שועל?"},
        choices=[{"en": label, "he": label} for label in OPTIONS],
    )
    return survey_publish(survey=poll)


@pytest.fixture
def analyst_page(page: Page, context, live_server, organisation) -> Page:
    analyst = UserFactory(email="analyst@example.com")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    sign_in_as(context, analyst, live_server)
    page.set_viewport_size(DESKTOP)
    return page


def seed(poll, votes: list[tuple[dt.date, dict[str, int]]]) -> None:
    """One response per vote, submitted at noon on its day."""
    question = poll.questions.get()
    for day, by_label in votes:
        for label, n in by_label.items():
            choice = Choice.objects.get(question=question, label__en=label)
            for _ in range(n):
                response = ResponseFactory(
                    survey=poll,
                    submitted_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
                    submitted_on=day,
                )
                AnswerFactory(response=response, question=question, number=None).choices.set(
                    [choice]
                )


def periods_of(votes, interval: str) -> dict[str, Counter]:
    """The votes per week (by its Monday) or per month (by its first day)."""
    periods: dict[str, Counter] = defaultdict(Counter)
    for day, by_label in votes:
        monday = day - dt.timedelta(days=day.weekday())
        start = monday if interval == "week" else day.replace(day=1)
        periods[start.isoformat()].update(by_label)
    return dict(sorted(periods.items()))


def expected_rows(votes, interval: str) -> dict[str, list[str]]:
    """Each period's row as the table should read: its votes, then each answer's count
    and share of them, every cell being 0 or at least k (so none is withheld)."""
    rows = {}
    for start, counts in periods_of(votes, interval).items():
        total = sum(counts.values())
        assert all(counts[o] == 0 or counts[o] >= K for o in OPTIONS), "seed a cell under k"
        rows[start] = [str(total)] + [
            f"{counts[o]} ({round(100 * counts[o] / total)}%)" for o in OPTIONS
        ]
    return rows


# --- reading the page ------------------------------------------------------------------------


def results_url(poll) -> str:
    return reverse("staff:survey_results", args=[poll.organisation.slug, poll.pk])


def table_rows(page: Page) -> dict[str, list[str]]:
    """The trend table as a person reads it: per period, its votes and answers' cells."""
    rows = page.locator("#poll-trend-table tbody tr")
    return {
        row.get_attribute("data-period"): [
            re.sub(r"\s+", " ", text).strip() for text in row.locator("td").all_inner_texts()
        ]
        for row in rows.all()
    }


def chart_bars(page: Page) -> list[dict]:
    """The chart's bars left to right: each its centre and its segments' (fill, height)."""
    return page.evaluate(
        """() => {
            const bars = new Map();
            for (const r of document.querySelectorAll('#poll-trend figure > svg rect')) {
                const x = parseFloat(r.getAttribute('x'));
                const w = parseFloat(r.getAttribute('width'));
                const key = (x + w / 2).toFixed(1);
                if (!bars.has(key)) bars.set(key, {centre: x + w / 2, segments: []});
                bars.get(key).segments.push(
                    [r.getAttribute('fill').toUpperCase(), parseFloat(r.getAttribute('height'))]
                );
            }
            return [...bars.values()].sort((a, b) => a.centre - b.centre);
        }"""
    )


def chart_labels(page: Page) -> list[dict]:
    """The x-axis labels (one per period, left to right) with their centres."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#poll-trend figure > svg text')]
            .filter(t => t.getAttribute('text-anchor') === 'middle')
            .map(t => ({text: t.textContent, centre: parseFloat(t.getAttribute('x'))}))
            .sort((a, b) => a.centre - b.centre)"""
    )


def legend_colours(page: Page) -> list[str]:
    return [
        fill.upper()
        for fill in page.locator("#poll-trend figcaption li svg rect").evaluate_all(
            "rects => rects.map(r => r.getAttribute('fill'))"
        )
    ]


def assert_bars_draw(page: Page, votes, interval: str) -> None:
    """Each bar is split into each answer's share of its period's votes, in the legend's
    colours, one bar per period."""
    periods = list(periods_of(votes, interval).values())
    bars = chart_bars(page)
    assert len(bars) == len(periods)
    colours = dict(zip(legend_colours(page), OPTIONS, strict=True))
    for bar, counts in zip(bars, periods, strict=True):
        height = sum(h for _fill, h in bar["segments"])
        drawn = {colours[fill]: h / height for fill, h in bar["segments"]}
        total = sum(counts.values())
        for option in OPTIONS:
            assert drawn.get(option, 0) == pytest.approx(counts[option] / total, abs=0.01)


# --- the specification -------------------------------------------------------------------


def test_an_analyst_reads_each_weeks_votes_then_switches_to_months(analyst_page: Page, poll):
    # given five weeks of votes over two months
    seed(poll, VOTES)
    page = analyst_page
    # when the analyst opens the poll's results per week
    page.goto(f"{results_url(poll)}?every=week")
    trend = page.locator("#poll-trend")
    # then the chart is there, named for a screen reader, one bar per week
    chart = trend.get_by_role("img", name="Each answer's share of the votes over time")
    expect(chart).to_be_visible()
    expect(trend.get_by_text("week", exact=True)).to_have_attribute("aria-current", "true")
    # and the table beside it gives each week's votes and each answer's count and share
    assert table_rows(page) == expected_rows(VOTES, "week")
    assert list(expected_rows(VOTES, "week")) == [
        "2025-02-24",
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
    ]
    # and the chart draws the same shares
    assert_bars_draw(page, VOTES, "week")

    # when they choose months with the page's own control
    trend.get_by_role("link", name="month", exact=True).click()
    # then the address keeps the choice, and the table and chart give each month's figures
    expect(page).to_have_url(re.compile(r"[?&]every=month"))
    expect(trend.get_by_role("columnheader", name="Month")).to_be_visible()
    expect(trend.get_by_text("month", exact=True)).to_have_attribute("aria-current", "true")
    assert table_rows(page) == expected_rows(VOTES, "month")
    assert table_rows(page)["2025-03-01"][0] == "39"  # Saturday 1 March counts in March
    assert_bars_draw(page, VOTES, "month")
    # and weeks are one click away again
    trend.get_by_role("link", name="week", exact=True).click()
    assert table_rows(page) == expected_rows(VOTES, "week")


def test_a_week_of_fewer_than_k_votes_is_withheld_in_the_table_and_not_drawn(
    analyst_page: Page, poll
):
    # given the five weeks and a sixth of three votes
    seed(poll, [*VOTES, SMALL_WEEK])
    page = analyst_page
    small = "2025-03-24"
    assert sum(periods_of([SMALL_WEEK], "week")[small].values()) == 3
    # when the analyst opens the results per week
    page.goto(f"{results_url(poll)}?every=week")
    # then the small week's votes and every answer in it read "fewer than k"
    rows = table_rows(page)
    fewer = f"fewer than {K}"
    assert rows[small] == [fewer] * (1 + len(OPTIONS))
    # and every number the table does show is the truth
    truth = periods_of([*VOTES, SMALL_WEEK], "week")
    for start, row in rows.items():
        counts = truth[start]
        if row[0] != fewer:
            assert row[0] == str(sum(counts.values()))
        for cell, option in zip(row[1:], OPTIONS, strict=True):
            if cell != fewer:
                assert cell.split(" ")[0] == str(counts[option])
    # and the chart has no bar for the small week: its label alone, and no segment at it
    labels = chart_labels(page)
    assert len(labels) == len(rows)
    small_centre = labels[list(rows).index(small)]["centre"]
    assert all(abs(bar["centre"] - small_centre) > 1 for bar in chart_bars(page))
    assert len(chart_bars(page)) == len([row for row in rows.values() if row[0] != fewer])
    # and nothing in the chart a person or a screen reader gets says how many voted
    svg = page.locator("#poll-trend figure > svg")
    texts = svg.locator("text").all_text_contents()
    assert sorted(texts) == sorted(["100%", "0%", *[label["text"] for label in labels]])
    spoken = svg.evaluate(
        """svg => [svg, ...svg.querySelectorAll('*')].flatMap(e => [
            e.getAttribute('aria-label'), e.getAttribute('title'),
            e.getAttribute('aria-valuenow'), e.getAttribute('aria-valuetext'),
            e.tagName === 'title' || e.tagName === 'desc' ? e.textContent : null,
        ]).filter(Boolean)"""
    )
    assert spoken and not any(re.search(r"\d", text) for text in spoken), spoken
    # and the legend names answers only
    legend = page.locator("#poll-trend figcaption li").all_inner_texts()
    assert [text.strip() for text in legend] == list(OPTIONS)


def test_the_week_and_month_views_together_do_not_give_a_small_week_away(analyst_page: Page, poll):
    # given a February week of 6 votes, two March weeks of at least k and a March week of 3:
    # per week the 3 is hidden and, the poll's total being shown, February's 6 with it
    seed(
        poll,
        [
            (dt.date(2025, 2, 4), {"Yes": 6}),
            (dt.date(2025, 3, 4), {"Yes": 7, "No": 5}),
            (dt.date(2025, 3, 12), {"No": 8, "Yes": 5}),
            SMALL_WEEK,
        ],
    )
    page = analyst_page
    page.goto(f"{results_url(poll)}?every=week")
    weeks = table_rows(page)
    page.locator("#poll-trend").get_by_role("link", name="month", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]every=month"))
    months = table_rows(page)
    # when an analyst subtracts March's shown weeks from March's votes
    march_weeks = [row for start, row in weeks.items() if start.startswith("2025-03")]
    fewer = f"fewer than {K}"
    shown = sum(int(row[0]) for row in march_weeks if row[0] != fewer)
    withheld = months.get("2025-03-01", [fewer])[0]
    # then what is left is no group under k (or March's votes are withheld too)
    left = None if withheld == fewer else int(withheld) - shown
    assert left is None or not 0 < left < K, f"March less its shown weeks = {left}"


@pytest.mark.parametrize(
    ("locale", "language", "direction"), [("en-GB", "en", "ltr"), ("he-IL", "he", "rtl")]
)
def test_the_trend_table_is_reachable_and_the_page_passes_axe_core(
    browser: Browser, live_server, organisation, poll, locale, language, direction
):
    # given votes including a week under k, and an analyst whose browser asks for `language`
    seed(poll, [*VOTES, SMALL_WEEK])
    analyst = UserFactory(email=f"analyst-{language}@example.com")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=DESKTOP)
    try:
        sign_in_as(context, analyst, live_server)
        page = context.new_page()
        # when
        page.goto(f"{results_url(poll)}?every=week")
        # then the page is in that language and direction
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        # and the numbers are a table a screen reader can walk: a header per column, a
        # header per row (each period), and a cell for each answer
        table = page.locator("#poll-trend").get_by_role("table")
        expect(table).to_have_count(1)
        expect(table.get_by_role("columnheader")).to_have_count(2 + len(OPTIONS))
        weeks = len(periods_of([*VOTES, SMALL_WEEK], "week"))
        expect(table.get_by_role("rowheader")).to_have_count(weeks)
        expect(table.get_by_role("cell")).to_have_count(weeks * (1 + len(OPTIONS)))
        for option in OPTIONS:
            expect(table.get_by_role("columnheader", name=option)).to_be_visible()
        # and axe-core finds nothing against WCAG 2.2 AA, in weeks and in months
        assert_accessible(page)
        page.goto(f"{results_url(poll)}?every=month")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        assert_accessible(page)
    finally:
        context.close()


def test_the_trend_table_is_named_for_a_screen_reader(analyst_page: Page, poll):
    # given
    seed(poll, VOTES)
    # when
    analyst_page.goto(f"{results_url(poll)}?every=week")
    # then a screen reader listing the page's tables hears this one's name (its caption)
    table = analyst_page.locator("#poll-trend-table")
    expect(table.get_by_role("caption")).to_have_count(1)
    expect(table).to_have_accessible_name(re.compile(r"\S"))
