"""Every member rewards page passes axe-core's WCAG 2.2 A/AA rules, in English, Thai,
Hebrew (right to left) and Japanese, in each state a member meets it in: the catalogue
with rewards they can afford, cannot afford, that are out of stock or at their limit;
redeeming (a code, a parcel and its address left out, too dear, gone, withdrawn); their
redemptions with a voucher code, a refusal and a request to cancel; a points history
that runs to a second page; and the same pages for a member with nothing yet.

The staff rewards pages are walked by test_staff_accessibility.py (build_rewards there).
The check is test_public_accessibility's Audit: the page's language and direction,
axe-core, and errors said to screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page

from communities.choices import Role
from rewards.choices import BadgeKind, LedgerReason, RewardKind
from rewards.models import Reward
from rewards.services import (
    redemption_approve,
    redemption_cancel,
    redemption_reject,
    redemption_request,
)
from tests.e2e.conftest import sign_in_as
from tests.e2e.test_public_accessibility import LANGUAGES, Audit, words
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.rewards import (
    LedgerEntryFactory,
    MemberBadgeFactory,
    MemberStandingFactory,
    RewardFactory,
    RewardsPolicyFactory,
    TierFactory,
    VoucherCodeFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

every_language = pytest.mark.parametrize(("language", "direction"), LANGUAGES)


def translated(en: str, th: str, he: str, ja: str, *, about: str = "") -> dict[str, dict]:
    """A reward's name (and description) in the four languages, as Reward.translations."""
    names = words(en, th, he, ja)
    return {code: {"name": name, "description": about} for code, name in names.items()}


# --- a member with one of everything, and one with nothing ------------------------------------


@dataclass
class Catalogue:
    community: Any
    member: Any
    newcomer: Any
    voucher: Reward
    parcel: Reward
    too_dear: Reward
    gone: Reward
    once_only: Reward
    withdrawn: Reward

    def url(self, name: str, *args: Any) -> str:
        org, slug = self.community.organisation.slug, self.community.slug
        return reverse(f"community:{name}", args=[org, slug, *args])


def member_of(community, email: str, name: str):
    user = UserFactory(email=email, name=name)
    member = MemberFactory(community=community, user=user, email=email, name=name)
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    return member


def build_catalogue() -> Catalogue:
    owner = UserFactory(email="owner@example.com")
    community = CommunityFactory(
        name="Regulars",
        slug="regulars",
        organisation__name="Demo Coffee",
        organisation__slug="demo-coffee",
        # A light amber: the brand's buttons must still read (see _brand_style.html).
        organisation__brand_colour="#f5a623",
    )
    org = community.organisation
    StaffRoleFactory(user=owner, organisation=org, role=Role.OWNER)
    RewardsPolicyFactory(community=community, poll_points=2, profile_points=20)
    gold = TierFactory(
        community=community, names=words("Gold", "ทอง", "זהב", "ゴールド"), threshold=100
    )
    TierFactory(
        community=community,
        names=words("Platinum", "แพลทินัม", "פלטינה", "プラチナ"),
        threshold=5000,
        discount_percent=10,
    )

    def reward(**fields) -> Reward:
        return RewardFactory(organisation=org, community=community, **fields)

    voucher = reward(
        kind=RewardKind.VOUCHER,
        name="Coffee voucher",
        translations=translated(
            "Coffee voucher", "บัตรกำนัลกาแฟ", "שובר קפה", "コーヒー券", about="☕"
        ),
        cost=50,
        stock=None,
    )
    for n in range(3):
        VoucherCodeFactory(reward=voucher, organisation=org, code=f"COFFEE-{n:04d}")
    parcel = reward(
        kind=RewardKind.PHYSICAL,
        name="Mug",
        translations=translated("Mug", "แก้วมัค", "ספל", "マグカップ"),
        cost=40,
        stock=5,
    )
    too_dear = reward(
        kind=RewardKind.DONATION,
        name="Plant a tree",
        translations=translated("Plant a tree", "ปลูกต้นไม้", "נטיעת עץ", "植樹"),
        cost=5000,
        stock=None,
    )
    gone = reward(
        kind=RewardKind.PHYSICAL,
        name="Tote bag",
        translations=translated("Tote bag", "กระเป๋าผ้า", "תיק בד", "トートバッグ"),
        cost=30,
        stock=0,
    )
    once_only = reward(
        kind=RewardKind.PERK,
        name="Barista class",
        translations=translated("Barista class", "คลาสบาริสต้า", "סדנת בריסטה", "バリスタ教室"),
        cost=20,
        stock=None,
        per_member_limit=1,
        auto_approve=True,
    )
    withdrawn = reward(kind=RewardKind.PERK, name="Old perk", cost=10, stock=None, active=False)

    member = member_of(community, "mali@example.com", "Mali Member")
    MemberStandingFactory(member=member, tier=gold, points_counted=400)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    MemberBadgeFactory(member=member, kind=BadgeKind.TEN_SURVEYS)
    # A history that runs to a second page, with every kind of line on it.
    for n in range(24):
        LedgerEntryFactory(
            member=member,
            points=10,
            reason=LedgerReason.SURVEY_COMPLETED,
            detail={"title": f"Visit {n}"},
        )
    for reason, points, detail in [
        (LedgerReason.POLL_VOTED, 2, {}),
        (LedgerReason.PROFILE_COMPLETED, 20, {}),
        (LedgerReason.JOINED, 5, {}),
        (LedgerReason.REFERRAL, 15, {}),
        (LedgerReason.ADJUSTMENT, 100, {"note": "Sorry about the cold coffee."}),
        (LedgerReason.EXPIRED, -12, {}),
    ]:
        LedgerEntryFactory(member=member, points=points, reason=reason, detail=detail)
    # Redemptions in each state the member's page shows: a code, a refusal, a cancelled
    # request, one used up (the limit), and one still waiting that they may cancel.
    redemption_approve(
        redemption=redemption_request(member=member, reward=voucher, request_key="a11y-code"),
        actor=owner,
    )
    redemption_reject(
        redemption=redemption_request(member=member, reward=voucher, request_key="a11y-no"),
        actor=owner,
        reason="One voucher a month, please.",
    )
    redemption_cancel(
        redemption=redemption_request(
            member=member, reward=parcel, shipping_address="1 Soi Sukhumvit", request_key="a11y-x"
        ),
        actor=None,
    )
    redemption_request(member=member, reward=once_only, request_key="a11y-once")
    redemption_request(
        member=member, reward=parcel, shipping_address="9 Nimman Rd", request_key="a11y-wait"
    )
    newcomer = member_of(community, "new@example.com", "Nina Newcomer")
    return Catalogue(
        community, member, newcomer, voucher, parcel, too_dear, gone, once_only, withdrawn
    )


