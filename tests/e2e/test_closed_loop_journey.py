"""The closed loop, end to end, through the pages people use (issue 15).

An owner builds a follow-up rule (CSAT ≤ 2 at the Siam store → a case for the store's
team, taken in turn, and an email to the respondent in their language), tests it on past
answers and saves it. A Thai member gives Siam an unhappy face on the survey page, in
Thai, agreeing to be contacted; the case lands in the inbox with one of the team (the
next detractor's with the other), and the Thai email reaches the SMTP sink with a
per-case Reply-To. The customer's reply, delivered to that address in a real Dovecot, is
read by the inbound poll and shows on the case. The agent resolves the case with a root
cause and asks "Did we fix it?"; the customer's low answer reopens it.

The survey page stores the member's home store with the answer, so the Siam rule matches
it. The journey runs twice (tests/e2e/journey_back_office.py): tasks in-process with
`inbound_poll` run as cron would, and through a real Celery worker over Redis
(PostgreSQL leg only).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Browser, BrowserContext, Page, expect

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from feedback.choices import CaseStatus
from feedback.inbound.addresses import reply_token_read
from feedback.models import Case, FollowUpRule
from surveys.choices import QuestionType
from surveys.services import question_add, response_submit
from tests.e2e.conftest import PHONE, Inbox, assert_accessible, sign_in_as, text_of
from tests.e2e.journey_back_office import REPLY_DOMAIN, BackOffice, back_office, journey_worker
from tests.e2e.survey_page import choose, send, shown
from tests.factories.communities import (
    ConsentRecordFactory,
    LocationFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import TeamFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.factories.inbound import reply_message
from tests.factories.surveys import SurveyFactory
from tests.feedback.inbound_server import dovecot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

__all__ = ["back_office", "dovecot", "journey_worker"]  # fixtures this module uses

DESKTOP = {"width": 1280, "height": 900}
HAPPY = {"en": "How happy are you with your visit?", "th": "คุณพอใจกับการมาเยือนแค่ไหน"}
THAI_SUBJECT = "ขออภัยค่ะ คุณ{{ name }}"
THAI_TEXT = "สาขา {{ location_name }} จะติดต่อกลับค่ะ"
THAI_REPLY = "ยังไม่ได้รับเงินคืนเลยค่ะ"
REPLY_TO = re.compile(rf"^reply\+([0-9a-z.]+)@{re.escape(REPLY_DOMAIN)}$")
CONSENT = (
    "You may email me about this answer. Ticking this lets %(org)s "
    "contact me to follow up; leave it unticked and nobody will."
)
RECOVERY_LINK = re.compile(r"https?://[^\s<>\"]+/recovery/[^\s<>\"]+/")


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


@pytest.fixture
def open_browser(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Opens a browser of a person's own, signed in as `user` if given; every one is
    closed when the test ends, however it ends, so none keeps the live server (and its
    database connections) busy."""
    contexts: list[BrowserContext] = []

    def open_(*, user=None, locale: str = "en-GB", viewport: dict = DESKTOP) -> Page:
        context = browser.new_context(viewport=viewport, base_url=live_server.url, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if user is not None:
            sign_in_as(context, user, live_server)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _wait_for_email(inbox: Inbox, address: str, found, timeout: float) -> Message:
    """The first email to `address` for which `found(message)` holds, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in inbox.to(address):
            if found(message):
                return message
        time.sleep(0.1)
    raise AssertionError(f"no such email to {address} in {timeout}s: {inbox.to(address)}")


@pytest.fixture
def shop(organisation, community):
    """Siam and its team of two agents, a survey with a CSAT question, two past answers
    there (one unhappy), the organisation's root causes, and two customers of Siam who
    may be contacted: a Thai one and an English one."""
    owner = UserFactory(email="owner@example.com", name="Olive Owner")
    StaffRoleFactory(user=owner, organisation=organisation, role=Role.OWNER)
    agents = []
    for name in ("Anong", "Boon"):
        user = UserFactory(name=name, email=f"{name.lower()}@example.com")
        StaffRoleFactory(user=user, organisation=organisation, role=Role.AGENT)
        agents.append(user)
    siam = LocationFactory(organisation=organisation, name="Siam")
    team = TeamFactory(organisation=organisation, name="Siam team")
    team.members.add(*agents)
    survey = SurveyFactory(organisation=organisation, community=community)
    csat = question_add(survey=survey, type=QuestionType.CSAT, text=HAPPY)
    for face in (1, 5):
        response_submit(
            survey=survey,
            raw_answers={f"q_{csat.pk}": face},
            idempotency_key=f"past-{face}",
            location=siam,
        )
    RootCauseFactory(organisation=organisation, name="Refund delayed")
    customers = {}
    for key, name, locale in (("thai", "สมชาย", "th"), ("english", "Ben", "en")):
        user = UserFactory(email=f"{key}@example.com", name=name)
        member = MemberFactory(
            community=community, user=user, email=user.email, name=name, locale=locale
        )
        # Siam is their store (the member's home location).
        member.location = siam
        member.save(update_fields=["location"])
        ConsentRecordFactory(member=member, policy_version=community.policy_version)
        customers[key] = user
    return {
        "owner": owner,
        "agents": agents,
        "siam": siam,
        "team": team,
        "survey": survey,
        "customers": customers,
    }


def _build_the_rule(page: Page, slug: str) -> None:
    """Step 1: the owner builds, tests and saves the Siam rule in the rules editor."""
    page.goto(f"/staff/{slug}/rules/")
    expect(page.get_by_role("heading", name="Follow-up rules")).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Siam unhappy CSAT")
    page.get_by_label("Stores").select_option(label="Siam")
    page.locator("[name=c1_kind]").select_option("score")
    page.locator("[name=c1_score]").select_option("csat")
    page.locator("[name=c1_max]").fill("2")
    page.get_by_label("Team").select_option(label="Siam team")
    page.get_by_label("Assign to").select_option("round_robin")
    page.get_by_label("Email the respondent").check()
    page.get_by_label("Subject (Thai)").fill(THAI_SUBJECT)
    page.get_by_label("Text (Thai)").fill(THAI_TEXT)
    assert_accessible(page)

    page.get_by_role("button", name="Test this rule on the last 200 responses").click()
    expect(page.get_by_text("The rule matches 1 of the last 2 responses.")).to_be_visible()
    expect(page.locator("#test-results tbody tr")).to_have_count(1)
    expect(page.locator("#test-results tbody tr")).to_contain_text("Siam team")
    assert_accessible(page)

    page.get_by_role("button", name="Add the rule").click()
    expect(page.get_by_text("Rule “Siam unhappy CSAT” added.")).to_be_visible()


def _answer_unhappily(open_browser, survey, user, *, language: str, face: str) -> None:
    """Step 2: a signed-in member answers on the survey page in `language`, agreeing to
    be contacted about the answer."""
    page = open_browser(user=user, locale=language, viewport=PHONE)
    page.goto(f"/s/{survey.public_id}/?lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    choose(page, HAPPY[language], shown(language, face))
    consent = page.get_by_label(_in(language, CONSENT) % {"org": survey.organisation.name})
    consent.check()
    expect(consent).to_be_checked()
    send(page, language)
    expect(page).to_have_url(re.compile(r"/thanks/"))
    page.context.close()


def test_a_thai_detractor_is_followed_up_heard_and_recovered_through_the_pages(
    open_browser,
    live_server,
    inbox: Inbox,
    back_office: BackOffice,
    dovecot,
    organisation,
    shop,
):
    def answer_on_the_survey_page() -> None:
        survey = shop["survey"]
        customers = shop["customers"]
        _answer_unhappily(
            open_browser, survey, customers["thai"], language="th", face="Very unsatisfied"
        )
        _answer_unhappily(
            open_browser, survey, customers["english"], language="en", face="Unsatisfied"
        )

    _journey(
        open_browser,
        live_server,
        inbox,
        back_office,
        dovecot,
        organisation,
        shop,
        answer=answer_on_the_survey_page,
    )


def _journey(
    open_browser,
    live_server,
    inbox: Inbox,
    back_office: BackOffice,
    dovecot,
    organisation,
    shop: dict,
    *,
    answer: Callable[[], None],
) -> None:
    """Steps 1 and 3 to 6 through the pages; step 2 (the detractors' answers) is `answer`."""
    slug = organisation.slug
    thai, english = shop["customers"]["thai"], shop["customers"]["english"]

    # given: the owner at their desk builds the rule, tests it on past answers, saves it
    owner_page = open_browser(user=shop["owner"])
    _build_the_rule(owner_page, slug)

    # when: the Thai customer, then another, give Siam an unhappy face
    answer()

    # then: both cases are in the inbox, the Siam team's, one with each agent in turn
    thai_case = Case.objects.get(response__member__email=thai.email)
    english_case = Case.objects.get(response__member__email=english.email)
    owner_page.goto(f"/staff/{slug}/cases/")
    table = owner_page.locator("#case-table")
    names = {}
    for case in (thai_case, english_case):
        row = table.get_by_role("row").filter(
            has=owner_page.get_by_role("link", name=f"#{case.pk}", exact=True)
        )
        expect(row).to_contain_text("Siam team")
        names[case.pk] = next(a for a in shop["agents"] if a.name in row.inner_text())
    assert set(names.values()) == set(shop["agents"])
    agent = names[thai_case.pk]

    # and: the Thai email reaches the customer, with a reply address for their case
    email = _wait_for_email(
        inbox, thai.email, lambda m: "ขออภัย" in _subject(m), back_office.email_timeout
    )
    assert _subject(email) == "ขออภัยค่ะ คุณสมชาย"
    assert "สาขา Siam จะติดต่อกลับค่ะ" in text_of(email)
    reply_address = parseaddr(email["Reply-To"])[1]
    reply_to = REPLY_TO.match(reply_address)
    assert reply_to, email["Reply-To"]
    assert reply_token_read(reply_to.group(1)) == (thai_case.pk, organisation.pk)

    # when: the customer answers it from their mail client, and the mailbox is read
    dovecot.deliver(
        reply_message(
            to=reply_address,
            sender=thai.email,
            body=THAI_REPLY,
            quoted="สาขา Siam จะติดต่อกลับค่ะ",
        )
    )
    back_office.poll()

    # then: the agent is told by email, and sees the reply, without the quoted email, on
    # the case's timeline
    _wait_for_email(
        inbox, agent.email, lambda m: f"#{thai_case.pk}" in _subject(m), back_office.email_timeout
    )
    agent_page = open_browser(user=agent)
    agent_page.goto(f"/staff/{slug}/cases/{thai_case.pk}/")
    reply = agent_page.locator("#case-timeline [data-kind=reply_received]")
    expect(reply).to_contain_text(THAI_REPLY)
    expect(reply).not_to_contain_text("จะติดต่อกลับ")
    assert_accessible(agent_page)

    # when: they resolve it with a root cause, asking "Did we fix it?"
    agent_page.get_by_label("Move the case to").select_option(value=CaseStatus.RESOLVED)
    agent_page.get_by_label("Root cause").select_option(label="Refund delayed")
    agent_page.get_by_label("Resolution").fill("Refund sent again by bank transfer.")
    agent_page.get_by_label("Ask the customer “Did we fix it?”").check()
    agent_page.get_by_role("button", name="Change status").click()
    expect(agent_page.locator(".alert-success")).to_have_text(
        "Case resolved; the customer is asked whether it is fixed."
    )
    expect(agent_page.locator("#case-root-cause")).to_have_text("Refund delayed")

    # then: the question reaches the customer, in Thai
    recovery = _wait_for_email(
        inbox,
        thai.email,
        lambda m: RECOVERY_LINK.search(text_of(m)) is not None,
        back_office.email_timeout,
    )
    link = RECOVERY_LINK.search(text_of(recovery)).group(0)
    sent = OutboundEmail.objects.get(template="case_recovery", to_email=thai.email)
    assert sent.language == "th"

    # when: they open its link (no sign-in) and answer low
    answer_page = open_browser(locale="th", viewport=PHONE)
    answer_page.goto(link.removeprefix(live_server.url))
    expect(answer_page.locator("html")).to_have_attribute("lang", "th")
    answer_page.get_by_label(_in("th", "1 – Not at all")).check()
    answer_page.get_by_role("button", name=_in("th", "Send")).click()
    expect(answer_page.get_by_role("status")).to_have_text(_in("th", "Thank you for your answer."))

    # then: the agent finds the case open again, and why, on its page
    agent_page.reload()
    expect(agent_page.locator("#case-status")).to_have_text("Open")
    expect(agent_page.locator("#case-timeline [data-kind=recovery_answered]")).to_have_count(1)
    assert Case.objects.get(pk=thai_case.pk).status == CaseStatus.OPEN
    assert_accessible(agent_page)

    # and: the rule editor and the case page pass axe in Hebrew, right to left
    shop["owner"].locale = "he"
    shop["owner"].save(update_fields=["locale"])
    rule = FollowUpRule.objects.get(organisation=organisation, name="Siam unhappy CSAT")
    he_page = open_browser(user=shop["owner"], locale="he")
    for path in (f"rules/{rule.pk}/", f"cases/{thai_case.pk}/"):
        he_page.goto(f"/staff/{slug}/{path}")
        expect(he_page.locator("html")).to_have_attribute("dir", "rtl")
        assert_accessible(he_page)
