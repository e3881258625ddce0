"""A staff member chooses their notifications, and an owner sets a store alert and the
weekly report, in the browser; every page passes axe-core in English and Hebrew (RTL)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from communities.choices import Role
from insights.models import NotificationPreference, ReportSchedule, ThresholdAlert
from tests.e2e.conftest import axe_violations, sign_in_as
from tests.factories.communities import (
    LocationFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 900}


def staff(organisation, role, **fields):
    user = UserFactory(**fields)
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    return user


def choose_language_in_the_navigation(page: Page, name: str) -> None:
    page.locator("#language-switcher").click()
    page.get_by_role("button", name=name, exact=True).click()


def assert_no_axe_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, "\n".join(
        f"{page.url} {v['id']}: {v['help']} {v['nodes'][:3]}" for v in violations
    )


def test_an_agent_chooses_a_weekly_digest_in_the_browser(page: Page, context, live_server):
    # given an agent of Demo Coffee, signed in
    organisation = OrganisationFactory(name="Demo Coffee")
    agent = staff(organisation, Role.AGENT, name="Ann Agent")
    sign_in_as(context, agent, live_server)
    # when they open Notifications from the staff navigation
    page.goto(reverse("staff_home"))
    page.goto(reverse("staff:case_list", args=[organisation.slug]))
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    assert_no_axe_violations(page)
    # and ask for a weekly digest, and no email about overdue cases
    page.get_by_label("Weekly (on Mondays)").check()
    page.get_by_label("a case of mine is overdue").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    # then the page says so, and the choice is theirs alone
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    pref = NotificationPreference.objects.get(user=agent)
    assert (pref.digest, pref.case_overdue, pref.case_assigned) == ("weekly", False, True)
    # and an agent sees no store-alert or report settings
    expect(page.get_by_role("link", name="Store alerts")).to_have_count(0)


@pytest.mark.parametrize(
    ("language", "direction", "switch_to"),
    [("en", "ltr", "English"), ("he", "rtl", "עברית")],
)
def test_an_owner_sets_a_store_alert_and_the_report_accessibly(
    page: Page, context, live_server, language, direction, switch_to
):
    # given an owner of an organisation with a store and an analyst
    organisation = OrganisationFactory(name="Demo Coffee")
    owner = staff(organisation, Role.OWNER, name="Olivia Owner")
    analyst = staff(organisation, Role.ANALYST, name="Arun Analyst")
    store = LocationFactory(organisation=organisation, name="Siam")
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(reverse("staff_home"))
    choose_language_in_the_navigation(page, switch_to)
    # when the owner opens their preferences, the store alerts and the weekly report
    for name in ("notification_preferences", "notification_alert_list", "notification_report"):
        page.goto(reverse(f"staff:{name}", args=[organisation.slug]))
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        assert_no_axe_violations(page)
    # and sends the alert form with a threshold of zero
    page.goto(reverse("staff:notification_alert_list", args=[organisation.slug]))
    page.locator("#id_location").select_option(str(store.pk))
    page.locator("#id_threshold").fill("0")
    page.locator(f"input[name=recipients][value='{analyst.pk}']").check()
    page.locator("form button.btn-primary").click()
    # then it is refused on the page, accessibly, and nothing is saved
    expect(page.locator(".alert-danger")).to_be_visible()
    assert_no_axe_violations(page)
    assert not ThresholdAlert.objects.exists()
    # when they correct it
    page.locator("#id_threshold").fill("4")
    page.locator(f"input[name=recipients][value='{analyst.pk}']").check()
    page.locator("form button.btn-primary").click()
    # then the alert is listed
    expect(page.get_by_role("cell", name="Siam", exact=True)).to_be_visible()
    alert = ThresholdAlert.objects.get()
    assert (alert.location, alert.threshold) == (store, 4)
    assert_no_axe_violations(page)
    # and the weekly report goes to the analyst on Fridays at 09:00
    page.goto(reverse("staff:notification_report", args=[organisation.slug]))
    page.locator("#id_active").check()
    page.locator("#id_weekday").select_option("4")
    page.locator("#id_hour").select_option("9")
    page.locator(f"input[name=recipients][value='{analyst.pk}']").check()
    page.locator("form button.btn-primary").click()
    expect(page.locator(".alert-success, .alert-info").first).to_be_visible()
    schedule = ReportSchedule.objects.get()
    assert (schedule.weekday, schedule.hour) == (4, 9)
    assert list(schedule.recipients.all()) == [analyst]
