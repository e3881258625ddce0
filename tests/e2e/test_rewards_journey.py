"""Rewards in a real browser: a member earns points for a survey, a poll vote and a
completed profile and reads why in their history; a Thai member redeems a voucher, staff
approve it in the queue, the member sees the code and an email in Thai that does not hold
it; a Hebrew member orders a parcel on a right-to-left page; staff reject a request and
the points come back; and the whole redeem flow works from the keyboard alone.

Pages are found by the words a person reads on them, in the member's language (`shown`),
so a test reads the page the way the member does.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import Browser, BrowserContext, Page, expect

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption
from rewards.selectors import member_balance
from rewards.services import redemption_request
from surveys.choices import QuestionType, SurveyKind
from surveys.services import question_add, survey_create, survey_publish
from tests.e2e.conftest import sign_in_as
from tests.e2e.survey_page import choose, send, shown
from tests.factories.communities import (
    AttributeDefinitionFactory,
    ConsentRecordFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.rewards import (
    LedgerEntryFactory,
    RewardFactory,
    RewardsPolicyFactory,
    VoucherCodeFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
SURVEY_POINTS, POLL_POINTS, PROFILE_POINTS = 10, 5, 20
CODE = "THAI-COFFEE-4242"


def shown_n(language: str, singular: str, plural: str, n: int) -> str:
    """A counted message as the page shows it in `language`."""
    with translation.override(language):
        return ngettext(singular, plural, n) % {"n": n}


def confirm_button(language: str, cost: int) -> str:
    return shown_n(language, "Confirm: spend %(n)s point", "Confirm: spend %(n)s points", cost)


def rewards_url(community, name: str = "rewards") -> str:
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug])


def home(community) -> str:
    return f"/c/{community.organisation.slug}/{community.slug}/"


# --- what the community offers ---------------------------------------------------------------


@pytest.fixture
def rules(community):
    """The community's earning rules: a poll vote and a completed profile earn points."""
    return RewardsPolicyFactory(
        community=community, poll_points=POLL_POINTS, profile_points=PROFILE_POINTS
    )


@pytest.fixture
def city(community):
    """A profile is complete when the member has said which city they live in."""
    return AttributeDefinitionFactory(
        community=community,
        key="city",
        label={"en": "City", "th": "เมือง", "he": "עיר", "ja": "都市"},
        required=True,
    )


@pytest.fixture
def short_survey(organisation, community):
    survey = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Morning coffee", "th": "กาแฟยามเช้า"},
        languages=["en", "th"],
    )
    question_add(
        survey=survey,
        type=QuestionType.SINGLE_CHOICE,
        text={"en": "How was your coffee?", "th": "กาแฟเป็นอย่างไร"},
        choices=[{"en": "Good", "th": "ดี"}, {"en": "Bad", "th": "ไม่ดี"}],
    )
    survey.points = SURVEY_POINTS
    survey.save()
    return survey_publish(survey=survey)


@pytest.fixture
def pointless_poll(organisation, community):
    """A poll with no points of its own: the community's poll rule pays for a vote."""
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type=QuestionType.SINGLE_CHOICE,
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}],
    )
    return survey_publish(survey=poll)


@pytest.fixture
def owner(organisation):
    user = UserFactory(email="owner@example.com", name="Olive Owner")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.OWNER)
    return user


