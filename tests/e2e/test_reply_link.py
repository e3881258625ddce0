"""A customer answers their case from the reply link in our email, in a browser of their
own, without signing in; the reply lands on the case and the case opens again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_link
from feedback.models import CaseEvent
from tests.e2e.conftest import assert_accessible
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _path(case) -> str:
    from django.conf import settings

    return reply_link(case=case).removeprefix(settings.SITE_URL)


def test_customer_writes_a_reply_from_the_link_and_the_case_opens(page: Page):
    # given: a case waiting on the customer
    case = CaseFactory(status=CaseStatus.WAITING)
    # when: they open the link from the email and write back
    page.goto(_path(case))
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.organisation.name)
    assert_accessible(page)
    page.get_by_role("button", name="Send reply").click()
    # an empty reply is refused, with the reason next to the field
    expect(page.get_by_label("Your reply")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Write your reply first.")).to_be_visible()
    page.get_by_label("Your reply").fill("The refund has not arrived yet.")
    page.get_by_role("button", name="Send reply").click()
    # then
    expect(page.get_by_role("status")).to_contain_text("Your reply has been sent")
    assert_accessible(page)
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.REPLY_RECEIVED)
    assert event.data["body"] == "The refund has not arrived yet."
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("th", "ltr"), ("ja", "ltr")])
def test_reply_page_speaks_the_customers_language(page: Page, language: str, direction: str):
    case = CaseFactory(response=ResponseFactory(language=language))
    page.goto(_path(case))
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", direction)
    assert_accessible(page)


def test_a_link_cut_short_is_refused(page: Page):
    case = CaseFactory(status=CaseStatus.WAITING)
    response = page.goto(_path(case)[:-6] + "/")
    assert response is not None and response.status == 400
    expect(page.get_by_role("status")).to_contain_text("not valid or has expired")
    assert_accessible(page)
