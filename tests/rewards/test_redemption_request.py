"""Asking for a reward, as a specification.

requested → approved → fulfilled, or rejected / cancelled. Points are held (a debit) at
the request and come back in exactly one compensating entry when the request is rejected
or cancelled; the item (stock or voucher code) is claimed at the request and returned
with the points. The member hears of each step by email, in their language, unless they
asked for no email; a voucher code is never in an email.

This file: a request and what it holds, the refusals, and tier discounts. The decisions
are in test_redemption_decisions.py, the emails in test_redemption_emails.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import MemberStatus
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.selectors import member_balance
from rewards.services import (
    RedemptionRefused,
    redemption_reject,
    redemption_request,
    reward_cost_for,
)
from tests.factories.communities import CommunityFactory, MemberFactory, OrganisationFactory
from tests.factories.rewards import MemberStandingFactory, RewardFactory, TierFactory
from tests.rewards.redemption_helpers import emails, funded

pytestmark = pytest.mark.django_db


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def rich(member):
    return funded(member, 500)


@pytest.fixture
def reward(organisation, community):
    """Three left, 100 points each."""
    return RewardFactory(organisation=organisation, community=community, cost=100, stock=3)


# --- request ---------------------------------------------------------------------------------


def test_a_request_holds_the_points_and_one_item(rich, reward):
    # when
    redemption = redemption_request(member=rich, reward=reward)
    # then: waiting for staff, 100 points held by one entry, one item taken
    assert redemption.status == RedemptionStatus.REQUESTED
    assert redemption.points == 100
    assert member_balance(member=rich) == 400
    hold = LedgerEntry.objects.get(reason=LedgerReason.REDEMPTION_HOLD)
    assert hold.points == -100 and hold.detail["reward"] == reward.pk
    reward.refresh_from_db()
    assert reward.stock == 2
    # and the member is told the request arrived
    (email,) = emails("redemption_requested")
    assert email.to_email == rich.email
    assert reward.name in email.subject


def test_a_reward_without_stock_is_unlimited(rich, organisation, community):
    # given: a donation with no stock figure
    reward = RewardFactory(
        organisation=organisation, community=community, stock=None, kind=RewardKind.DONATION
    )
    # when
    redemption_request(member=rich, reward=reward)
    redemption_request(member=rich, reward=reward)
    # then: nothing counted down
    reward.refresh_from_db()
    assert reward.stock is None
    assert Redemption.objects.count() == 2


def test_a_physical_item_asks_for_the_address_and_keeps_it_tidy(rich, organisation, community):
    # given
    reward = RewardFactory(organisation=organisation, community=community, kind="physical")
    # when
    redemption = redemption_request(
        member=rich, reward=reward, shipping_address="  1 Main St  \n  Bangkok 10110 \n"
    )
    # then
    assert redemption.shipping_address == "1 Main St\nBangkok 10110"


def test_an_address_is_not_kept_for_a_reward_that_ships_nothing(rich, reward):
    redemption = redemption_request(member=rich, reward=reward, shipping_address="1 Main St")
    assert redemption.shipping_address == ""


def test_the_same_request_key_redeems_once(rich, reward):
    # given: a double click sends the same form twice
    first = redemption_request(member=rich, reward=reward, request_key="form-1")
    # when
    second = redemption_request(member=rich, reward=reward, request_key="form-1")
    # then: one redemption, one hold, one item
    assert second.pk == first.pk
    assert Redemption.objects.count() == 1
    assert member_balance(member=rich) == 400
    reward.refresh_from_db()
    assert reward.stock == 2


def test_a_long_request_key_still_redeems_once(rich, reward):
    key = "k" * 300
    first = redemption_request(member=rich, reward=reward, request_key=key)
    second = redemption_request(member=rich, reward=reward, request_key=key)
    assert first.pk == second.pk and len(first.request_key) == 64


def test_another_members_request_key_is_refused_not_reused(rich, reward, community):
    # given: another member's redemption holds the key
    other = funded(MemberFactory(community=community))
    redemption_request(member=other, reward=reward, request_key="form-1")
    # when / then: the clash is a refusal, and the first member's redemption is not theirs
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward, request_key="form-1")
    assert refused.value.code == "request_key_taken"
    assert member_balance(member=rich) == 500


def test_the_requests_own_copy_of_the_reward_is_read_again(rich, reward):
    # given: the page read the reward, then staff switched it off
    stale = Reward.objects.get(pk=reward.pk)
    Reward.objects.filter(pk=reward.pk).update(active=False)
    # when / then: the request goes by the reward as it is now
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=stale)
    assert refused.value.code == "inactive"


# --- refusals --------------------------------------------------------------------------------


def _refusal_cases():
    now = timezone.now()
    return {
        "inactive": ({"active": False}, {}),
        "not_yet": ({"available_from": now + timedelta(days=1)}, {}),
        "ended": (
            {"available_from": now - timedelta(days=9), "available_until": now - timedelta(days=1)},
            {},
        ),
        "out_of_stock": ({"stock": 0}, {}),
        "insufficient_points": ({"cost": 501}, {}),
        "address_required": ({"kind": "physical"}, {"shipping_address": " \n "}),
        "address_too_long": ({"kind": "physical"}, {"shipping_address": "x" * 1001}),
        "address_invalid": ({"kind": "physical"}, {"shipping_address": "1 Main\x00St"}),
    }


@pytest.mark.parametrize("code", list(_refusal_cases()))
def test_a_refused_request_says_why_and_writes_nothing(rich, organisation, community, code):
    # given
    fields, kwargs = _refusal_cases()[code]
    reward = RewardFactory(organisation=organisation, community=community, **fields)
    stock = reward.stock
    # when
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward, **kwargs)
    # then: the refusal names its rule, with a message for the member
    assert refused.value.code == code
    assert refused.value.messages[0]
    assert Redemption.objects.count() == 0
    assert member_balance(member=rich) == 500
    assert LedgerEntry.objects.count() == 1
    reward.refresh_from_db()
    assert reward.stock == stock
    assert emails() == []


def test_the_window_includes_its_start_and_excludes_its_end(rich, organisation, community):
    now = timezone.now()
    reward = RewardFactory(
        organisation=organisation,
        community=community,
        available_from=now,
        available_until=now + timedelta(hours=1),
    )
    assert redemption_request(member=rich, reward=reward, now=now)
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward, now=now + timedelta(hours=1))
    assert refused.value.code == "ended"


def test_a_reward_of_another_community_is_refused(rich, organisation):
    # given: a reward of a sibling community in the same organisation
    sibling = CommunityFactory(organisation=organisation)
    reward = RewardFactory(organisation=organisation, community=sibling)
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward)
    assert refused.value.code == "not_found"


def test_a_reward_of_another_organisation_is_refused(rich):
    other = OrganisationFactory()
    reward = RewardFactory(organisation=other, community=CommunityFactory(organisation=other))
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward)
    assert refused.value.code == "not_found"
    assert member_balance(member=rich) == 500


def test_an_organisation_wide_reward_is_offered_to_every_community(rich, organisation):
    reward = RewardFactory(organisation=organisation, community=None)
    assert redemption_request(member=rich, reward=reward).status == RedemptionStatus.REQUESTED


ERASED = {"email": "", "name": "", "referral_code": "", "erased_at": timezone.now()}


@pytest.mark.parametrize(
    "fields",
    [
        {"status": MemberStatus.PENDING},
        {"status": MemberStatus.INVITED},
        {"status": MemberStatus.UNSUBSCRIBED},
        {"status": MemberStatus.ERASED, **ERASED},
    ],
    ids=lambda fields: fields["status"],
)
def test_only_current_members_redeem(community, reward, fields):
    member = funded(MemberFactory(community=community, **fields))
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=member, reward=reward)
    assert refused.value.code == "not_member"


def test_the_per_member_limit_counts_open_and_fulfilled_but_not_returned(
    rich, organisation, community, staff
):
    # given: one per member
    reward = RewardFactory(organisation=organisation, community=community, per_member_limit=1)
    first = redemption_request(member=rich, reward=reward)
    # when / then: a second is refused while the first stands
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=rich, reward=reward)
    assert refused.value.code == "limit_reached"
    # and once the first is rejected, the member may ask again
    redemption_reject(redemption=first, actor=staff, reason="Wrong size")
    assert redemption_request(member=rich, reward=reward).status == RedemptionStatus.REQUESTED


def test_the_limit_is_per_member(rich, organisation, community):
    reward = RewardFactory(organisation=organisation, community=community, per_member_limit=1)
    other = funded(MemberFactory(community=community))
    redemption_request(member=rich, reward=reward)
    assert redemption_request(member=other, reward=reward)


def test_exactly_enough_points_is_enough(community, reward):
    member = funded(MemberFactory(community=community), 100)
    redemption_request(member=member, reward=reward)
    assert member_balance(member=member) == 0


# --- tiers -----------------------------------------------------------------------------------


def test_a_tier_discount_lowers_what_is_held_and_returned(rich, community, reward, staff):
    # given: a gold tier with 25% off, which the member holds
    gold = TierFactory(community=community, discount_percent=25)
    MemberStandingFactory(member=rich, tier=gold)
    # when
    assert reward_cost_for(reward=reward, member=rich) == 75
    redemption = redemption_request(member=rich, reward=reward)
    # then: 75 held, and 75 returned on rejection
    assert redemption.points == 75 and member_balance(member=rich) == 425
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    assert member_balance(member=rich) == 500


def test_a_discount_rounds_up_and_never_makes_a_reward_free(rich, community, organisation):
    MemberStandingFactory(member=rich, tier=TierFactory(community=community, discount_percent=90))
    cheap = RewardFactory(organisation=organisation, community=community, cost=1)
    odd = RewardFactory(organisation=organisation, community=community, cost=15)
    assert reward_cost_for(reward=cheap, member=rich) == 1
    assert reward_cost_for(reward=odd, member=rich) == 2


def test_a_standing_without_a_tier_pays_full_price(rich, reward):
    MemberStandingFactory(member=rich, tier=None)
    assert reward_cost_for(reward=reward, member=rich) == 100
