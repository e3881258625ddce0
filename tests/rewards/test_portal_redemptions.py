"""The member's side of rewards, redeeming: a confirmation that redeems once, the member's
redemptions, and voucher codes shown only once approved and only to them."""

import re

import pytest

from rewards.choices import RedemptionStatus, RewardKind
from rewards.models import Redemption, Reward
from rewards.selectors import member_balance
from rewards.services import (
    redemption_approve,
    redemption_reject,
    redemption_request,
)
from tests.factories.communities import (
    ConsentRecordFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.rewards import (
    RedemptionFactory,
    VoucherCodeFactory,
)
from tests.rewards.portal_helpers import (
    client_of,
    give,
    reward_for,
    token,
    url,
)

pytestmark = pytest.mark.django_db


# --- redeeming ------------------------------------------------------------------------------


def test_redeem_page_confirms_cost_and_balance_after(member_client, member, community):
    give(member, 150)
    reward = reward_for(community, cost=100, name="Tote bag")
    page = member_client.get(url("reward_redeem", community, reward.pk))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<h1") == 1
    assert 'data-testid="balance-after">50<' in html
    assert 'name="token"' in html and "shipping_address" not in html


def test_redeeming_holds_the_points_and_goes_to_my_redemptions(member_client, member, community):
    # given
    give(member, 150)
    reward = reward_for(community, cost=100, name="Tote bag")
    form = member_client.get(url("reward_redeem", community, reward.pk))
    # when
    page = member_client.post(
        url("reward_redeem", community, reward.pk), {"token": token(form)}, follow=True
    )
    # then
    assert page.redirect_chain[-1][0].startswith(url("redemptions", community))
    html = page.content.decode()
    assert "Your request for Tote bag is in" in html
    (redemption,) = Redemption.objects.all()
    assert redemption.member == member and redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=member) == 50


def test_not_enough_points_says_so_and_redeems_nothing(member_client, member, community):
    # given
    give(member, 30)
    reward = reward_for(community, cost=100)
    # when the page is asked for, and when the POST is sent anyway
    form = member_client.get(url("reward_redeem", community, reward.pk))
    page = member_client.post(url("reward_redeem", community, reward.pk), {"token": "c" * 32})
    # then
    assert "You need 70 more points." in form.content.decode()
    assert 'type="submit"' not in form.content.decode().split("<main", 1)[1].split("</main>")[0]
    assert page.status_code == 400
    assert "You do not have enough points for this reward." in page.content.decode()
    assert not Redemption.objects.exists() and member_balance(member=member) == 30


def test_pressing_confirm_twice_redeems_once(member_client, member, community):
    # given
    give(member, 500)
    reward = reward_for(community, cost=100, stock=5)
    form_token = token(member_client.get(url("reward_redeem", community, reward.pk)))
    # when the same form is sent twice
    first = member_client.post(url("reward_redeem", community, reward.pk), {"token": form_token})
    second = member_client.post(url("reward_redeem", community, reward.pk), {"token": form_token})
    # then
    assert first.status_code == second.status_code == 302
    assert Redemption.objects.count() == 1
    assert member_balance(member=member) == 400
    reward.refresh_from_db()
    assert reward.stock == 4


def test_a_fresh_form_redeems_again(member_client, member, community):
    give(member, 500)
    reward = reward_for(community, cost=100)
    for _ in range(2):
        form_token = token(member_client.get(url("reward_redeem", community, reward.pk)))
        member_client.post(url("reward_redeem", community, reward.pk), {"token": form_token})
    assert Redemption.objects.count() == 2


@pytest.mark.parametrize("bad", ["", "not-a-token", "A" * 32, "a" * 33, "a" * 5000])
def test_a_missing_or_malformed_token_redeems_nothing_and_offers_a_fresh_form(
    member_client, member, community, bad
):
    give(member, 500)
    reward = reward_for(community, cost=100)
    page = member_client.post(url("reward_redeem", community, reward.pk), {"token": bad})
    assert page.status_code == 400
    assert "This form has expired" in page.content.decode()
    assert re.fullmatch(r"[0-9a-f]{32}", token(page))
    assert not Redemption.objects.exists() and member_balance(member=member) == 500


