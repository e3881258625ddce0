"""A manager's insights journey in the browser: the dashboard narrowed to a store and a
month, its trend chart and table, the detractors behind a figure (none listed while they
are fewer than k, listed once the view is wide enough), the CSV export; the text answers
with Thai and Japanese top terms; the pages in Hebrew right to left; axe in every language.
"""

from __future__ import annotations

import calendar
import csv
import io

import pytest
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.insights_text import DAY, text_seed
from tests.insights.seed import K, seed, seed_rows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = {"en": "en-GB", "th": "th-TH", "he": "he-IL", "ja": "ja-JP"}


@pytest.fixture
def manager(organisation):
    user = UserFactory(email="manager@example.com")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.ADMIN)
    return user


def test_a_manager_narrows_the_dashboard_opens_the_detractors_and_exports_csv(
    page: Page, context, live_server, organisation, community, manager
):
    # given: the seeded responses; Silom in March has 6 responses, 4 of them detractors
    surveys, stores = seed(organisation, community)
    rows = seed_rows()
    march = [r for r in rows if r["day"].month == 3]
    silom = [r for r in march if r["store"] == "Silom"]
    assert len(silom) >= K > sum(r["nps"] <= 6 for r in silom)
    sign_in_as(context, manager, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/staff/{organisation.slug}/insights/")

    # when: the manager narrows the dashboard to Silom in March, by day
    last = calendar.monthrange(2025, 3)[1]
    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_label("To", exact=True).fill(f"2025-03-{last}")
    page.get_by_label("Store", exact=True).select_option(str(stores["Silom"].pk))
    page.get_by_label("Trend by").select_option("day")
    page.get_by_role("button", name="Apply").click()

    # then: the chart, and its numbers in a table beside it
    expect(page.locator("#stat-responses [data-figure=now]")).to_have_text(str(len(silom)))
    expect(page.locator("svg[role=img]")).to_have_count(1)
    expect(page.locator("#trend-table caption")).to_be_visible()
    expect(page.locator("#trend-table tbody tr")).to_have_count(last)

    # when: they open the detractors behind the figures
    page.locator("#detractors-link").click()

    # then: too few to list, and the page says why
    expect(page.get_by_role("heading", name="Responses behind a figure")).to_be_visible()
    expect(page.locator("#responses-withheld")).to_be_visible()
    expect(page.locator("#responses-table")).to_have_count(0)

    # when: they widen to every store in March
    page.get_by_label("Store", exact=True).select_option("")
    page.get_by_role("button", name="Apply").click()

    # then: each detractor of March, with an NPS of 0 to 6
    detractors = [r for r in march if r["nps"] <= 6]
    assert len(detractors) >= K
    listed = page.locator("#responses-table tbody tr")
    expect(listed).to_have_count(len(detractors))
    scores = page.locator("#responses-table tbody tr td:nth-child(5)").all_inner_texts()
    assert all(0 <= int(score) <= 6 for score in scores)

    # when: they export the first survey's responses as CSV from its results page
    survey = surveys[0]
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/")
    with page.expect_download() as download:
        page.locator("#export-submit").click()

    # then: one row per response of that survey
    body = download.value.path().read_text(encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(body)))
    assert len(exported) - 1 == sum(1 for i, _r in enumerate(rows) if i % 2 == 0)


def test_the_text_answers_show_thai_and_japanese_top_terms(
    page: Page, context, live_server, organisation, community, manager
):
    # given: answers in English, Thai, Japanese and Hebrew over two weeks
    text_seed(organisation, community)
    sign_in_as(context, manager, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/staff/{organisation.slug}/insights/")

    # when: the manager opens Text answers, by week
    page.get_by_role("link", name="Text answers").first.click()
    page.get_by_label("From", exact=True).fill(DAY.isoformat())
    page.get_by_label("To", exact=True).fill("2025-03-16")
    page.get_by_label("Trend by").select_option("week")
    page.get_by_role("button", name="Apply").click()

    # then: the Thai and Japanese words, cut from text with no spaces, are among the terms
    # (the Thai and Japanese answers fall in the second week)
    second_week = page.locator('#terms-by-period tr[data-period="2025-03-10"]')
    expect(second_week.locator("[data-term]", has_text="กาแฟ")).to_have_count(1)
    expect(second_week.locator("[data-term]", has_text="コーヒー")).to_have_count(1)
    expect(page.locator("#text-answers li")).to_have_count(20)

    # when: they search for a word
    page.get_by_label("Keyword").fill("coffee")
    page.get_by_role("button", name="Apply").click()

    # then: it is marked in each answer
    expect(page.locator("#text-answers mark").first).to_have_text("coffee")
    assert_accessible(page)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_new_pages_pass_axe_in_every_language_and_hebrew_reads_right_to_left(
    browser: Browser, live_server, organisation, community, manager, language
):
    # given
    text_seed(organisation, community)
    context = browser.new_context(
        base_url=live_server.url, locale=LANGUAGES[language], viewport=DESKTOP
    )
    context.set_default_timeout(10_000)
    try:
        sign_in_as(context, manager, live_server)
        page = context.new_page()
        query = f"start={DAY.isoformat()}&end=2025-03-16"
        for path in (f"insights/text/?{query}&interval=week", f"insights/responses/?{query}"):
            # when
            page.goto(f"/staff/{organisation.slug}/{path}")

            # then
            expect(page.locator("html")).to_have_attribute("lang", language)
            direction = "rtl" if language == "he" else "ltr"
            expect(page.locator("html")).to_have_attribute("dir", direction)
            expect(page.locator("h1")).to_be_visible()
            assert_accessible(page)
    finally:
        context.close()
