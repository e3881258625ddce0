"""An agent works a case from the inbox: filters to their own cases, opens one, adds a
note, resolves it with a resolution, and sees both in the case's timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from feedback.choices import CaseStatus
from feedback.models import Case
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import RootCauseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent(organisation):
    return StaffRoleFactory(
        organisation=organisation,
        role=Role.AGENT,
        user=UserFactory(email="agent@example.com", name="Ann Agent"),
    ).user


@pytest.fixture
def agent_page(browser: Browser, live_server, agent) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    sign_in_as(context, agent, live_server)
    yield context.new_page()
    context.close()


def test_an_agent_filters_to_their_cases_and_resolves_one_with_a_note(
    agent_page: Page, organisation, agent
):
    page = agent_page
    # given: a case of the agent's and one nobody has taken
    mine = CaseFactory(response__survey__organisation=organisation, assignee=agent)
    others = CaseFactory(response__survey__organisation=organisation)

    # when: the agent narrows the inbox to their own cases
    page.goto(f"/staff/{organisation.slug}/cases/")
    filters = page.get_by_role("form", name="Filter cases")
    filters.get_by_label("Owner").select_option(value="me")
    filters.get_by_role("button", name="Filter").click()

    # then: only their case is listed, and the filter is in the address
    expect(page).to_have_url(re.compile(r"[?&]owner=me(&|$)"))
    table = page.locator("#case-table")
    expect(table.get_by_role("link", name=f"#{mine.pk}", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name=f"#{others.pk}", exact=True)).to_have_count(0)
    assert_accessible(page)

    # when: they open it and add a note
    table.get_by_role("link", name=f"#{mine.pk}", exact=True).click()
    page.get_by_label("Internal note").fill("Called the customer; a refund is on its way.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".alert-success")).to_have_text("Note added.")

    # and resolve it, saying how and why
    RootCauseFactory(organisation=organisation, name="Broken machine")
    page.reload()
    page.get_by_label("Move the case to").select_option(value=CaseStatus.RESOLVED)
    page.get_by_label("Root cause").select_option(label="Broken machine")
    page.get_by_label("Resolution").fill("Refunded the order.")
    page.get_by_role("button", name="Change status").click()

    # then: resolved, and the timeline has the note and the resolution
    expect(page.locator(".alert-success")).to_have_text("Case resolved.")
    expect(page.locator("#case-status")).to_have_text("Resolved")
    timeline = page.locator("#case-timeline")
    expect(timeline).to_contain_text("Called the customer; a refund is on its way.")
    # (the note had already moved the new case to open: a status event of its own)
    expect(timeline.locator("[data-kind=status_changed]")).to_have_count(2)
    expect(
        timeline.locator("[data-kind=status_changed]", has_text="Refunded the order.")
    ).to_have_count(1)
    assert Case.objects.get(pk=mine.pk).status == CaseStatus.RESOLVED
    assert_accessible(page)
