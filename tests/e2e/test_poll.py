"""A customer votes in a quick poll on the community home, in one tap, and sees results."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from rewards.selectors import member_balance
from surveys.choices import SurveyKind
from surveys.models import Response
from surveys.services import question_add, survey_create, survey_publish
from tests.e2e.survey_page import shown

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def poll(organisation, community):
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
        choices=[{"en": "Yes please", "he": "כן, בבקשה"}, {"en": "No thanks", "he": "לא, תודה"}],
    )
    poll.points = 3
    poll.save()
    # The smallest minimum group size: the split shows from the second vote.
    organisation.min_group_size = 2
    organisation.save(update_fields=["min_group_size"])
    return survey_publish(survey=poll)


def home(community) -> str:
    return f"/c/{community.organisation.slug}/{community.slug}/"


def test_a_visitor_votes_with_one_tap_and_sees_the_results(page: Page, community, poll):
    # given
    page.goto(home(community))
    card = page.get_by_role("region", name="Should we stock oat milk?")
    # when
    card.get_by_role("button", name="Yes please").click()
    # then: the buttons give way to the results, and the page says thank you
    expect(page.get_by_text(shown("en", "Thank you for voting!"))).to_be_visible()
    results = page.get_by_role("region", name="Should we stock oat milk?")
    expect(results.get_by_role("button")).to_have_count(0)
    # one vote is fewer than k: how many voted, but no split that would show one choice
    expect(results.get_by_text("Results appear when more people have voted.")).to_be_visible()
    expect(results.get_by_role("progressbar")).to_have_count(0)
    expect(results.get_by_text("1 vote so far.")).to_be_visible()
    assert Response.objects.count() == 1


def test_the_same_browser_cannot_vote_twice_but_another_can(
    page: Page, context, browser: Browser, live_server, community, poll
):
    # given: the poll open in two tabs of one browser
    page.goto(home(community))
    second_tab = context.new_page()
    second_tab.goto(f"/s/{poll.public_id}/")
    # when: a vote in the first tab, then a tap on the stale buttons of the second
    page.get_by_role("button", name="Yes please").click()
    expect(page.get_by_text("1 vote so far.")).to_be_visible()
    second_tab.get_by_role("button", name="No thanks").click()
    # then: the second tap only shows the results
    expect(
        second_tab.get_by_text(shown("en", "You have already voted; here are the results."))
    ).to_be_visible()
    expect(second_tab.get_by_text("1 vote so far.")).to_be_visible()
    assert Response.objects.count() == 1
    # when: a second browser votes on the poll's own page
    other = browser.new_context(base_url=live_server.url, locale="he-IL")
    try:
        stranger = other.new_page()
        stranger.goto(f"/s/{poll.public_id}/?lang=he")
        expect(stranger.locator("html")).to_have_attribute("dir", "rtl")
        stranger.get_by_role("button", name="לא, תודה").click()
        # then: both votes count, in the stranger's language
        expect(stranger.get_by_role("progressbar", name="לא, תודה")).to_have_attribute(
            "aria-valuenow", "50"
        )
    finally:
        other.close()
    assert Response.objects.count() == 2


def test_a_member_earns_the_polls_points_once(member_page: Page, member, community, poll):
    # given
    member_page.goto(home(community))
    # when
    member_page.get_by_role("button", name="No thanks").click()
    # then
    expect(member_page.get_by_text("1 vote so far.")).to_be_visible()
    assert member_balance(member=member) == 3
