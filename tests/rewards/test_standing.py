"""Tiers by points earned (lifetime or a rolling window) and milestone badges, computed for
whole communities by the daily task."""

from datetime import UTC, datetime, timedelta

import pytest

from communities.choices import MemberStatus
from rewards.choices import BadgeKind, LedgerReason, TierBasis
from rewards.models import MemberBadge, MemberStanding
from rewards.services import badges_award, standings_compute
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.rewards import LedgerEntryFactory, RewardsPolicyFactory, TierFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def community():
    community = CommunityFactory()
    TierFactory(community=community, threshold=100, names={"en": "Silver"})
    TierFactory(community=community, threshold=200, names={"en": "Gold"})
    return community


def earn(member, points, *, at=NOW - timedelta(days=1), reason=LedgerReason.SURVEY_COMPLETED):
    return LedgerEntryFactory(member=member, points=points, reason=reason, created_at=at)


def standing(member):
    row = MemberStanding.objects.select_related("tier").get(member=member)
    return row.points_counted, (row.tier.names["en"] if row.tier else None)


def badges(member):
    return sorted(MemberBadge.objects.filter(member=member).values_list("kind", flat=True))


# --- tiers ---------------------------------------------------------------------------------


def test_standing_counts_points_earned_not_spent_nor_returned(community):
    # given: 150 earned; a redemption held 80 and gave them back
    member = MemberFactory(community=community)
    earn(member, 100)
    earn(member, 50, reason=LedgerReason.ADJUSTMENT)
    earn(member, -80, reason=LedgerReason.REDEMPTION_HOLD)
    earn(member, 80, reason=LedgerReason.REDEMPTION_RETURN)
    earn(member, -20, reason=LedgerReason.EXPIRED)
    # when
    standings_compute(now=NOW)
    # then
    assert standing(member) == (150, "Silver")


@pytest.mark.parametrize(
    ("earned", "tier"), [(0, None), (99, None), (100, "Silver"), (199, "Silver"), (200, "Gold")]
)
def test_tier_is_the_highest_threshold_reached(community, earned, tier):
    member = MemberFactory(community=community)
    if earned:
        earn(member, earned)
    standings_compute(now=NOW)
    assert standing(member) == (earned, tier)


def test_lifetime_counts_everything_and_a_window_only_its_months(community):
    # given: 300 earned 14 months ago, 120 two months ago
    member = MemberFactory(community=community)
    earn(member, 300, at=NOW - timedelta(days=430))
    earn(member, 120, at=NOW - timedelta(days=60))
    # when: lifetime (no policy says otherwise)
    standings_compute(now=NOW)
    # then
    assert standing(member) == (420, "Gold")
    # when: the community counts the last 12 months
    RewardsPolicyFactory(community=community, tier_basis=TierBasis.WINDOW, tier_window_months=12)
    standings_compute(now=NOW)
    # then
    assert standing(member) == (120, "Silver")


def test_members_move_down_as_the_window_slides_and_unchanged_rows_are_not_rewritten(community):
    # given: 150 earned 11 months ago and 100 last week, over a 12-month window
    RewardsPolicyFactory(community=community, tier_basis=TierBasis.WINDOW, tier_window_months=12)
    member = MemberFactory(community=community)
    earn(member, 150, at=NOW - timedelta(days=330))
    earn(member, 100, at=NOW - timedelta(days=7))
    assert standings_compute(now=NOW) == 1
    assert standing(member) == (250, "Gold")
    # when: the same day again, nothing changed
    assert standings_compute(now=NOW + timedelta(hours=1)) == 0
    assert MemberStanding.objects.get(member=member).computed_at == NOW
    # when: two months later the old points fall out of the window
    later = NOW + timedelta(days=60)
    assert standings_compute(now=later) == 1
    # then
    assert standing(member) == (100, "Silver")
    assert MemberStanding.objects.get(member=member).computed_at == later


