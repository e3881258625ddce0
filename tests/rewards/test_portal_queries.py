"""The member's catalogue and points history cost a fixed number of queries, however long
the member's history and however many rewards: the pager's count comes from the statement
that sums the balance, the catalogue's per-member counts are read with the rewards, and
what every card or row says is worked out once. These tests pin that down, and that the
faster reads say exactly what the slower ones said."""

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from rewards.choices import BadgeKind, LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Reward
from rewards.selectors import (
    LedgerPages,
    member_balance,
    member_catalogue,
    member_ledger,
    member_loyalty,
    member_summary,
)
from tests.factories.communities import CommunityFactory
from tests.factories.rewards import (
    MemberBadgeFactory,
    MemberStandingFactory,
    RedemptionFactory,
    TierFactory,
    VoucherCodeFactory,
)
from tests.rewards.portal_helpers import give, reward_for, url

pytestmark = pytest.mark.django_db


def history(member, entries: int, *, start: int = 0) -> None:
    """`entries` more poll votes and now and then a spend on a reward, a minute apart."""
    tote = Reward.objects.filter(community=member.community, name="Tote bag").first()
    reward = tote or reward_for(member.community, name="Tote bag")
    now = timezone.now()
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            organisation=member.organisation,
            member=member,
            points=-3 if n % 7 == 6 else 5,
            reason=LedgerReason.REDEMPTION_HOLD if n % 7 == 6 else LedgerReason.POLL_VOTED,
            detail={"title": "Tote bag", "reward": reward.pk} if n % 7 == 6 else {},
            idempotency_key=f"queries-{member.pk}-{n}",
            created_at=now - timedelta(minutes=start + entries - n),
        )
        for n in range(start, start + entries)
    )


