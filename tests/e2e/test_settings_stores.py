"""An owner manages the organisation's settings and stores in a real browser, in English and
in Hebrew (right to left), and every page passes axe-core's WCAG 2.2 AA rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.utils import translation
from django.utils.text import capfirst
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from communities.models import AuditEntry, Location, Organisation
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROWSER_LOCALE = {"en": "en-GB", "he": "he-IL"}


def said(text: str, language: str) -> str:
    """What the page says for this English text in the page's language."""
    with translation.override(language):
        return translation.gettext(text)


def label(text: str, language: str) -> re.Pattern:
    """A field's label as the page shows it: the words, then a required-field asterisk."""
    return re.compile(rf"^\s*{re.escape(said(text, language))}\W*$")


@pytest.fixture
def owner(organisation):
    return StaffRoleFactory(
        organisation=organisation,
        role=Role.OWNER,
        user=UserFactory(email="owner@example.com", name="Olive Owner"),
    ).user


def desk(browser: Browser, live_server, user, language: str) -> Iterator[Page]:
    """The owner's desktop browser, asking for pages in `language`, signed in."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=live_server.url,
        locale=BROWSER_LOCALE[language],
    )
    context.set_default_timeout(10_000)
    sign_in_as(context, user, live_server)
    yield context.new_page()
    context.close()


@pytest.fixture(params=["en", "he"])
def language(request) -> str:
    return request.param


@pytest.fixture
def owner_page(browser: Browser, live_server, owner, language) -> Iterator[Page]:
    yield from desk(browser, live_server, owner, language)


def test_an_owner_changes_the_minimum_group_size_and_sees_it_in_the_change_log(
    owner_page: Page, organisation, language
):
    page, t = owner_page, (lambda text: said(text, language))
    # given: the owner starts from the surveys page
    page.goto(f"/staff/{organisation.slug}/surveys/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "he" else "ltr")

    # when: they open Settings from the navigation
    page.get_by_role("link", name=t("Settings"), exact=True).click()

    # then: the settings show the organisation's current values, and pass axe-core
    expect(page.get_by_role("heading", name=t("Settings"), exact=True)).to_be_visible()
    group_size = page.get_by_label(label("Minimum report group size", language))
    expect(group_size).to_have_value("5")
    expect(page.get_by_label(label("Time zone", language))).to_have_value("UTC")
    expect(page.get_by_text(t("No changes recorded yet."))).to_be_visible()
    assert_accessible(page)

    # when: they type a group size that is too small, and a sender name
    group_size.fill("1")
    page.get_by_label(label("Sender name", language)).fill("The Roastery")
    page.get_by_role("button", name=t("Save settings")).click()

    # then: nothing is saved, the error is next to the field, and what they typed is kept
    expect(page.get_by_role("alert")).to_contain_text(
        t("Nothing was saved. Correct the fields marked below and save again.")
    )
    expect(page.get_by_label(label("Sender name", language))).to_have_value("The Roastery")
    expect(group_size).to_have_value("1")
    assert_accessible(page)
    assert Organisation.objects.get(pk=organisation.pk).sender_name == ""

    # when: they correct it to 8 and choose Bangkok's time zone
    group_size.fill("8")
    page.get_by_label(label("Time zone", language)).select_option("Asia/Bangkok")
    page.get_by_role("button", name=t("Save settings")).click()

    # then: it is saved, and the change log says who changed which field from what to what
    expect(page.get_by_text(t("Settings saved."))).to_be_visible()
    row = page.get_by_role("row").filter(
        has_text=capfirst(said("minimum report group size", language))
    )
    expect(row).to_contain_text("Olive Owner")
    expect(row).to_contain_text(t("Settings changed"))
    expect(row.get_by_role("cell").nth(4)).to_have_text("5")
    expect(row.get_by_role("cell").nth(5)).to_have_text("8")
    # and its times are now given in Bangkok's time
    zone_note = said("Times are in the organisation's time zone, <bdi>%(zone)s</bdi>.", language)
    expect(
        page.get_by_text(re.sub(r"<[^>]+>", "", zone_note) % {"zone": "Asia/Bangkok"})
    ).to_be_visible()
    assert_accessible(page)
    organisation.refresh_from_db()
    assert (organisation.min_group_size, organisation.time_zone) == (8, "Asia/Bangkok")
    assert organisation.sender_name == "The Roastery"
    assert AuditEntry.objects.get().changes == {
        "min_group_size": [5, 8],
        "time_zone": ["UTC", "Asia/Bangkok"],
        "sender_name": ["", "The Roastery"],
    }


def test_an_owner_creates_a_store_assigns_a_manager_and_archives_it(
    owner_page: Page, organisation, language
):
    page, t = owner_page, (lambda text: said(text, language))
    # given: a colleague on the staff who will manage the store
    manager = StaffRoleFactory(
        organisation=organisation,
        role=Role.AGENT,
        user=UserFactory(email="mai@example.com", name="Mai Manager"),
    ).user
    page.goto(f"/staff/{organisation.slug}/surveys/")

    # when: they open Stores from the navigation
    page.get_by_role("link", name=t("Stores"), exact=True).click()

    # then: there are none yet
    expect(page.get_by_role("heading", name=t("Stores"), exact=True)).to_be_visible()
    expect(page.get_by_text(t("No stores yet."))).to_be_visible()
    assert_accessible(page)

    # when: they add one; the code is suggested from the name as they type
    page.get_by_role("link", name=t("New store")).click()
    expect(page.get_by_role("heading", name=t("New store"))).to_be_visible()
    assert_accessible(page)
    page.get_by_label(label("Name", language)).fill("Siam Paragon")
    expect(page.get_by_label(label("Code", language))).to_have_value("siam-paragon")
    page.get_by_label(label("Manager", language)).select_option(
        label="Mai Manager (mai@example.com)"
    )
    page.get_by_role("button", name=t("Create the store")).click()

    # then: the store's page says it was created, with its manager
    created = said("Store “%(name)s” created.", language) % {"name": "Siam Paragon"}
    expect(page.get_by_text(created)).to_be_visible()
    expect(page.get_by_role("heading", name="Siam Paragon")).to_be_visible()
    expect(page.get_by_label(label("Manager", language))).to_have_value(str(manager.pk))
    expect(page.get_by_role("row").filter(has_text=t("Store created")).first).to_be_visible()
    assert_accessible(page)
    store = Location.objects.get()
    assert (store.code, store.manager, store.organisation) == (
        "siam-paragon",
        manager,
        organisation,
    )

    # and its kiosks tab says it has none yet
    page.get_by_role("link", name=t("Kiosks"), exact=True).click()
    expect(page.get_by_text(t("This store has no kiosks."))).to_be_visible()
    assert_accessible(page)

    # when: they archive it
    page.get_by_role("link", name=t("Details"), exact=True).click()
    page.get_by_role("button", name=t("Archive"), exact=True).click()

    # then: it is listed apart, as archived
    expect(
        page.get_by_text(
            said("Store “%(name)s” is archived: no new kiosks can be registered for it.", language)
            % {"name": "Siam Paragon"}
        )
    ).to_be_visible()
    archived = page.get_by_role("table", name=t("Archived"))
    expect(archived).to_contain_text("Siam Paragon")
    expect(page.get_by_role("table", name=t("In use"))).not_to_contain_text("Siam Paragon")
    assert_accessible(page)
    store.refresh_from_db()
    assert store.archived_at is not None
    assert [e.action for e in AuditEntry.objects.all()] == ["location.archive", "location.create"]