def test_every_member_gets_a_standing_but_erased_ones_and_other_communities_tiers(community):
    # given: a member with nothing, an erased member, and a member of a community
    # whose only tier starts at 10
    quiet = MemberFactory(community=community)
    erased = MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        phone="",
        referral_code="",
        attributes={},
    )
    elsewhere = MemberFactory(community=CommunityFactory())
    TierFactory(community=elsewhere.community, threshold=10, names={"en": "Bronze"})
    earn(elsewhere, 150)
    # when
    standings_compute(now=NOW)
    # then
    assert standing(quiet) == (0, None)
    assert not MemberStanding.objects.filter(member=erased).exists()
    assert standing(elsewhere) == (150, "Bronze")


def test_one_community_can_be_recomputed_alone(community):
    # given
    member = MemberFactory(community=community)
    other = MemberFactory()
    earn(member, 120)
    earn(other, 120)
    # when
    assert standings_compute(now=NOW, community_id=community.pk) == 1
    # then
    assert standing(member) == (120, "Silver")
    assert not MemberStanding.objects.filter(member=other).exists()


def test_standings_are_a_few_statements_per_community(community, django_assert_max_num_queries):
    # given: 30 members
    for n in range(30):
        earn(MemberFactory(community=community), 10 * n + 1)
    # when / then: the communities, the policies, one upsert per community
    with django_assert_max_num_queries(4):
        assert standings_compute(now=NOW, community_id=community.pk) == 30
    assert MemberStanding.objects.filter(tier__names__en="Gold").count() == 10


# --- badges --------------------------------------------------------------------------------


def test_badges_for_milestones_are_awarded_once_each(community):
    # given
    first = MemberFactory(community=community)
    earn(first, 10)
    regular = MemberFactory(community=community)
    for _n in range(10):
        earn(regular, 10)
    almost = MemberFactory(community=community)
    for _n in range(9):
        earn(almost, 10)
    veteran = MemberFactory(community=community, joined_at=NOW - timedelta(days=365))
    newcomer = MemberFactory(community=community, joined_at=NOW - timedelta(days=364))
    referrer = MemberFactory(community=community)
    earn(referrer, 50, reason=LedgerReason.REFERRAL)
    # when
    awarded = badges_award(now=NOW)
    # then
    assert awarded == 6
    assert badges(first) == [BadgeKind.FIRST_SURVEY]
    assert badges(regular) == [BadgeKind.FIRST_SURVEY, BadgeKind.TEN_SURVEYS]
    assert badges(almost) == [BadgeKind.FIRST_SURVEY]
    assert badges(veteran) == [BadgeKind.ONE_YEAR]
    assert badges(newcomer) == []
    assert badges(referrer) == [BadgeKind.REFERRAL]
    assert set(MemberBadge.objects.values_list("awarded_at", flat=True)) == {NOW}
    # when: the task runs again the next day, after one more survey
    earn(almost, 10)
    assert badges_award(now=NOW + timedelta(days=1)) == 2
    # then: only the new badges (the tenth survey; a year to the day), every badge once
    assert badges(almost) == [BadgeKind.FIRST_SURVEY, BadgeKind.TEN_SURVEYS]
    assert badges(newcomer) == [BadgeKind.ONE_YEAR]
    assert MemberBadge.objects.count() == 8
    assert badges_award(now=NOW + timedelta(days=2)) == 0


def test_no_badges_for_erased_members_and_a_year_only_for_current_members(community):
    # given
    erased = MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        phone="",
        referral_code="",
        attributes={},
        joined_at=NOW - timedelta(days=800),
    )
    earn(erased, 10)
    left = MemberFactory(
        community=community,
        status=MemberStatus.UNSUBSCRIBED,
        joined_at=NOW - timedelta(days=800),
    )
    # when
    assert badges_award(now=NOW) == 0
    # then
    assert badges(erased) == [] and badges(left) == []