@pytest.fixture
def staff_page(browser: Browser, live_server, owner) -> Page:
    """The owner, signed in on a desktop in another browser (English)."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    sign_in_as(context, owner, live_server)
    yield context.new_page()
    context.close()


def member_in(community, *, locale: str, email: str, points: int, name: str = "Mali"):
    """A signed-up member reading `locale`, with `points` given earlier by staff."""
    user = UserFactory(email=email, name=name)
    member = MemberFactory(community=community, user=user, email=email, locale=locale, name=name)
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    if points:
        LedgerEntryFactory(
            member=member, points=points, reason=LedgerReason.ADJUSTMENT, detail={"note": "Hi"}
        )
    return member


def reward_card(page: Page, name: str):
    return page.get_by_role("article", name=name)


# --- earning -------------------------------------------------------------------------------


def test_a_member_earns_by_a_survey_a_poll_and_the_profile_and_the_history_says_why(
    member_page: Page, member, community, rules, city, short_survey, pointless_poll
):
    page = member_page
    # given: a member with no points and an incomplete profile
    member.name = ""
    member.save()
    assert member_balance(member=member) == 0
    # when: they answer the survey
    page.goto(f"/s/{short_survey.public_id}/")
    choose(page, "How was your coffee?", "Good")
    send(page)
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    # and vote in the poll on the community home
    page.goto(home(community))
    page.get_by_role("button", name="No thanks").click()
    expect(page.get_by_text("1 vote so far.")).to_be_visible()
    # and complete their profile: their name and the required city
    page.goto(home(community) + "profile/")
    page.get_by_label("Your name").fill("Mali Member")
    page.get_by_label("City").fill("Chiang Mai")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    # then: the balance holds all three, each once
    total = SURVEY_POINTS + POLL_POINTS + PROFILE_POINTS
    assert member_balance(member=member) == total
    assert sorted(LedgerEntry.objects.filter(member=member).values_list("reason", flat=True)) == [
        LedgerReason.POLL_VOTED,
        LedgerReason.PROFILE_COMPLETED,
        LedgerReason.SURVEY_COMPLETED,
    ]
    # and the points history explains each line, from the portal's link
    page.goto(home(community))
    expect(page.get_by_test_id("points-balance")).to_have_text(str(total))
    page.get_by_role("link", name="Points history").first.click()
    expect(page.get_by_role("heading", name="Points history", level=1)).to_be_visible()
    rows = page.get_by_test_id("ledger").get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three lines
    expect(rows.filter(has_text="Earned for “Morning coffee”")).to_contain_text(f"+{SURVEY_POINTS}")
    expect(rows.filter(has_text="Voted in a poll")).to_contain_text(f"+{POLL_POINTS}")
    expect(rows.filter(has_text="Completed your profile")).to_contain_text(f"+{PROFILE_POINTS}")
    # when: they save the profile again: it was completed once, and pays once
    page.goto(home(community) + "profile/")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    assert member_balance(member=member) == total


# --- a voucher in Thai ----------------------------------------------------------------------


def test_a_thai_member_redeems_a_voucher_staff_approve_and_the_code_is_shown_not_emailed(
    context: BrowserContext,
    page: Page,
    staff_page: Page,
    owner,
    live_server,
    organisation,
    community,
    mailoutbox,
):
    # given: a Thai member with 120 points, and a voucher staff approve by hand
    member = member_in(community, locale="th", email="somchai@example.com", points=120)
    voucher = RewardFactory(
        organisation=organisation,
        community=community,
        kind=RewardKind.VOUCHER,
        name="Coffee voucher",
        translations={"th": {"name": "บัตรกำนัลกาแฟ", "description": "กาแฟฟรีหนึ่งแก้ว"}},
        cost=50,
        stock=None,
        auto_approve=False,
    )
    VoucherCodeFactory(reward=voucher, organisation=organisation, code=CODE)
    sign_in_as(context, member.user, live_server)
    # when: they open the rewards page (in Thai, their language) and redeem the voucher
    page.goto(rewards_url(community))
    expect(page.locator("html")).to_have_attribute("lang", "th")
    card = reward_card(page, "บัตรกำนัลกาแฟ")
    expect(card).to_contain_text(shown("th", "You have enough points."))
    card.get_by_role("link", name=shown("th", "Redeem")).click()
    summary = page.get_by_test_id("redeem-summary")
    expect(page.get_by_test_id("balance-after")).to_have_text("70")
    expect(summary).to_contain_text("120")
    page.get_by_role("button", name=confirm_button("th", 50)).click()
    # then: the request waits for approval, its points held
    expect(page.get_by_role("heading", name=shown("th", "My redemptions"))).to_be_visible()
    row = page.get_by_test_id("redemptions").get_by_role("listitem").first
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "requested")
    expect(page.get_by_test_id("voucher-code")).to_have_count(0)
    redemption = Redemption.objects.get(member=member)
    assert redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=member) == 70
    # when: the owner ticks it in the approval queue and approves
    queue = reverse("staff:redemption_list", args=[organisation.slug])
    staff_page.goto(queue)
    staff_page.get_by_label(f"Select redemption #{redemption.pk}").check()
    staff_page.get_by_role("button", name="Approve ticked").click()
    # then: the queue has nothing left waiting; a code is delivered once shown, so the
    # redemption is done, and the member sees the code
    expect(staff_page.get_by_text("No redemptions match.")).to_be_visible()
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED
    assert redemption.decided_by == owner
    page.reload()
    expect(page.get_by_test_id("voucher-code")).to_have_text(CODE)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "fulfilled")
    # and the approval email went out in Thai, without the code
    email = OutboundEmail.objects.get(template="redemption_approved", to_email=member.email)
    assert email.language == "th"
    assert "บัตรกำนัลกาแฟ" in email.subject
    with translation.override("th"):
        greeting = gettext("Hello %(name)s,") % {"name": member.name}
    assert greeting != "Hello Mali,"  # the greeting is translated, so this checks Thai
    assert email.body_text.startswith(greeting)
    assert all(CODE not in part for part in (email.subject, email.body_text, email.body_html))
    (sent,) = [m for m in mailoutbox if m.subject == email.subject]
    assert sent.to == [member.email]
    assert CODE not in sent.body
    assert all(CODE not in str(content) for content, _type in sent.alternatives)


# --- a parcel in Hebrew ---------------------------------------------------------------------


def test_a_hebrew_member_orders_a_parcel_on_a_right_to_left_page(
    context: BrowserContext, page: Page, live_server, organisation, community
):
    # given: a member reading Hebrew, and a mug shipped to the address they give
    member = member_in(community, locale="he", email="noa@example.com", points=300, name="Noa")
    mug = RewardFactory(
        organisation=organisation,
        community=community,
        kind=RewardKind.PHYSICAL,
        name="Mug",
        translations={"he": {"name": "ספל", "description": "ספל קרמיקה"}},
        cost=200,
        stock=3,
    )
    sign_in_as(context, member.user, live_server)
    # when: they open the rewards page
    page.goto(rewards_url(community))
    # then: it reads right to left, in Hebrew
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "he")
    card = reward_card(page, "ספל")
    expect(card).to_contain_text(shown_n("he", "%(n)s left", "%(n)s left", 3))
    # when: they choose the mug and confirm without an address
    card.get_by_role("link", name=shown("he", "Redeem")).click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    address = page.get_by_label(shown("he", "Shipping address"))
    page.get_by_role("button", name=confirm_button("he", 200)).click()
    # then: the page asks for it, beside the box, and nothing is redeemed
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#address-error")).to_have_text(
        shown("he", "Enter the address to ship it to.")
    )
    assert not Redemption.objects.exists()
    assert member_balance(member=member) == 300
    # when: they enter the address and confirm
    address.fill("נועה כהן\nרחוב הרצל 1\nחיפה 3303101\nישראל")
    page.get_by_role("button", name=confirm_button("he", 200)).click()
    # then: the confirmation, on their redemptions page, still right to left
    expect(page.get_by_role("heading", name=shown("he", "My redemptions"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("redemptions")).to_contain_text("ספל")
    expect(page.locator("[aria-live=polite] .alert-success")).to_contain_text("ספל")
    redemption = Redemption.objects.get(member=member)
    assert redemption.shipping_address.startswith("נועה כהן")
    assert redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=member) == 100
    mug.refresh_from_db()
    assert mug.stock == 2


# --- a rejection ----------------------------------------------------------------------------


def test_staff_reject_a_request_with_a_reason_and_the_points_come_back(
    context: BrowserContext, page: Page, staff_page: Page, live_server, organisation, community
):
    # given: a member who asked for a hoodie, holding 150 of their 200 points
    member = member_in(community, locale="en", email="ann@example.com", points=200, name="Ann")
    hoodie = RewardFactory(
        organisation=organisation,
        community=community,
        kind=RewardKind.PERK,
        name="Hoodie",
        cost=150,
        stock=None,
    )
    redemption = redemption_request(member=member, reward=hoodie, request_key="ann-hoodie")
    assert member_balance(member=member) == 50
    # when: the owner opens it from the queue and rejects it with a reason
    staff_page.goto(reverse("staff:redemption_list", args=[organisation.slug]))
    staff_page.get_by_role("link", name=str(redemption.pk), exact=True).click()
    # (first without one: refused, and nothing changes)
    staff_page.get_by_role("button", name="Reject and return the points").click()
    expect(staff_page.get_by_text("Give a reason: the member sees it.")).to_be_visible()
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=member) == 50
    staff_page.get_by_label("Reason (the member sees it)").first.fill("Sizes are sold out.")
    staff_page.get_by_role("button", name="Reject and return the points").click()
    expect(staff_page.locator("h1 .badge")).to_have_text("Rejected")
    # then: the member's balance is whole again
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REJECTED
    assert member_balance(member=member) == 200
    # and the member reads the reason, and that the points came back
    sign_in_as(context, member.user, live_server)
    page.goto(rewards_url(community, "redemptions"))
    item = page.get_by_test_id("redemptions").get_by_role("listitem").first
    expect(item.locator("[data-status]")).to_have_text("Rejected")
    expect(item).to_contain_text("Reason: Sizes are sold out.")
    expect(item).to_contain_text("The points were returned to you.")
    expect(page.get_by_text("You have 200 points to spend.")).to_be_visible()
    # and their history shows the spend and its return
    page.get_by_role("link", name="Points history").first.click()
    ledger = page.get_by_test_id("ledger")
    expect(ledger.get_by_role("row").filter(has_text="Returned: “Hoodie”")).to_contain_text("+150")
    expect(ledger.get_by_role("row").filter(has_text="Spent on “Hoodie”")).to_contain_text("−150")


# --- the keyboard ---------------------------------------------------------------------------


def tab_to(page: Page, name: re.Pattern, *, limit: int = 60) -> None:
    """Press Tab until the focused element's accessible text matches `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.innerText || e.value || e.getAttribute('aria-label') || '').trim(); }"
        )
        if name.search(focused):
            return
    raise AssertionError(f"Tab never reached {name.pattern!r}")


