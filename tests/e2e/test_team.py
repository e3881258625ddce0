"""An owner invites a colleague; the colleague accepts from the email and reads results.

The invitation leaves through a real SMTP conversation with a local sink; the colleague
opens the link the sink received, in a browser of their own, and signs in there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from communities.models import StaffInvitation, StaffRole
from tests.e2e.conftest import text_of
from tests.factories.communities import StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLLEAGUE = "colleague@example.com"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def colleague_page(browser: Browser, live_server) -> Iterator[Page]:
    """The colleague's own laptop: a browser profile that shares nothing with the owner's."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_owner_invites_an_analyst_who_accepts_from_the_email_and_only_reads(
    page: Page, colleague_page: Page, live_server, inbox, survey, organisation
):
    # given: an owner at their desk, and a colleague who already has a Chorus account
    StaffRoleFactory(
        user=UserFactory(email="owner@example.com"), organisation=organisation, role=Role.OWNER
    )
    UserFactory(email=COLLEAGUE)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/accounts/login/")
    sign_in(page, "owner@example.com")

    # when: the owner opens the Team page and invites the colleague as an analyst
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    page.get_by_label("Email address").fill(COLLEAGUE)
    page.get_by_label(re.compile(r"^\s*Role\W*$")).select_option(label="Analyst")
    page.get_by_role("button", name="Send the invitation").click()

    # then: the invitation is listed as waiting, and one email reaches the colleague
    expect(page.get_by_text(f"Invitation sent to {COLLEAGUE}.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=COLLEAGUE)).to_contain_text("Analyst")
    [email] = inbox.wait_for(COLLEAGUE)
    assert email["Subject"] == "You are invited to join Demo Coffee on Chorus"
    link = re.search(r"^Accept the invitation: (\S+)$", text_of(email), re.MULTILINE).group(1)
    assert link.startswith(f"{live_server.url}/staff-invitation/")

    # when: on their own computer, the colleague opens the link
    colleague_page.goto(link)

    # then: they see whom it is from and are asked to sign in
    expect(colleague_page.get_by_role("heading", name="Join Demo Coffee on Chorus")).to_be_visible()
    expect(colleague_page.get_by_text("owner@example.com invited you as Analyst.")).to_be_visible()

    # when: they sign in, come back to the invitation, and accept
    colleague_page.get_by_role("link", name="Sign in").click()
    sign_in(colleague_page, COLLEAGUE)
    colleague_page.get_by_role("button", name="Accept the invitation").click()

    # then: they land on the organisation's surveys as an analyst
    expect(colleague_page.get_by_text("Welcome to Demo Coffee. You are Analyst.")).to_be_visible()
    expect(colleague_page.get_by_role("heading", name="Surveys")).to_be_visible()
    assert StaffRole.objects.get(user__email=COLLEAGUE).role == Role.ANALYST
    assert StaffInvitation.objects.get(email=COLLEAGUE).accepted_at is not None
    # and see the survey and its results, with nothing that changes anything
    row = colleague_page.get_by_role("row").filter(has_text=survey.title["en"])
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name="Edit")).to_have_count(0)
    expect(colleague_page.get_by_role("link", name="New survey")).to_have_count(0)
    expect(colleague_page.get_by_role("link", name="Team")).to_have_count(0)
    row.get_by_role("link", name=survey.title["en"]).click()
    expect(colleague_page.get_by_role("heading", name=survey.title["en"])).to_be_visible()
    assert "/edit/" not in colleague_page.content()

    # and the owner's Team page shows them on the team, the invitation no longer waiting
    page.reload()
    expect(
        page.get_by_role("row").filter(has_text=COLLEAGUE).get_by_role("combobox")
    ).to_have_value(Role.ANALYST)
    expect(page.get_by_text("No invitations waiting.")).to_be_visible()
