"""A customer joins a community, confirms from the email, manages consent, downloads their
data and erases themselves, in a real browser; the email travels over real SMTP."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import Member, User
from tests.e2e.conftest import text_of
from tests.factories.communities import ConsentRecordFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADDRESS = "newcomer@example.com"


def home(community) -> str:
    return f"/c/{community.organisation.slug}/{community.slug}/"


def test_a_customer_joins_confirms_by_email_and_lands_in_the_portal(
    page: Page,
    community,
    inbox,
    live_server,
):
    # given: the community's public page
    page.goto(home(community))
    page.get_by_role("link", name="Join", exact=True).click()
    # when: they fill in the join form and tick the consent box
    page.get_by_label("Your name").fill("Nina Newcomer")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label("I agree to the community terms").check()
    page.get_by_role("button", name="Join the community").click()
    # then: they are asked to check their email
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    (message,) = inbox.wait_for(ADDRESS)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"(http\S+/confirm/\S+/)", text_of(message)).group(1)
    # when: they open the link from the email and confirm on the page it shows
    page.goto(link)
    page.get_by_role("button", name="Confirm and continue").click()
    # then: signed in, in the portal, welcomed
    expect(page.get_by_text("Welcome to")).to_be_visible()
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    member = Member.objects.get(email=ADDRESS)
    assert member.status == MemberStatus.NEW and member.user is not None


def test_without_the_consent_box_the_browser_and_server_both_refuse(page: Page, community):
    page.goto(home(community) + "join/")
    page.get_by_label("Email address").fill(ADDRESS)
    # the browser's own check stops the form; remove it to reach the server
    page.eval_on_selector("form[method=post]", "form => form.noValidate = true")
    page.get_by_label("I agree to the community terms").evaluate("box => box.required = false")
    page.get_by_role("button", name="Join the community").click()
    expect(page.get_by_text("Please accept the community terms")).to_be_visible()
    assert not Member.objects.exists()


def test_a_member_withdraws_marketing_and_sees_it_in_the_history(
    member_page: Page, member, community
):
    # given: the member had said yes to marketing
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=True)
    member_page.goto(home(community))
    member_page.get_by_role("link", name="Consent").click()
    # when
    member_page.get_by_role("button", name="Withdraw: Marketing").click()
    # then
    expect(member_page.get_by_text("Your choice is saved.")).to_be_visible()
    expect(member_page.get_by_test_id("state-marketing")).to_contain_text("Withdrawn")
    history = member_page.get_by_role("table")
    expect(history.get_by_role("row").filter(has_text="Marketing")).to_have_count(2)
    expect(
        history.get_by_role("row").filter(has_text="Marketing").filter(has_text="Withdrawn")
    ).to_have_count(1)
    assert member.consents.filter(purpose=ConsentPurpose.MARKETING).first().granted is False


def test_a_member_downloads_their_data_then_erases_themselves(
    member_page: Page, member, member_user, community
):
    # given
    member_page.goto(home(community))
    member_page.get_by_role("link", name="My data").click()
    # when: they download their data
    with member_page.expect_download() as download:
        member_page.get_by_role("link", name="Download my data").click()
    # then: a dated JSON file about them
    assert re.fullmatch(
        rf"{community.slug}-my-data-\d{{4}}-\d{{2}}-\d{{2}}\.json",
        download.value.suggested_filename,
    )
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["member"]["email"] == member.email
    # when: they try to erase without typing the word, then with it
    member_page.get_by_label("To confirm, type").fill("please")
    member_page.get_by_role("button", name="Erase me for good").click()
    expect(member_page.get_by_text("to confirm.")).to_be_visible()
    member_page.get_by_label("To confirm, type").fill("ERASE")
    member_page.get_by_role("button", name="Erase me for good").click()
    # then: signed out, and the member is gone
    expect(member_page.get_by_role("heading", name="Your data is erased")).to_be_visible()
    expect(member_page.get_by_role("button", name="Sign out")).to_have_count(0)
    member.refresh_from_db()
    assert member.is_erased and member.email == ""
    assert not User.objects.filter(pk=member_user.pk).exists()
    member_page.goto(home(community) + "profile/")
    assert "/accounts/login/code/" in member_page.url


def test_the_join_page_reads_right_to_left_in_hebrew(page: Page, community):
    page.goto(home(community) + "join/?lang=he")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "he")
    # the consent box sits at the start (right) of its label in a right-to-left page
    box = page.locator("#id_consent").bounding_box()
    label = page.locator("label[for=id_consent]").bounding_box()
    assert box["x"] > label["x"]