def queries_of(client, address: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(address)
    assert page.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def counts(queries: list[str]) -> list[str]:
    # The paginator's own COUNT, as Django writes it.
    return [sql for sql in queries if '"__count"' in sql]


# --- the points history ---------------------------------------------------------------------


def test_the_history_costs_the_same_queries_for_ten_entries_or_a_thousand(
    member_client, member, community
):
    # given a member with a short history, a tier and a badge
    TierFactory(community=community, names={"en": "Silver"}, threshold=10)
    MemberBadgeFactory(member=member, kind=BadgeKind.REFERRAL)
    history(member, 10)
    address = url("points_history", community)
    short_first, short_last = (
        queries_of(member_client, address),
        queries_of(member_client, address + "?page=999"),
    )
    # when the history grows a hundredfold
    history(member, 990, start=10)
    long_first = queries_of(member_client, address)
    long_deep = queries_of(member_client, address + "?page=20")
    long_last = queries_of(member_client, address + "?page=999")
    # then every page costs the same queries: no COUNT of its own, none per row
    assert len(short_first) == len(long_first) == len(long_deep) == len(long_last)
    assert len(short_last) == len(long_last)
    # session, user, community, member, terms; summary, tiers, badges, the page, names
    assert len(long_first) <= 10
    assert not counts(long_first + long_deep + long_last)


def test_the_history_pages_are_the_ledger_newest_first_with_the_right_page_count(
    member_client, member, community
):
    # given 60 entries: three pages of 25, 25 and 10
    history(member, 60)
    newest_first = list(member_ledger(member=member))
    address = url("points_history", community)
    seen = []
    for number in (1, 2, 3):
        # when
        page = member_client.get(f"{address}?page={number}")
        # then each page holds the next entries, and the pager counts them all
        seen += [line["entry"].pk for line in page.context["lines"]]
        assert page.context["page"].paginator.num_pages == 3
        assert f"Page {number} of 3" in page.content.decode()
    assert seen == [entry.pk for entry in newest_first]
    # a page past the end shows the last, a malformed one the first, as before
    assert member_client.get(f"{address}?page=999").context["page"].number == 3
    assert member_client.get(f"{address}?page=abc").context["page"].number == 1


def test_an_empty_history_reads_no_page_of_entries(member_client, member, community):
    queries = queries_of(member_client, url("points_history", community))
    assert not [sql for sql in queries if "rewards_ledgerentry" in sql and "LIMIT" in sql]
    assert "No points yet" in member_client.get(url("points_history", community)).content.decode()


def test_a_history_page_shows_each_line_as_the_template_used_to(member_client, member, community):
    # given an entry earned and one spent, on a known day
    give(member, 12, reason=LedgerReason.POLL_VOTED)
    give(member, -4, reason=LedgerReason.EXPIRED)
    # when
    page = member_client.get(url("points_history", community) + "?lang=he")
    html = page.content.decode()
    # then the sign, the words a screen reader hears and the local day are the same
    with translation.override("he"):
        for line in page.context["lines"]:
            day = Template('{{ when|date:"SHORT_DATE_FORMAT" }}').render(
                Context({"when": line["created_at"]})
            )
            assert line["day"] == day
            earned = Template(
                '{% load i18n %}{% translate "earned" %}|{% translate "spent or removed" %}'
            ).render(Context())
            assert line["sense"] == earned.split("|")[0 if line["earned"] else 1]
    assert "+12" in html and "−4" in html


def test_ledger_pages_slice_the_ledger_as_the_queryset_would(member):
    history(member, 40)
    pages = LedgerPages(member=member, entries=40)
    ledger = member_ledger(member=member)
    assert len(pages) == 40
    for start, stop in ((0, 25), (25, 40), (10, 11), (39, 40)):
        assert [e.pk for e in pages[start:stop]] == [e.pk for e in ledger[start:stop]]
    assert pages[5:5] == []


# --- the summary above both pages -----------------------------------------------------------


def test_the_summary_is_the_balance_the_count_and_the_loyalty_the_other_reads_give(
    member, community
):
    # given a history, a standing in a tier below the top, and badges
    history(member, 30)
    silver = TierFactory(
        community=community, names={"en": "Silver", "ja": "シルバー"}, threshold=50
    )
    TierFactory(community=community, names={"en": "Gold"}, threshold=300, discount_percent=10)
    MemberStandingFactory(member=member, tier=silver, points_counted=120)
    MemberBadgeFactory(member=member, kind=BadgeKind.REFERRAL)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    # when
    with translation.override("ja"):
        summary = member_summary(member=member, language="ja")
        loyalty = member_loyalty(member=member, language="ja")
    # then
    assert summary.balance == member_balance(member=member)
    assert summary.entries == LedgerEntry.objects.filter(member=member).count() == 30
    assert summary.loyalty == loyalty
    assert loyalty.tier == "シルバー" and loyalty.next_tier == "Gold"
    assert loyalty.next_tier_needs == 180 and len(loyalty.badges) == 2


def test_the_summary_of_a_member_with_nothing_yet(member):
    summary = member_summary(member=member, language="en")
    assert (summary.balance, summary.entries) == (0, 0)
    assert summary.loyalty.tier is None and summary.loyalty.badges == []


def test_a_standing_in_a_tier_of_another_community_still_shows_that_tier(member, community):
    # given a standing computed in a tier the member's community does not have
    elsewhere = TierFactory(
        community=CommunityFactory(organisation=community.organisation),
        names={"en": "Elsewhere gold"},
        threshold=10,
        discount_percent=20,
    )
    TierFactory(community=community, names={"en": "Silver"}, threshold=500)
    MemberStandingFactory(member=member, tier=elsewhere, points_counted=100)
    # when
    loyalty = member_summary(member=member, language="en").loyalty
    # then it is shown (and priced) as before, and the next tier is this community's
    assert loyalty.tier == "Elsewhere gold" and loyalty.discount_percent == 20
    assert loyalty.next_tier == "Silver" and loyalty.next_tier_needs == 400


# --- the catalogue --------------------------------------------------------------------------


def catalogue_of(community, member, rewards: int) -> None:
    """`rewards` more rewards of every kind, with codes, stock and the member's redemptions."""
    for n in range(rewards):
        kind = (RewardKind.PERK, RewardKind.VOUCHER, RewardKind.PHYSICAL)[n % 3]
        reward = reward_for(
            community,
            kind=kind,
            cost=10 + n,
            stock=None if kind == RewardKind.VOUCHER else 5,
            per_member_limit=1 if n % 2 else None,
            translations={"th": {"name": f"รางวัล {n}"}},
        )
        if kind == RewardKind.VOUCHER:
            VoucherCodeFactory.create_batch(2, reward=reward)
        RedemptionFactory(member=member, reward=reward, status=RedemptionStatus.APPROVED)


def test_the_catalogue_costs_the_same_queries_for_two_rewards_or_thirty(
    member_client, member, community
):
    # given a tier, a badge, a history and a small catalogue
    tier = TierFactory(community=community, names={"en": "Gold"}, discount_percent=10)
    MemberStandingFactory(member=member, tier=tier, points_counted=500)
    MemberBadgeFactory(member=member)
    history(member, 10)
    catalogue_of(community, member, 2)
    small = queries_of(member_client, url("rewards", community) + "?lang=th")
    # when the catalogue and the history grow
    catalogue_of(community, member, 28)
    history(member, 500, start=10)
    large = queries_of(member_client, url("rewards", community) + "?lang=th")
    # then
    assert len(small) == len(large) <= 9
    page = member_client.get(url("rewards", community))
    assert len(page.context["items"]) == 31  # and the history's tote bag


def test_the_window_is_checked_at_the_moment_the_catalogue_is_read(member, community):
    now = timezone.now()
    reward_for(community, name="Opens now", available_from=now)
    reward_for(community, name="Closes now", available_until=now)
    reward_for(community, name="Open", available_until=now + timedelta(seconds=1))
    names = {
        item.name for item in member_catalogue(member=member, language="en", balance=0, now=now)
    }
    assert names == {"Opens now", "Open"}


@pytest.mark.parametrize("language", ["en", "th", "he", "ja"])
def test_each_cards_words_are_the_ones_the_template_tags_gave(member, community, language):
    # given a tier discount, a limited stock and a reward the member cannot afford
    tier = TierFactory(community=community, discount_percent=10)
    MemberStandingFactory(member=member, tier=tier)
    reward_for(community, name="Mug", cost=100, stock=3)
    reward_for(community, name="One left", cost=1, stock=1)
    old = (
        "{% load i18n %}"
        "{% blocktranslate count n=item.cost %}{{ n }} point{% plural %}{{ n }} points"
        "{% endblocktranslate %}|"
        "{% blocktranslate with cost=item.reward.cost %}your tier price; usually {{ cost }}"
        "{% endblocktranslate %}|"
        "{% blocktranslate count n=item.left %}{{ n }} left{% plural %}{{ n }} left"
        "{% endblocktranslate %}|"
        "{% blocktranslate count n=item.short_by %}You need {{ n }} more point.{% plural %}"
        "You need {{ n }} more points.{% endblocktranslate %}|"
        "{{ item.reward.get_kind_display }}"
    )
    with translation.override(language):
        # when
        items = member_catalogue(member=member, language=language, balance=50, now=timezone.now())
        for item in items:
            cost, usual, left, short_by, kind = (
                Template(old).render(Context({"item": item})).split("|")
            )
            # then
            assert item.cost_text == cost and item.kind_label == kind
            assert item.usual_cost_text == (usual if item.cost != item.reward.cost else "")
            assert item.left_text == left
            assert item.short_by_text == (short_by if item.short_by else "")
