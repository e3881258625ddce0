"""A support lead works the inbox: narrows it to the store team's overdue cases, assigns
them in bulk to an agent, and the agent resolves one with a root cause; the pages pass
axe-core in English and in Hebrew (right to left)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from feedback.choices import CaseStatus
from feedback.models import Case
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(organisation):
    lead = StaffRoleFactory(
        organisation=organisation,
        role=Role.ADMIN,
        user=UserFactory(email="lead@example.com", name="Lek Lead"),
    ).user
    agent = StaffRoleFactory(
        organisation=organisation,
        role=Role.AGENT,
        user=UserFactory(email="agent@example.com", name="Ann Agent"),
    ).user
    return lead, agent


def _page(browser: Browser, live_server, user, locale="en-GB") -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale=locale
    )
    context.set_default_timeout(10_000)
    sign_in_as(context, user, live_server)
    return context.new_page()


@pytest.fixture
def cases(organisation, people):
    lead, _agent = people
    store = TeamFactory(organisation=organisation, name="Siam store", lead=lead)
    past = timezone.now() - dt.timedelta(hours=3)
    overdue = [
        CaseFactory(response__survey__organisation=organisation, team=store, due_at=past)
        for _ in range(2)
    ]
    in_time = CaseFactory(
        response__survey__organisation=organisation,
        team=store,
        due_at=timezone.now() + dt.timedelta(days=1),
        first_response_due_at=timezone.now() + dt.timedelta(hours=2),
    )
    elsewhere = CaseFactory(response__survey__organisation=organisation, due_at=past)
    RootCauseFactory(organisation=organisation, name="Slow service")
    return store, overdue, in_time, elsewhere


def test_a_lead_assigns_the_team_s_overdue_cases_and_an_agent_resolves_one(
    browser: Browser, live_server, organisation, people, cases
) -> None:
    lead, agent = people
    store, overdue, in_time, elsewhere = cases
    page = _page(browser, live_server, lead)

    # when: the lead narrows the inbox to the store team's overdue cases
    page.goto(f"/staff/{organisation.slug}/cases/")
    filters = page.get_by_role("form", name="Filter cases")
    filters.get_by_label("Team").select_option(label="Siam store")
    filters.get_by_label("Overdue only").check()
    filters.get_by_role("button", name="Filter").click()

    # then: only those two are listed
    expect(page).to_have_url(re.compile(rf"[?&]team={store.pk}(&|$)"))
    table = page.locator("#case-table")
    for case in overdue:
        expect(table.get_by_role("link", name=f"#{case.pk}", exact=True)).to_be_visible()
    for case in (in_time, elsewhere):
        expect(table.get_by_role("link", name=f"#{case.pk}", exact=True)).to_have_count(0)
    assert_accessible(page)

    # when: they tick both and give them to Ann
    for case in overdue:
        page.get_by_label(f"Select case #{case.pk}").check()
    page.locator("#bulk-action").select_option(value="assign")
    page.locator("#bulk-assignee").select_option(label="Ann Agent")
    page.get_by_role("button", name="Apply to ticked cases").click()

    # then
    expect(page.locator(".alert-success")).to_contain_text("2 cases assigned to Ann Agent.")
    assert {Case.objects.get(pk=c.pk).assignee_id for c in overdue} == {agent.pk}
    page.context.close()

    # when: Ann resolves one, naming the root cause
    page = _page(browser, live_server, agent)
    page.goto(f"/staff/{organisation.slug}/cases/{overdue[0].pk}/")
    page.get_by_label("Move the case to").select_option(value=CaseStatus.RESOLVED)
    page.get_by_label("Root cause").select_option(label="Slow service")
    page.get_by_label("Resolution").fill("Apologised and refunded.")
    page.get_by_role("button", name="Change status").click()

    # then: resolved under that cause, said on the page and in the timeline
    expect(page.locator(".alert-success")).to_have_text("Case resolved.")
    expect(page.locator("#case-root-cause")).to_have_text("Slow service")
    expect(page.locator("#case-timeline [data-kind=status_changed]")).to_contain_text(
        "root cause: Slow service"
    )
    resolved = Case.objects.get(pk=overdue[0].pk)
    assert resolved.status == CaseStatus.RESOLVED and resolved.root_cause.name == "Slow service"
    assert_accessible(page)
    page.context.close()


@pytest.mark.parametrize(
    ("locale", "language", "direction"), [("en-GB", "en", "ltr"), ("he", "he", "rtl")]
)
def test_the_case_pages_pass_axe_in_english_and_hebrew(
    browser: Browser, live_server, organisation, people, cases, locale, language, direction
) -> None:
    lead, _agent = people
    store, overdue, _in_time, _elsewhere = cases
    lead.locale = language
    lead.save(update_fields=["locale"])
    page = _page(browser, live_server, lead, locale=locale)
    slug = organisation.slug

    for path in (
        f"/staff/{slug}/cases/?status=active",
        f"/staff/{slug}/cases/{overdue[0].pk}/",
        f"/staff/{slug}/settings/teams/",
        f"/staff/{slug}/settings/teams/{store.pk}/",
        f"/staff/{slug}/settings/root-causes/",
        f"/staff/{slug}/settings/service-levels/",
    ):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        assert_accessible(page)
    page.context.close()
