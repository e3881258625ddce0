"""Every kind of page works in Chromium under Chorus's Content-Security-Policy and
Permissions-Policy, and the browser reports nothing blocked (issue 12).

The browser is told to report each `securitypolicyviolation` event (a script, style,
image, font, connection, form or worker the policy refused) back to the test, and every
console message about the Content Security Policy or the Permissions Policy is kept as
well; any of either fails the test, naming the page. People then do what they do on the
page — answer and send, vote, tap a kiosk, move a question — so scripts that only run on
a click are held to the policy too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from communities.choices import Role
from surveys.choices import QuestionType, SurveyKind
from surveys.services import kiosk_register, question_add, survey_create, survey_publish
from tests.e2e.conftest import sign_in_as
from tests.e2e.survey_page import answer_every_question, send, shown
from tests.e2e.test_staff_accessibility import (
    DESKTOP,
    EXPECTED_STATUS,
    build_organisation,
    staff_routes,
    urls_for,
)
from tests.factories.communities import LocationFactory, StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts, so nothing the page does goes unseen.
LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const seen = {
    page: location.pathname, directive: e.effectiveDirective, blocked: e.blockedURI,
    source: e.sourceFile, line: e.lineNumber, sample: e.sample,
  };
  window.__csp.push(seen);
  if (window.__cspReport) window.__cspReport(seen);
});
"""
ABOUT_POLICY = re.compile(r"Content.Security.Policy|Permissions.Policy", re.I)


@dataclass
class PolicyWatch:
    """What the browser refused (or complained about) on any page of one profile."""

    found: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.expose_binding("__cspReport", self._report)
        context.add_init_script(LISTENER)
        context.on("console", self._console)

    def _report(self, _source, seen: dict) -> None:
        self.found.append(
            f"{seen['page']}: {seen['directive']} refused {seen['blocked'] or 'inline'}"
            f" ({seen['source']}:{seen['line']} {seen['sample']!r})"
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and ABOUT_POLICY.search(message.text):
            self.found.append(
                f"console {message.type} on {message.page and message.page.url}: {message.text}"
            )

    def assert_nothing_refused(self, page: Page) -> None:
        # One round trip to the page first, so reports still on their way have arrived.
        page.evaluate("window.__csp.length")
        assert not self.found, "the browser refused:\n" + "\n".join(self.found)


@pytest.fixture
def watch(context: BrowserContext) -> PolicyWatch:
    watch = PolicyWatch()
    watch.attach(context)
    return watch


def visit(page: Page, url: str, status: int = 200) -> None:
    """Open `url` and check the policies came with it (so the page was held to them)."""
    response = page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response.status}"
    headers = response.headers
    assert "default-src 'self'" in headers.get("content-security-policy", ""), url
    assert "camera=()" in headers.get("permissions-policy", ""), url


@pytest.fixture
def poll(organisation, community):
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}],
    )
    return survey_publish(survey=poll)


# --- the listener itself --------------------------------------------------------------------


def test_the_listener_reports_what_the_policy_refuses(page: Page, watch: PolicyWatch):
    # given the start page
    visit(page, "/")
    # when something on it tries what the policy forbids: another host's image, an
    # inline style attribute
    page.evaluate(
        """document.body.insertAdjacentHTML('beforeend',
            '<img alt="" src="https://tracker.invalid/pixel.png"><p style="color: red">x</p>')"""
    )
    # then the test hears of both
    page.wait_for_function("window.__csp.length >= 2")
    page.evaluate("window.__csp.length")
    assert any("img-src refused https://tracker.invalid" in f for f in watch.found), watch.found
    assert any("style-src-attr" in f for f in watch.found), watch.found


# --- respondents, members, visitors -----------------------------------------------------------


