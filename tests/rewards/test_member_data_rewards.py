"""rewards' part of a member's data: the download holds their points, redemptions (with
shipping address and their own voucher codes), tier and badges; erasure blanks where a
parcel went and how it was sent, and keeps the accounting against the erased marker; the
portal home shows balance, tier, badges and the way to the rewards pages."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.flows import member_erase, member_export
from communities.member_data import member_portal
from rewards.choices import BadgeKind, ExpiryNoticeKind, LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, VoucherCode
from rewards.selectors import member_balance
from rewards.services import redemption_approve, redemption_fulfil, redemption_request
from tests.factories.communities import MemberFactory, StaffRoleFactory, UserFactory
from tests.factories.rewards import (
    ExpiryNoticeFactory,
    LedgerEntryFactory,
    MemberBadgeFactory,
    MemberStandingFactory,
    RewardFactory,
    TierFactory,
    VoucherCodeFactory,
)

pytestmark = pytest.mark.django_db


def home(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


ADDRESS = "Zed Quinlan\n12 Rama IV Rd\nBangkok 10500"


@pytest.fixture
def staff(organisation):
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role="admin")
    return user


@pytest.fixture
def rich_member(community, staff):
    """A member with points, a shipped parcel, an approved voucher, one waiting, a tier,
    a badge and an expiry warning."""
    member = MemberFactory(community=community, email="zed@example.com", name="Zed Quinlan")
    organisation = community.organisation
    LedgerEntryFactory(
        member=member,
        points=500,
        reason=LedgerReason.SURVEY_COMPLETED,
        detail={"title": "Store visit"},
    )
    parcel = RewardFactory(
        organisation=organisation, community=community, kind=RewardKind.PHYSICAL, cost=100
    )
    shipped = redemption_request(member=member, reward=parcel, shipping_address=ADDRESS)
    redemption_approve(redemption=shipped, actor=staff)
    redemption_fulfil(redemption=shipped, actor=staff, tracking_note="EF123 for Zed Quinlan")
    voucher = RewardFactory(
        organisation=organisation, community=community, kind=RewardKind.VOUCHER, stock=None
    )
    VoucherCodeFactory(reward=voucher, code="MINE-001")
    VoucherCodeFactory(reward=voucher, code="WAITING-002")
    redemption_approve(redemption=redemption_request(member=member, reward=voucher), actor=staff)
    redemption_request(member=member, reward=voucher)
    tier = TierFactory(community=community, names={"en": "Gold", "th": "ทอง"})
    MemberStandingFactory(member=member, tier=tier, points_counted=500)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    ExpiryNoticeFactory(member=member, kind=ExpiryNoticeKind.WARNING, points=200)
    return member


def test_export_holds_redemptions_with_address_and_own_codes_tier_and_badges(rich_member):
    # when
    data = member_export(member=rich_member)
    # then
    shipped, approved, waiting = data["redemptions"]
    assert shipped["shipping_address"] == ADDRESS
    assert shipped["status"] == RedemptionStatus.FULFILLED
    assert shipped["tracking_note"] == "EF123 for Zed Quinlan"
    assert approved["voucher_code"] == "MINE-001"
    # a code set aside for a request not yet approved is not yet theirs to read
    assert waiting["status"] == RedemptionStatus.REQUESTED and waiting["voucher_code"] == ""
    assert data["tier"]["name"] == "Gold" and data["tier"]["points_counted"] == 500
    assert data["badges"] == [
        {"badge": BadgeKind.FIRST_SURVEY, "awarded_at": data["badges"][0]["awarded_at"]}
    ]
    assert data["points"]["ledger"][0]["detail"] == {"title": "Store visit"}
    assert data["points"]["expiry_notices"][0]["points"] == 200
    assert data["points"]["balance"] == member_balance(member=rich_member)
    json.dumps(data)


def test_export_holds_no_one_elses_codes(rich_member, community):
    other = MemberFactory(community=community)
    text = json.dumps(member_export(member=other))
    assert "MINE-001" not in text and ADDRESS not in text


def test_erasure_blanks_addresses_and_tracking_notes_and_keeps_the_accounting(
    rich_member, community
):
    # given another member's parcel, which must stay
    other = MemberFactory(community=community)
    LedgerEntryFactory(member=other, points=500)
    parcel = RewardFactory(
        organisation=community.organisation, community=community, kind=RewardKind.PHYSICAL
    )
    theirs = redemption_request(member=other, reward=parcel, shipping_address="Other St 1")
    entries = LedgerEntry.objects.filter(member=rich_member).count()
    balance = member_balance(member=rich_member)
    waiting = Redemption.objects.get(member=rich_member, status=RedemptionStatus.REQUESTED)
    # when
    member_erase(member=rich_member)
    # then: the accounting stays; only the request still waiting is cancelled, its points
    # returned by one entry and its (never shown) code back in the pool
    mine = Redemption.objects.filter(member=rich_member)
    assert mine.count() == 3
    assert set(mine.values_list("shipping_address", flat=True)) == {""}
    assert set(mine.values_list("tracking_note", flat=True)) == {""}
    waiting.refresh_from_db()
    assert waiting.status == RedemptionStatus.CANCELLED
    assert not VoucherCode.objects.filter(redemption=waiting).exists()
    assert VoucherCode.objects.filter(code="WAITING-002", redemption__isnull=True).exists()
    assert LedgerEntry.objects.filter(member=rich_member).count() == entries + 1
    assert member_balance(member=rich_member) == balance + waiting.points
    theirs.refresh_from_db()
    assert theirs.shipping_address == "Other St 1"


def test_erasure_leaves_no_address_anywhere_in_rewards(rich_member):
    erased = member_erase(member=rich_member)
    data = member_export(member=erased)
    text = json.dumps([data["points"], data["redemptions"], data["tier"], data["badges"]])
    assert "Rama IV" not in text and "Zed Quinlan" not in text


def test_portal_part_gives_balance_explained_lines_tier_and_badges(rich_member):
    portal = member_portal(member=rich_member, language="th")
    assert portal["balance"] == member_balance(member=rich_member)
    assert portal["rewards_tier"] == "ทอง"
    assert portal["rewards_badges"] == [str(BadgeKind.FIRST_SURVEY.label)]
    assert all(line["reason"] for line in portal["ledger"])


# --- the portal home (the community home of a signed-in member) ---------------------------


def test_portal_home_shows_balance_tier_badges_and_links(
    member_client, member, community, django_assert_max_num_queries
):
    # given
    LedgerEntryFactory(
        member=member,
        points=40,
        reason=LedgerReason.SURVEY_COMPLETED,
        detail={"title": "Store visit"},
    )
    tier = TierFactory(community=community, names={"en": "Gold"})
    MemberStandingFactory(member=member, tier=tier)
    MemberBadgeFactory(member=member, kind=BadgeKind.ONE_YEAR)
    # when
    with django_assert_max_num_queries(30):
        page = member_client.get(home(community))
    # then
    html = page.content.decode()
    assert 'data-testid="points-balance">40<' in html
    assert "Gold" in html and "A year a member" in html
    assert "Earned for “Store visit”" in html
    for name in ("rewards", "redemptions", "points_history"):
        assert (
            reverse(f"community:{name}", args=[community.organisation.slug, community.slug]) in html
        )


def test_portal_home_queries_do_not_grow_with_history(
    member_client, member, community, django_assert_num_queries
):
    # given a short history, counted
    reward = RewardFactory(organisation=community.organisation, community=community)
    LedgerEntryFactory(
        member=member, points=5, reason=LedgerReason.REDEMPTION_HOLD, detail={"reward": reward.pk}
    )
    with CaptureQueriesContext(connection) as short:
        member_client.get(home(community))
    # when the history grows, with many badges and rewards named in it
    for kind in BadgeKind.values:
        MemberBadgeFactory(member=member, kind=kind)
    for _ in range(20):
        other = RewardFactory(organisation=community.organisation, community=community)
        LedgerEntryFactory(
            member=member,
            points=-1,
            reason=LedgerReason.REDEMPTION_HOLD,
            detail={"reward": other.pk},
        )
    # then the home page asks the same number of queries
    with django_assert_num_queries(len(short.captured_queries)):
        member_client.get(home(community))
