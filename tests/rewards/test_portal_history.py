"""The member's side of rewards, the points history: every line explained in the member's
language, tier, next tier and badges."""

import pytest

from rewards.choices import BadgeKind, LedgerReason
from rewards.models import LedgerEntry
from tests.factories.rewards import (
    MemberBadgeFactory,
    MemberStandingFactory,
    TierFactory,
)
from tests.rewards.portal_helpers import (
    give,
    reward_for,
    url,
)

pytestmark = pytest.mark.django_db


# --- points history -------------------------------------------------------------------------


def test_points_history_explains_every_line(member_client, member, community, staff):
    # given one entry of every kind
    reward = reward_for(community, name="Tote bag", translations={"th": {"name": "กระเป๋าผ้า"}})
    give(member, 10, reason=LedgerReason.SURVEY_COMPLETED, detail={"title": "Store visit"})
    give(member, 2, reason=LedgerReason.POLL_VOTED)
    give(member, 5, reason=LedgerReason.PROFILE_COMPLETED)
    give(member, 20, reason=LedgerReason.REFERRAL)
    give(member, 50, reason=LedgerReason.JOINED)
    detail = {"title": "Tote bag", "reward": reward.pk}
    give(member, -30, reason=LedgerReason.REDEMPTION_HOLD, detail=detail)
    give(member, 30, reason=LedgerReason.REDEMPTION_RETURN, detail=detail)
    give(member, -4, reason=LedgerReason.EXPIRED)
    give(member, 7, reason=LedgerReason.ADJUSTMENT, detail={"note": "Sorry for the wait"})
    # when
    html = member_client.get(url("points_history", community)).content.decode()
    # then
    for line in (
        "Earned for “Store visit”",
        "Voted in a poll",
        "Completed your profile",
        "A friend you invited joined the community",
        "Welcome points for joining",
        "Spent on “Tote bag”",
        "Returned: “Tote bag”",
        "Expired after a time without activity",
        "Adjusted by staff: Sorry for the wait",
        "+10",
        "−30",
    ):
        assert line in html, line
    # a reward's name is shown in the member's language
    thai = member_client.get(url("points_history", community) + "?lang=th").content.decode()
    assert "กระเป๋าผ้า" in thai


def test_points_history_escapes_what_staff_wrote(member_client, member, community):
    give(member, 1, reason=LedgerReason.ADJUSTMENT, detail={"note": "<script>x()</script>"})
    html = member_client.get(url("points_history", community)).content.decode()
    assert "<script>x()" not in html and "&lt;script&gt;" in html


def test_points_history_is_paginated_with_flat_queries(
    member_client, member, community, django_assert_max_num_queries
):
    # given a long history
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            organisation=member.organisation,
            member=member,
            points=1,
            reason=LedgerReason.POLL_VOTED,
            idempotency_key=f"history-{n}",
        )
        for n in range(120)
    )
    # when
    with django_assert_max_num_queries(14):
        page = member_client.get(url("points_history", community))
    # then
    assert page.status_code == 200 and len(page.context["lines"]) == 25
    last = member_client.get(url("points_history", community) + "?page=999")
    assert last.status_code == 200 and len(last.context["lines"]) == 20


def test_points_history_shows_tier_next_tier_and_badges(member_client, member, community):
    gold = TierFactory(community=community, names={"en": "Silver", "he": "כסף"}, threshold=100)
    TierFactory(community=community, names={"en": "Gold"}, threshold=300)
    MemberStandingFactory(member=member, tier=gold, points_counted=120)
    MemberBadgeFactory(member=member, kind=BadgeKind.REFERRAL)
    html = member_client.get(url("points_history", community)).content.decode()
    assert "Silver" in html and "180 more points earned reach Gold" in html
    assert "Brought a friend" in html
    hebrew = member_client.get(url("points_history", community) + "?lang=he").content.decode()
    assert "כסף" in hebrew