def test_public_and_account_pages_run_under_the_policy(page: Page, watch: PolicyWatch, member):
    # the start page, signing in with a password or a code, and a page that is not there
    visit(page, "/")
    visit(page, reverse("account_login"))
    visit(page, reverse("account_request_login_code"))
    page.get_by_label("Email").fill(member.email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    visit(page, reverse("account_signup"))
    visit(page, reverse("account_reset_password"))
    visit(page, "/no-such-page/", status=404)
    watch.assert_nothing_refused(page)


def test_a_survey_answered_thanked_and_refused_a_second_time_runs_under_the_policy(
    page: Page, watch: PolicyWatch, survey
):
    # given the survey's public link
    respond = reverse("surveys:survey_respond", args=[survey.public_id])
    visit(page, respond)
    # when a visitor answers every question (show-if rules and progress run) and sends
    answer_every_question(page, survey, nps=3, stars=2)
    send(page)
    # then the thank-you page
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    # and coming back shows the already-answered page
    visit(page, respond, status=409)
    expect(page.get_by_text(shown("en", "You have already answered this survey."))).to_be_visible()
    # and the same in Hebrew, right to left
    visit(page, respond + "?lang=he", status=409)
    watch.assert_nothing_refused(page)


def test_the_community_poll_and_member_portal_run_under_the_policy(
    page: Page, context, live_server, watch: PolicyWatch, community, member, member_user, poll
):
    home = reverse("surveys:community_home", args=[community.organisation.slug, community.slug])
    # a visitor: the community page (brand colour), its join form, a poll vote and results
    visit(page, home)
    visit(page, reverse("community:join", args=[community.organisation.slug, community.slug]))
    visit(page, home)
    page.get_by_role("button", name="Yes please").click()
    expect(page.get_by_text("1 vote so far.")).to_be_visible()
    visit(page, reverse("surveys:survey_respond", args=[poll.public_id]))
    # a member, signed in: the portal and each of its tabs
    sign_in_as(context, member_user, live_server)
    visit(page, home)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    for name in ("profile", "consent", "my_data"):
        visit(
            page, reverse(f"community:{name}", args=[community.organisation.slug, community.slug])
        )
    watch.assert_nothing_refused(page)


def test_a_kiosk_registers_its_service_worker_and_takes_an_answer_under_the_policy(
    page: Page, watch: PolicyWatch, organisation, survey
):
    # given a tablet registered as a kiosk
    kiosk = kiosk_register(
        survey=survey, location=LocationFactory(organisation=organisation, code="silom")
    )
    url = reverse("surveys:kiosk", args=[kiosk.device_token])
    visit(page, url)
    # when its service worker registers and takes over the page
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        visit(page, url)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    # and a customer answers and sends
    answer_every_question(page, survey, nps=10)
    send(page)
    # then they are thanked, and nothing was refused on the page
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    watch.assert_nothing_refused(page)


# --- staff ------------------------------------------------------------------------------------


def test_every_staff_page_runs_under_the_policy(page: Page, context, live_server, watch):
    # given an owner of an organisation with one of every object, on a desktop screen
    built = build_organisation()
    sign_in_as(context, built.owner, live_server)
    page.set_viewport_size(DESKTOP)
    urls = [
        (route.name, url)
        for route in staff_routes()
        if route.answers_get
        for url in urls_for(route, built)
    ]
    assert len(urls) >= 40
    # when they open every staff page
    for name, url in urls:
        answer = page.request.get(url)
        assert answer.status == EXPECTED_STATUS.get(name, 200), f"{url} answered {answer.status}"
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # a download or JSON for a page's script, not a page
        visit(page, url, status=answer.status)
    # and use the builder: move a question with the keyboard buttons, switch a question's
    # type, and press "Send" in the preview
    survey = built.by_collection["surveys"][1]  # the draft
    slug = built.organisation.slug
    visit(page, reverse("staff:survey_edit", args=[slug, survey.pk]))
    page.get_by_role("button", name="Move question 2 up").click()
    expect(page.get_by_role("status").filter(has_text="moved up")).to_be_visible()
    visit(page, reverse("staff:question_add", args=[slug, survey.pk]))
    page.locator(".question-builder select[name=type]").select_option(QuestionType.SINGLE_CHOICE)
    expect(page.get_by_role("group", name="Answers to choose from")).to_be_visible()
    visit(page, reverse("staff:survey_preview", args=[slug, survey.pk]))
    page.get_by_role("button", name="Send my answers").click()
    # then nothing was refused anywhere
    watch.assert_nothing_refused(page)


def test_the_django_admin_and_the_browsable_api_run_under_the_policy(
    page: Page, context, live_server, watch: PolicyWatch, organisation, survey
):
    # given a superuser who is also on the organisation's staff
    admin = UserFactory(is_staff=True, is_superuser=True)
    StaffRoleFactory(user=admin, organisation=organisation, role=Role.OWNER)
    sign_in_as(context, admin, live_server)
    page.set_viewport_size(DESKTOP)
    # when they open the admin's index, a list, a change form and an add form
    visit(page, "/admin/")
    visit(page, "/admin/surveys/survey/")
    visit(page, f"/admin/surveys/survey/{survey.pk}/change/")
    visit(page, "/admin/communities/organisation/add/")
    # and the API's pages in the browser
    visit(page, reverse("api:survey_list", args=[organisation.slug]))
    visit(page, reverse("api:survey_detail", args=[organisation.slug, survey.pk]))
    # then nothing was refused
    watch.assert_nothing_refused(page)