def test_two_members_sending_the_same_token_each_redeem(community):
    # given two members who (by chance or malice) post the same token
    reward = reward_for(community, cost=10)
    members = []
    for _ in range(2):
        user = UserFactory()
        m = MemberFactory(community=community, user=user, email=user.email)
        ConsentRecordFactory(member=m, policy_version=community.policy_version)
        give(m, 10)
        members.append(m)
    # when
    for m in members:
        client_of(m).post(url("reward_redeem", community, reward.pk), {"token": "d" * 32})
    # then each got their own; nobody got someone else's
    assert sorted(Redemption.objects.values_list("member_id", flat=True)) == sorted(
        m.pk for m in members
    )


def test_a_physical_item_needs_an_address_and_holds_nothing_without_one(
    member_client, member, community
):
    # given
    give(member, 200)
    reward = reward_for(community, kind=RewardKind.PHYSICAL, cost=100, stock=3)
    form = member_client.get(url("reward_redeem", community, reward.pk))
    assert 'name="shipping_address"' in form.content.decode()
    assert '<label class="form-label" for="id_shipping_address">' in form.content.decode()
    # when sent empty, blank, or too long
    for address in ("", "   \n  ", "x" * 1001):
        page = member_client.post(
            url("reward_redeem", community, reward.pk),
            {"token": token(form), "shipping_address": address},
        )
        # then the field says what is wrong and nothing is held
        assert page.status_code == 400
        assert 'aria-invalid="true"' in page.content.decode()
    assert not Redemption.objects.exists() and member_balance(member=member) == 200
    reward.refresh_from_db()
    assert reward.stock == 3


def test_a_null_character_in_the_address_is_refused(member_client, member, community):
    give(member, 200)
    reward = reward_for(community, kind=RewardKind.PHYSICAL, cost=100)
    page = member_client.post(
        url("reward_redeem", community, reward.pk),
        {"token": "e" * 32, "shipping_address": "1 Main St\x00"},
    )
    assert page.status_code == 400 and not Redemption.objects.exists()


def test_a_physical_item_ships_to_the_address_given(member_client, member, community):
    give(member, 200)
    reward = reward_for(community, kind=RewardKind.PHYSICAL, cost=100)
    member_client.post(
        url("reward_redeem", community, reward.pk),
        {"token": "f" * 32, "shipping_address": "1 Sukhumvit Rd\nBangkok 10110"},
    )
    (redemption,) = Redemption.objects.all()
    assert redemption.shipping_address == "1 Sukhumvit Rd\nBangkok 10110"


def test_a_refusal_from_the_service_is_shown_on_the_page(member_client, member, community):
    # given the last item goes to someone else between the page and the press
    give(member, 200)
    reward = reward_for(community, cost=100, stock=1)
    form = member_client.get(url("reward_redeem", community, reward.pk))
    Reward.objects.filter(pk=reward.pk).update(stock=0)
    # when
    page = member_client.post(url("reward_redeem", community, reward.pk), {"token": token(form)})
    # then
    assert page.status_code == 400
    assert "Sorry, this reward has just run out." in page.content.decode()
    assert member_balance(member=member) == 200


def test_an_inactive_reward_of_the_community_says_why_it_cannot_be_had(
    member_client, member, community
):
    give(member, 200)
    reward = reward_for(community, cost=100, active=False)
    page = member_client.get(url("reward_redeem", community, reward.pk))
    assert page.status_code == 200
    assert "This reward is no longer offered." in page.content.decode()
    post = member_client.post(url("reward_redeem", community, reward.pk), {"token": "a" * 32})
    assert post.status_code == 400 and not Redemption.objects.exists()


def test_redeem_is_get_or_post_only(member_client, community):
    reward = reward_for(community)
    assert member_client.put(url("reward_redeem", community, reward.pk)).status_code == 405