def test_the_redeem_flow_works_with_the_keyboard_alone(
    context: BrowserContext, page: Page, live_server, organisation, community
):
    # given: a member with enough points for a cake, and a cake approved at once
    member = member_in(community, locale="en", email="kim@example.com", points=80, name="Kim")
    RewardFactory(
        organisation=organisation,
        community=community,
        kind=RewardKind.PERK,
        name="Slice of cake",
        cost=30,
        stock=None,
        auto_approve=True,
    )
    sign_in_as(context, member.user, live_server)
    page.goto(rewards_url(community))
    # when: they Tab to the cake's Redeem link and press Enter
    tab_to(page, re.compile(r"^Redeem$"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Redeem Slice of cake")).to_be_visible()
    # and Tab to the confirm button and press Enter
    tab_to(page, re.compile(r"^Confirm: spend 30 points$"))
    focus_ring = page.evaluate(
        "() => getComputedStyle(document.activeElement).boxShadow + '|' +"
        " getComputedStyle(document.activeElement).outlineStyle"
    )
    assert focus_ring != "none|none", "the focused button shows no focus indicator"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # then: the cake is theirs
    expect(page.get_by_role("heading", name="My redemptions")).to_be_visible()
    expect(page.get_by_text("Slice of cake is yours: 30 points were spent.")).to_be_visible()
    assert Redemption.objects.get(member=member).status == RedemptionStatus.APPROVED
    assert member_balance(member=member) == 50
