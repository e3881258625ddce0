"""Deciding a redemption, as a specification: approve, fulfil, reject, cancel, in bulk.

requested → approved → fulfilled, or rejected / cancelled. A rejection or cancellation
returns the held points in exactly one compensating entry, and the item with them; a
voucher code once shown is never handed to anyone else.
"""

import pytest
from django.core.exceptions import ValidationError

from rewards.choices import RedemptionStatus, RewardKind
from rewards.models import Redemption, Reward, VoucherCode
from rewards.selectors import member_balance
from rewards.services import (
    RedemptionRefused,
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
    redemptions_decide,
)
from tests.factories.communities import MemberFactory, UserFactory
from tests.factories.rewards import RewardFactory, VoucherCodeFactory
from tests.rewards.redemption_helpers import emails, funded, returns

pytestmark = pytest.mark.django_db


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def rich(member):
    return funded(member, 500)


@pytest.fixture
def reward(organisation, community):
    """Three left, 100 points each."""
    return RewardFactory(organisation=organisation, community=community, cost=100, stock=3)


@pytest.fixture
def voucher(organisation, community):
    reward = RewardFactory(
        organisation=organisation,
        community=community,
        kind=RewardKind.VOUCHER,
        stock=None,
        cost=100,
    )
    for code in ("SECRET-AAA-111", "SECRET-BBB-222"):
        VoucherCodeFactory(reward=reward, code=code)
    return reward


# --- approve, fulfil -------------------------------------------------------------------------


def test_approve_then_fulfil_with_a_tracking_note(rich, organisation, community, staff):
    # given: a parcel to ship
    reward = RewardFactory(organisation=organisation, community=community, kind="physical")
    redemption = redemption_request(member=rich, reward=reward, shipping_address="1 Main St")
    # when
    redemption_approve(redemption=redemption, actor=staff)
    # then
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.APPROVED
    assert redemption.decided_by == staff and redemption.decided_at
    assert emails("redemption_approved")
    # when: it is posted
    redemption_fulfil(redemption=redemption, actor=staff, tracking_note=" TH123456789 ")
    # then: the points stay spent and the member gets the tracking note
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED
    assert redemption.fulfilled_at and redemption.tracking_note == "TH123456789"
    assert member_balance(member=rich) == 400
    (email,) = emails("redemption_fulfilled")
    assert "TH123456789" in email.body_text and "TH123456789" in email.body_html