# --- redemptions and voucher codes ----------------------------------------------------------


def _voucher_redemption(member, community, code="GIFT-7731"):
    give(member, 100)
    reward = reward_for(community, kind=RewardKind.VOUCHER, stock=None, cost=50)
    VoucherCodeFactory(reward=reward, code=code)
    return redemption_request(member=member, reward=reward)


def test_a_voucher_code_is_shown_only_once_approved(member_client, member, community, staff):
    # given a voucher request waiting for approval (its code already set aside)
    redemption = _voucher_redemption(member, community)
    # when / then: not shown while requested
    html = member_client.get(url("redemptions", community)).content.decode()
    assert "GIFT-7731" not in html and "Requested" in html
    # when approved
    redemption_approve(redemption=redemption, actor=staff)
    html = member_client.get(url("redemptions", community)).content.decode()
    # then
    assert 'data-testid="voucher-code">GIFT-7731<' in html


def test_a_rejected_voucher_shows_no_code_but_the_reason(member_client, member, community, staff):
    redemption = _voucher_redemption(member, community)
    redemption_reject(redemption=redemption, actor=staff, reason="Only one per household")
    html = member_client.get(url("redemptions", community)).content.decode()
    assert "GIFT-7731" not in html
    assert "Rejected" in html and "Only one per household" in html
    assert 'data-status="rejected"' in html


def test_a_fulfilled_parcel_shows_its_tracking_note(member_client, member, community):
    reward = reward_for(community, kind=RewardKind.PHYSICAL)
    RedemptionFactory(
        member=member,
        reward=reward,
        status=RedemptionStatus.FULFILLED,
        tracking_note="Thailand Post EF123456789TH",
    )
    html = member_client.get(url("redemptions", community)).content.decode()
    assert "Fulfilled" in html and "EF123456789TH" in html


def test_cancelling_a_request_returns_the_points(member_client, member, community):
    # given
    give(member, 100)
    reward = reward_for(community, cost=60, stock=2)
    redemption = redemption_request(member=member, reward=reward)
    assert member_balance(member=member) == 40
    page = member_client.get(url("redemptions", community))
    assert url("redemption_cancel", community, redemption.pk) in page.content.decode()
    # when
    page = member_client.post(url("redemption_cancel", community, redemption.pk), follow=True)
    # then
    assert "60 points are back in your balance" in page.content.decode()
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert member_balance(member=member) == 100
    reward.refresh_from_db()
    assert reward.stock == 2
    # and cancelling again returns nothing more
    again = member_client.post(url("redemption_cancel", community, redemption.pk), follow=True)
    assert "already" in again.content.decode()
    assert member_balance(member=member) == 100


def test_an_approved_redemption_cannot_be_cancelled_by_the_member(
    member_client, member, community, staff
):
    give(member, 100)
    redemption = redemption_request(member=member, reward=reward_for(community, cost=50))
    redemption_approve(redemption=redemption, actor=staff)
    page = member_client.get(url("redemptions", community))
    assert url("redemption_cancel", community, redemption.pk) not in page.content.decode()
    member_client.post(url("redemption_cancel", community, redemption.pk))
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.APPROVED
    assert member_balance(member=member) == 50


def test_cancel_is_post_only(member_client, member, community):
    redemption = RedemptionFactory(member=member)
    assert member_client.get(url("redemption_cancel", community, redemption.pk)).status_code == 405


def test_redemptions_page_is_paginated_with_flat_queries(
    member_client, member, community, django_assert_max_num_queries
):
    reward = reward_for(community)
    RedemptionFactory.create_batch(25, member=member, reward=reward)
    with django_assert_max_num_queries(12):
        page = member_client.get(url("redemptions", community))
    assert len(page.context["rows"]) == 20
    assert member_client.get(url("redemptions", community) + "?page=2").context["rows"]
    assert member_client.get(url("redemptions", community) + "?page=abc").status_code == 200