@pytest.fixture
def catalogue() -> Catalogue:
    return build_catalogue()


# --- the pages ------------------------------------------------------------------------------


@every_language
def test_the_rewards_pages_of_a_member_with_points_and_history(
    context: BrowserContext,
    page: Page,
    catalogue: Catalogue,
    language,
    direction,
    live_server,
):
    """The catalogue in every state a reward is in, redeeming each kind, a parcel's
    address left out, the redemptions with a code and a cancellation, the history."""
    catalogue.member.locale = language
    catalogue.member.save()
    sign_in_as(context, catalogue.member.user, live_server)
    audit = Audit(page, language, direction)
    audit.visit(
        catalogue.url("rewards"), "catalogue: afford, too dear, out of stock, limit reached"
    )
    audit.visit(catalogue.url("reward_redeem", catalogue.voucher.pk), "redeem a voucher code")
    audit.visit(catalogue.url("reward_redeem", catalogue.parcel.pk), "redeem a parcel")
    audit.submit("main form[method=post] [type=submit]", "parcel: no address", status=400)
    audit.visit(catalogue.url("reward_redeem", catalogue.too_dear.pk), "redeem: cannot afford")
    audit.visit(catalogue.url("reward_redeem", catalogue.gone.pk), "redeem: out of stock")
    audit.visit(catalogue.url("reward_redeem", catalogue.once_only.pk), "redeem: limit reached")
    audit.visit(catalogue.url("reward_redeem", catalogue.withdrawn.pk), "redeem: withdrawn")
    audit.visit(catalogue.url("redemptions"), "redemptions: code, refused, cancelled, waiting")
    audit.submit("main li form[action*='/cancel/'] [type=submit]", "redemptions: cancelled")
    audit.visit(catalogue.url("points_history"), "points history, first page")
    audit.visit(catalogue.url("points_history") + "?page=2", "points history, second page")
    # a redemption that goes through at once, and the page that says so
    audit.visit(catalogue.url("reward_redeem", catalogue.parcel.pk), "redeem a parcel again")
    page.locator("main textarea").fill("9 Nimman Rd, Chiang Mai")
    audit.submit("main form[method=post] [type=submit]", "parcel requested")
    audit.verdict()


@every_language
def test_the_rewards_pages_of_a_member_with_nothing_yet(
    context: BrowserContext,
    page: Page,
    catalogue: Catalogue,
    language,
    direction,
    live_server,
):
    """No points (nothing affordable), no redemptions, an empty history, no tier; and a
    community with no rewards at all."""
    catalogue.newcomer.locale = language
    catalogue.newcomer.save()
    sign_in_as(context, catalogue.newcomer.user, live_server)
    audit = Audit(page, language, direction)
    audit.visit(catalogue.url("rewards"), "catalogue with no points")
    audit.visit(catalogue.url("redemptions"), "no redemptions")
    audit.visit(catalogue.url("points_history"), "empty points history")
    Reward.objects.filter(community=catalogue.community).update(active=False)
    audit.visit(catalogue.url("rewards"), "catalogue with nothing offered")
    audit.verdict()
