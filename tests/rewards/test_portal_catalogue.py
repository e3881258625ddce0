"""The member's side of rewards, the catalogue: who may see the portal pages, the catalogue
as this member sees it (cost, stock, limits, tier and badges), in every language."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from communities.choices import MemberStatus
from rewards.choices import BadgeKind, LedgerReason, RedemptionStatus, RewardKind
from rewards.models import Redemption, Reward
from rewards.selectors import member_catalogue
from rewards.services import (
    redemption_request,
    reward_cost_for,
)
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.factories.rewards import (
    MemberBadgeFactory,
    MemberStandingFactory,
    RedemptionFactory,
    RewardFactory,
    TierFactory,
    VoucherCodeFactory,
)
from tests.rewards.portal_helpers import (
    PAGES,
    give,
    home,
    reward_for,
    url,
)

pytestmark = pytest.mark.django_db


# --- who may see the pages ------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_each_page_answers_a_member_of_the_community(member_client, community, name):
    page = member_client.get(url(name, community))
    assert page.status_code == 200
    assert page.content.decode().count("<h1") == 1


@pytest.mark.parametrize("name", PAGES)
def test_a_visitor_is_sent_to_sign_in(client, community, name):
    page = client.get(url(name, community))
    assert page.status_code == 302 and "/accounts/login/code/" in page["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_a_signed_in_outsider_is_sent_to_the_community_home(community, name):
    # given a user who is no member of this community
    stranger = Client()
    stranger.force_login(UserFactory())
    # when / then
    page = stranger.get(url(name, community))
    assert page.status_code == 302 and page["Location"] == home(community)


@pytest.mark.parametrize("name", PAGES)
def test_a_member_of_another_community_cannot_use_this_ones_pages(
    member_client, organisation, name
):
    other = CommunityFactory(organisation=organisation)
    page = member_client.get(url(name, other))
    assert page.status_code == 302 and page["Location"] == home(other)


def test_a_member_who_left_cannot_redeem(member_client, member, community):
    # given
    reward = reward_for(community, cost=10)
    give(member, 50)
    member.status = MemberStatus.UNSUBSCRIBED
    member.save()
    # when
    page = member_client.post(url("reward_redeem", community, reward.pk), {"token": "a" * 32})
    # then
    assert page.status_code == 302 and page["Location"] == home(community)
    assert not Redemption.objects.exists()


def test_a_reward_of_another_organisation_or_community_is_404(member_client, member, community):
    # given rewards the member's community does not offer
    foreign = RewardFactory(organisation=OrganisationFactory())
    sibling = reward_for(CommunityFactory(organisation=community.organisation))
    give(member, 1000)
    for reward in (foreign, sibling):
        # when / then: neither the page nor the POST reveals or redeems it
        assert member_client.get(url("reward_redeem", community, reward.pk)).status_code == 404
        page = member_client.post(url("reward_redeem", community, reward.pk), {"token": "b" * 32})
        assert page.status_code == 404
    assert member_client.get(url("reward_redeem", community, 999999)).status_code == 404
    assert not Redemption.objects.exists()


def test_an_organisation_wide_reward_is_offered_to_every_community(
    member_client, member, community
):
    everywhere = RewardFactory(organisation=community.organisation, community=None, name="Mug")
    page = member_client.get(url("rewards", community))
    assert "Mug" in page.content.decode()
    assert member_client.get(url("reward_redeem", community, everywhere.pk)).status_code == 200


def test_another_members_redemption_cannot_be_seen_or_cancelled(member_client, member, community):
    # given another member's approved voucher redemption in the same community
    other = MemberFactory(community=community)
    code = VoucherCodeFactory(
        reward=reward_for(community, kind=RewardKind.VOUCHER, stock=None), code="SECRET-42"
    )
    theirs = RedemptionFactory(member=other, reward=code.reward, status=RedemptionStatus.FULFILLED)
    code.redemption = theirs
    code.save()
    # when
    page = member_client.get(url("redemptions", community))
    cancel = member_client.post(url("redemption_cancel", community, theirs.pk))
    # then
    assert "SECRET-42" not in page.content.decode()
    assert cancel.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RedemptionStatus.FULFILLED


# --- the catalogue --------------------------------------------------------------------------


def test_catalogue_shows_cost_affordability_stock_limit_balance_tier_and_badges(
    member_client, member, community, django_assert_max_num_queries
):
    # given 120 points, a tier with 10% off, a badge, and rewards in every state
    give(member, 120)
    tier = TierFactory(community=community, names={"en": "Gold"}, discount_percent=10)
    MemberStandingFactory(member=member, tier=tier, points_counted=500)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    reward_for(community, name="Tote bag", cost=100)
    reward_for(community, name="Headphones", cost=500)
    reward_for(community, name="Sold out mug", cost=10, stock=0)
    limited = reward_for(community, name="Once only", cost=10, per_member_limit=1)
    RedemptionFactory(member=member, reward=limited, points=10)
    reward_for(community, name="Hidden", active=False)
    reward_for(community, name="Later", available_from=timezone.now() + timedelta(days=1))
    reward_for(community, name="Over", available_until=timezone.now() - timedelta(days=1))
    # when
    with django_assert_max_num_queries(15):
        page = member_client.get(url("rewards", community))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="rewards-balance">120<' in html
    assert "Gold" in html and "10% off every reward" in html and "First survey" in html
    assert "Tote bag" in html and "90 points" in html
    assert "You need 330 more points." in html
    assert "Out of stock" in html and 'data-testid="limit-reached"' in html
    for hidden in ("Hidden", "Later", "Over"):
        assert hidden not in html
    # the redeem button is there only for what the member can have
    items = {item.name: item for item in page.context["items"]}
    assert items["Tote bag"].can_redeem
    assert not items["Headphones"].can_redeem
    assert not items["Sold out mug"].can_redeem and items["Sold out mug"].out_of_stock
    assert not items["Once only"].can_redeem and items["Once only"].limit_reached


def test_catalogue_cost_is_the_same_as_the_redemption_service_charges(member, community):
    # given a tier discount that does not divide evenly
    tier = TierFactory(community=community, discount_percent=15)
    MemberStandingFactory(member=member, tier=tier)
    rewards = [reward_for(community, cost=cost) for cost in (1, 7, 33, 101)]
    # when
    items = member_catalogue(member=member, language="en", balance=0, now=timezone.now())
    # then
    charged = {r.pk: reward_cost_for(reward=r, member=member) for r in rewards}
    assert {item.reward.pk: item.cost for item in items} == charged


def test_catalogue_shows_a_voucher_rewards_codes_left(member_client, member, community):
    reward = reward_for(community, kind=RewardKind.VOUCHER, stock=None, name="Coffee voucher")
    VoucherCodeFactory.create_batch(3, reward=reward)
    empty = reward_for(community, kind=RewardKind.VOUCHER, stock=None, name="Gone voucher")
    page = member_client.get(url("rewards", community))
    items = {item.name: item for item in page.context["items"]}
    assert items["Coffee voucher"].left == 3 and not items["Coffee voucher"].out_of_stock
    assert items[empty.name].out_of_stock


def test_catalogue_speaks_the_members_language_and_shows_the_image(
    member_client, member, community
):
    reward = reward_for(
        community,
        name="Tote bag",
        description="Sturdy cotton",
        translations={"ja": {"name": "トートバッグ", "description": "丈夫な綿"}},
    )
    Reward.objects.filter(pk=reward.pk).update(image="rewards/1/1-abc.png")
    html = member_client.get(url("rewards", community) + "?lang=ja").content.decode()
    assert "トートバッグ" in html and "丈夫な綿" in html and "Tote bag" not in html
    assert "rewards/1/1-abc.png" in html


# --- languages and direction ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_every_page_renders_in_each_language(member_client, member, community, staff, language):
    # given something on every page
    give(member, 500, reason=LedgerReason.JOINED)
    reward = reward_for(community, kind=RewardKind.PHYSICAL, cost=100)
    redemption_request(member=member, reward=reward, shipping_address="1 Main St")
    TierFactory(community=community, names={"en": "Gold"})
    MemberBadgeFactory(member=member)
    pages = [url(name, community) for name in PAGES]
    pages.append(url("reward_redeem", community, reward.pk))
    for address in pages:
        # when
        page = member_client.get(f"{address}?lang={language}")
        # then
        html = page.content.decode()
        assert page.status_code == 200, address
        assert f'<html lang="{language}"' in html
        assert ('dir="rtl"' in html) == (language == "he")
        assert html.count("<h1") == 1


def test_the_members_own_language_is_used_without_lang(member_client, member, community):
    member.locale = "he"
    member.save()
    html = member_client.get(url("rewards", community)).content.decode()
    assert 'dir="rtl"' in html
