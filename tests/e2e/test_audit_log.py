"""An owner changes a colleague's role and finds the change in the audit log, in English and in
Hebrew (right to left); the audit page passes axe-core's WCAG 2.2 AA rules in both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from communities.models import AuditEntry
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROWSER_LOCALE = {"en": "en-GB", "he": "he-IL"}


def said(text: str, language: str) -> str:
    """What the page says for this English text in the page's language."""
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture(params=["en", "he"])
def language(request) -> str:
    return request.param


@pytest.fixture
def owner(organisation):
    return StaffRoleFactory(
        organisation=organisation,
        role=Role.OWNER,
        user=UserFactory(email="owner@example.com", name="Olive Owner"),
    ).user


@pytest.fixture
def owner_page(browser: Browser, live_server, owner, language) -> Iterator[Page]:
    """The owner's desktop browser, asking for pages in `language`, signed in."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=live_server.url,
        locale=BROWSER_LOCALE[language],
    )
    context.set_default_timeout(10_000)
    sign_in_as(context, owner, live_server)
    yield context.new_page()
    context.close()


def test_an_owner_changes_a_role_and_finds_it_in_the_audit_log(
    owner_page: Page, organisation, owner, language
):
    page, t = owner_page, (lambda text: said(text, language))
    # given: an analyst on the team
    analyst = StaffRoleFactory(
        organisation=organisation,
        role=Role.ANALYST,
        user=UserFactory(email="ann@example.com", name="Ann Analyst"),
    )
    page.goto(f"/staff/{organisation.slug}/team/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "he" else "ltr")

    # when: the owner makes the analyst an admin
    row = page.get_by_role("row").filter(has_text="ann@example.com")
    row.get_by_role("combobox").select_option(value=Role.ADMIN)
    row.get_by_role("button", name=t("Change")).click()
    expect(page.locator(".alert-success")).to_be_visible()

    # and opens the audit log from the navigation
    page.get_by_role("link", name=t("Audit log"), exact=True).click()

    # then: the change is the newest row: when, who, what, whose role, from what to what
    expect(page.get_by_role("heading", name=t("Audit log"), exact=True)).to_be_visible()
    newest = page.get_by_role("row").nth(1)
    expect(newest).to_contain_text(t("Staff role changed"))
    expect(newest).to_contain_text("Olive Owner")
    expect(newest).to_contain_text("ann@example.com")
    with translation.override(language):
        before, after = str(Role.ANALYST.label), str(Role.ADMIN.label)
    expect(newest).to_contain_text(before)
    expect(newest).to_contain_text(after)
    arrow = "←" if language == "he" else "→"
    expect(newest).to_contain_text(f"{before} {arrow}")
    assert AuditEntry.objects.get(action="staff.role_change").target_id == str(analyst.pk)
    assert_accessible(page)

    # when: they narrow the log to role changes
    page.get_by_label(t("Action")).select_option(value="staff.role_change")
    page.get_by_role("button", name=t("Filter"), exact=True).click()

    # then: only that row is left, and the page is still accessible
    expect(page.get_by_role("row")).to_have_count(2)
    assert_accessible(page)
