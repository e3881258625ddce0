"""A staff member sends a survey out from its Distribute page, in English and in Hebrew:
the page and the send's own page pass axe-core's WCAG 2.2 AA rules, the kiosk link is a
target big enough to tap, and web addresses read left to right inside Hebrew text."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from communities.choices import MemberStatus
from surveys.models import InvitationBatch
from surveys.services import invitation_batch_send, kiosk_register
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import LocationFactory, MemberFactory
from tests.factories.surveys import InvitationBatchFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
# The browser's language is how staff pages choose theirs (Accept-Language).
BROWSER_LOCALES = {"en": "en-GB", "he": "he-IL"}


@pytest.fixture
def staff_page(request, browser: Browser, live_server, staff_user) -> Page:
    language = request.param
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_server.url, locale=BROWSER_LOCALES[language]
    )
    context.set_default_timeout(10_000)
    sign_in_as(context, staff_user, live_server)
    yield context.new_page()
    context.close()


@pytest.fixture
def kiosk(survey, organisation):
    return kiosk_register(
        survey=survey,
        location=LocationFactory(organisation=organisation, name="Siam Square"),
        idle_reset_seconds=30,
    )


@pytest.mark.parametrize("staff_page", ["en", "he"], indirect=True)
def test_the_distribute_page_and_a_send_pass_axe_in_english_and_hebrew(
    staff_page: Page, live_server, organisation, survey, community, kiosk
):
    page = staff_page
    # given: a member who reads Hebrew, and one who unsubscribed
    MemberFactory(community=community, email="noa@example.com", locale="he")
    MemberFactory(community=community, email="gone@example.com", status=MemberStatus.UNSUBSCRIBED)
    # when: staff open the survey's Distribute page
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/distribute/")
    # then
    assert_accessible(page)
    public_url = f"{live_server.url}/s/{survey.public_id}/"
    # An address is read left to right even inside right-to-left text.
    public_link = page.get_by_role("link", name=public_url)
    expect(public_link).to_have_attribute("dir", "ltr")
    kiosk_link = page.locator(f"a[href$='/k/{kiosk.device_token}/']")
    box = kiosk_link.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # WCAG 2.5.8 target size
    # when: they paste a list: a member, an unsubscribed member, a stranger, a repeat and a typo
    lines = [
        "NOA@example.com",
        "gone@example.com",
        "guest@example.com, Guest",
        "noa@example.com",
        "not an address",
    ]
    page.locator("textarea[name=recipients]").fill("\n".join(lines))
    page.locator("form:has(textarea[name=recipients]) [type=submit]").click()
    # then: the send's page says how many went, how many were members, and who was skipped why
    expect(page.locator("#send-invited")).to_have_text("2")
    expect(page.locator("#send-matched")).to_have_text("1")
    expect(page.locator("#skip-unsubscribed")).to_have_text("1")
    expect(page.locator("#skip-duplicate")).to_have_text("1")
    expect(page.locator("#skip-invalid")).to_have_text("1")
    assert_accessible(page)
    batch = InvitationBatch.objects.get()
    assert sorted(m.to[0] for m in mail.outbox) == ["guest@example.com", "noa@example.com"]
    # when: they go back to the Distribute page
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/distribute/")
    # then: the earlier send is summed up there too
    expect(page.locator(f"#batch-{batch.pk}")).to_contain_text("2")
    assert_accessible(page)


@pytest.mark.parametrize("staff_page", ["en", "he"], indirect=True)
def test_a_running_send_updates_its_page_in_place_without_a_timed_reload(
    staff_page: Page, organisation, survey
):
    page = staff_page
    # given: a send the workers have not started yet
    batch = InvitationBatchFactory(survey=survey, recipients=[["guest@example.com", "Guest"]])
    page.goto(f"/staff/{organisation.slug}/batches/{batch.pk}/")
    # then: no timed refresh (WCAG 2.2.1), and nothing else axe-core objects to
    assert_accessible(page)
    expect(page.locator("#send-invited")).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")
    # when: the worker runs the send
    invitation_batch_send(batch_id=batch.pk)
    # then: the page shows it, without reloading
    expect(page.locator("#send-invited")).to_have_text("1", timeout=15_000)
    expect(page.locator("#batch-status")).to_have_class(re.compile("text-bg-success"))
    assert page.evaluate("window.stillTheSamePage") is True
    assert_accessible(page)