def test_only_an_approved_redemption_is_fulfilled(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    with pytest.raises(RedemptionRefused) as refused:
        redemption_fulfil(redemption=redemption, actor=staff)
    assert refused.value.code == "already_decided"


def test_a_tracking_note_too_long_or_with_a_null_is_refused(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    for note in ("x" * 1001, "a\x00b"):
        with pytest.raises(ValidationError) as error:
            redemption_fulfil(redemption=redemption, actor=staff, tracking_note=note)
        assert "tracking_note" in error.value.message_dict
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.APPROVED


def test_approving_twice_is_refused(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    with pytest.raises(RedemptionRefused) as refused:
        redemption_approve(redemption=redemption, actor=staff)
    assert refused.value.code == "already_decided"
    assert len(emails("redemption_approved")) == 1


def test_auto_approve_skips_the_queue(rich, organisation, community):
    reward = RewardFactory(organisation=organisation, community=community, auto_approve=True)
    redemption = redemption_request(member=rich, reward=reward)
    assert redemption.status == RedemptionStatus.APPROVED
    assert redemption.decided_by is None and redemption.decided_at
    # one email: approved (no "we received it" before it)
    assert [e.template for e in emails()] == ["redemption_approved"]


def test_voucher_request_claims_a_code_and_approval_reveals_it(rich, voucher, staff):
    # when
    redemption = redemption_request(member=rich, reward=voucher)
    # then: one code is set aside for the redemption, none handed to anyone else
    code = VoucherCode.objects.get(redemption=redemption)
    assert code.code == "SECRET-AAA-111" and code.assigned_at
    assert VoucherCode.objects.filter(redemption__isnull=True).count() == 1
    # when: staff approve, the code is delivered by being shown: nothing left to fulfil
    redemption_approve(redemption=redemption, actor=staff)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED and redemption.fulfilled_at
    # and the email says where to find it, but never holds it
    (email,) = emails("redemption_approved")
    for text in (email.subject, email.body_text, email.body_html, str(email.context)):
        assert "SECRET" not in text
    assert "/rewards/redemptions/" in email.body_text


def test_an_auto_approved_voucher_is_fulfilled_at_once(rich, voucher):
    Reward.objects.filter(pk=voucher.pk).update(auto_approve=True)
    redemption = redemption_request(member=rich, reward=voucher)
    assert redemption.status == RedemptionStatus.FULFILLED
    assert redemption.voucher.code == "SECRET-AAA-111"


def test_no_code_left_is_out_of_stock(community, voucher):
    # given: two codes, three members
    members = [funded(MemberFactory(community=community)) for _ in range(3)]
    redemption_request(member=members[0], reward=voucher)
    redemption_request(member=members[1], reward=voucher)
    # when / then
    with pytest.raises(RedemptionRefused) as refused:
        redemption_request(member=members[2], reward=voucher)
    assert refused.value.code == "out_of_stock"
    assert member_balance(member=members[2]) == 500
    assert Redemption.objects.count() == 2


# --- reject, cancel --------------------------------------------------------------------------


def test_reject_returns_the_points_and_the_item_once(rich, reward, staff):
    # given
    redemption = redemption_request(member=rich, reward=reward)
    # when
    redemption_reject(redemption=redemption, actor=staff, reason="  Out of season  ")
    # then: one compensating entry, the item back on the shelf
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REJECTED
    assert redemption.decision_note == "Out of season" and redemption.decided_by == staff
    assert member_balance(member=rich) == 500
    assert [e.points for e in returns(redemption)] == [100]
    reward.refresh_from_db()
    assert reward.stock == 3
    # and the member reads why
    (email,) = emails("redemption_rejected")
    assert "Out of season" in email.body_text


def test_rejecting_twice_is_refused_and_returns_nothing_more(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    for decide in (
        lambda: redemption_reject(redemption=redemption, actor=staff, reason="No again"),
        lambda: redemption_cancel(redemption=redemption, actor=staff),
        lambda: redemption_cancel(redemption=redemption),
        lambda: redemption_approve(redemption=redemption, actor=staff),
    ):
        with pytest.raises(RedemptionRefused) as refused:
            decide()
        assert refused.value.code == "already_decided"
    assert member_balance(member=rich) == 500
    assert returns(redemption).count() == 1
    reward.refresh_from_db()
    assert reward.stock == 3


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001, "bad\x00reason"])
def test_reject_needs_a_reason_the_member_can_read(rich, reward, staff, reason):
    redemption = redemption_request(member=rich, reward=reward)
    with pytest.raises(ValidationError) as error:
        redemption_reject(redemption=redemption, actor=staff, reason=reason)
    assert "reason" in error.value.message_dict
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=rich) == 400


def test_an_approved_item_can_still_be_rejected_before_it_ships(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    redemption_reject(redemption=redemption, actor=staff, reason="Damaged in the stockroom")
    assert member_balance(member=rich) == 500


def test_a_fulfilled_redemption_is_never_given_back(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    redemption_fulfil(redemption=redemption, actor=staff)
    with pytest.raises(RedemptionRefused):
        redemption_reject(redemption=redemption, actor=staff, reason="Too late")
    with pytest.raises(RedemptionRefused):
        redemption_cancel(redemption=redemption, actor=staff)
    assert member_balance(member=rich) == 400


def test_a_rejected_voucher_request_puts_its_unseen_code_back(rich, voucher, staff, community):
    # given: a request holding the first code
    redemption = redemption_request(member=rich, reward=voucher)
    # when
    redemption_reject(redemption=redemption, actor=staff, reason="Duplicate account")
    # then: the code was never shown, so the next member gets it
    other = funded(MemberFactory(community=community))
    again = redemption_request(member=other, reward=voucher)
    assert again.voucher.code == "SECRET-AAA-111"


def test_a_code_that_was_shown_never_goes_to_another_member(rich, voucher, staff, community):
    # given: a voucher redemption in the approved state (shown to the member) that staff
    # then withdraw — the state a future "approve without fulfilling" would leave
    redemption = redemption_request(member=rich, reward=voucher)
    Redemption.objects.filter(pk=redemption.pk).update(status=RedemptionStatus.APPROVED)
    # when
    redemption_reject(redemption=redemption, actor=staff, reason="Fraud")
    # then: the points come back but the code stays burnt
    assert member_balance(member=rich) == 500
    assert VoucherCode.objects.get(code="SECRET-AAA-111").redemption_id == redemption.pk
    other = funded(MemberFactory(community=community))
    assert redemption_request(member=other, reward=voucher).voucher.code == "SECRET-BBB-222"


def test_the_member_cancels_a_request_still_waiting(rich, reward):
    # given
    redemption = redemption_request(member=rich, reward=reward)
    # when: the member withdraws it (no actor)
    redemption_cancel(redemption=redemption)
    # then: points and item back; no email about what they just did themselves
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert redemption.decided_by is None
    assert member_balance(member=rich) == 500
    reward.refresh_from_db()
    assert reward.stock == 3
    assert emails("redemption_cancelled") == []


def test_the_member_cannot_cancel_once_approved(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    with pytest.raises(RedemptionRefused) as refused:
        redemption_cancel(redemption=redemption)
    assert refused.value.code == "already_decided"
    assert member_balance(member=rich) == 400


def test_staff_cancel_an_approved_redemption_and_the_member_is_told(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_approve(redemption=redemption, actor=staff)
    redemption_cancel(redemption=redemption, actor=staff, reason="Supplier closed")
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED and redemption.decided_by == staff
    assert member_balance(member=rich) == 500
    (email,) = emails("redemption_cancelled")
    assert "Supplier closed" in email.body_text


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_reject_with_one_already_decided_does_the_rest(community, reward, staff):
    # given: three requests; a colleague already approved the second
    members = [funded(MemberFactory(community=community)) for _ in range(3)]
    redemptions = [redemption_request(member=m, reward=reward) for m in members]
    redemption_approve(redemption=redemptions[1], actor=UserFactory())
    Redemption.objects.filter(pk=redemptions[1].pk).update(status=RedemptionStatus.FULFILLED)
    # when
    done, refused = redemptions_decide(
        redemptions=redemptions, action="reject", actor=staff, reason="Season over"
    )
    # then: two rejected and refunded, the decided one reported and untouched
    assert [r.pk for r in done] == [redemptions[0].pk, redemptions[2].pk]
    assert [(r.pk, bool(why)) for r, why in refused] == [(redemptions[1].pk, True)]
    assert [member_balance(member=m) for m in members] == [500, 400, 500]
    assert Redemption.objects.get(pk=redemptions[1].pk).status == RedemptionStatus.FULFILLED


def test_bulk_approve(community, reward, staff):
    members = [funded(MemberFactory(community=community)) for _ in range(2)]
    redemptions = [redemption_request(member=m, reward=reward) for m in members]
    done, refused = redemptions_decide(redemptions=redemptions, action="approve", actor=staff)
    assert len(done) == 2 and refused == []
    assert set(Redemption.objects.values_list("status", flat=True)) == {"approved"}


def test_bulk_reject_without_a_reason_decides_nothing(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    with pytest.raises(ValidationError):
        redemptions_decide(redemptions=[redemption], action="reject", actor=staff, reason=" ")
    with pytest.raises(ValueError):
        redemptions_decide(redemptions=[redemption], action="delete", actor=staff)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED
