"""The redemption workflow, as a specification.

requested → approved → fulfilled, or rejected / cancelled. Points are held (a debit) at
the request and come back in exactly one compensating entry when the request is rejected
or cancelled; the item (stock or voucher code) is claimed at the request and returned
with the points. The member hears of each step by email, in their language, unless they
asked for no email; a voucher code is never in an email.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from communities.choices import MemberStatus
from communities.outbox.models import OutboundEmail
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward, VoucherCode
from rewards.selectors import member_balance
from rewards.services import (
    RedemptionRefused,
    points_award,
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
    redemptions_decide,
    reward_cost_for,
)
from tests.factories.communities import (
    CommunityFactory,
    EmailSuppressionFactory,
    MemberFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.factories.rewards import (
    MemberStandingFactory,
    RewardFactory,
    TierFactory,
    VoucherCodeFactory,
)

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def funded(member, points=500):
    """The member with `points` earned (one award)."""
    points_award(
        member=member,
        points=points,
        reason=LedgerReason.JOINED,
        source="test",
        idempotency_key=f"test-fund:{member.pk}:{points}",
    )
    return member


def emails(template=None):
    emails = OutboundEmail.objects.order_by("pk")
    return list(emails.filter(template=template) if template else emails)


def returns(redemption):
    return LedgerEntry.objects.filter(
        source=f"rewards.redemption:{redemption.pk}", reason=LedgerReason.REDEMPTION_RETURN
    )


@pytest.fixture
def rich(member):
    return funded(member, 500)


@pytest.fixture
def reward(organisation, community):
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


@pytest.fixture
def staff(staff_user):
    return staff_user


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


# --- emails ----------------------------------------------------------------------------------


def test_emails_are_in_the_members_language_with_the_rewards_name_in_it(community, staff):
    # given: a Thai member and a reward named in Thai
    member = funded(MemberFactory(community=community, locale="th"))
    reward = RewardFactory(
        organisation=community.organisation,
        community=community,
        name="Coffee mug",
        translations={"th": {"name": "แก้วกาแฟ"}},
    )
    # when
    redemption = redemption_request(member=member, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="ขออภัย")
    # then
    requested, rejected = emails()
    for email in (requested, rejected):
        assert email.language == "th"
        assert 'lang="th"' in email.body_html
        assert "แก้วกาแฟ" in email.subject and "แก้วกาแฟ" in email.body_text
    assert "ขออภัย" in rejected.body_html


def test_a_hebrew_members_email_reads_right_to_left(community, reward):
    member = funded(MemberFactory(community=community, locale="he"))
    redemption_request(member=member, reward=reward)
    (email,) = emails()
    assert email.language == "he" and 'dir="rtl"' in email.body_html


def test_each_email_links_to_the_members_redemptions_and_offers_unsubscribe(rich, reward):
    redemption_request(member=rich, reward=reward)
    (email,) = emails()
    org, community = rich.organisation.slug, rich.community.slug
    assert f"/c/{org}/{community}/rewards/redemptions/" in email.body_text
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_staff_words_are_escaped_in_the_html_email(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="<b>no</b> & sorry")
    (email,) = emails("redemption_rejected")
    assert "&lt;b&gt;no&lt;/b&gt; &amp; sorry" in email.body_html
    assert "<b>no</b> & sorry" in email.body_text


def test_a_suppressed_address_gets_no_email_but_still_redeems(rich, reward, organisation, staff):
    # given: the address asked the organisation for no more email
    EmailSuppressionFactory(organisation=organisation, email=rich.email)
    # when
    redemption = redemption_request(member=rich, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    # then
    assert emails() == []
    assert member_balance(member=rich) == 500


def test_a_member_who_unsubscribed_after_asking_gets_no_more_email(rich, reward, staff):
    # given: a request, then the member unsubscribes
    redemption = redemption_request(member=rich, reward=reward)
    type(rich).objects.filter(pk=rich.pk).update(status=MemberStatus.UNSUBSCRIBED)
    # when: staff reject it
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    # then: the points come back, silently
    assert member_balance(member=rich) == 500
    assert [e.template for e in emails()] == ["redemption_requested"]


@pytest.mark.parametrize("kind", [k for k, _label in RewardKind.choices])
def test_every_step_renders_for_every_kind(rich, organisation, community, staff, kind):
    # given: a reward of each kind through a whole approved life
    reward = RewardFactory(organisation=organisation, community=community, kind=kind, stock=None)
    if kind == RewardKind.VOUCHER:
        VoucherCodeFactory(reward=reward, code="SECRET-X")
    redemption = redemption_request(member=rich, reward=reward, shipping_address="1 Main St")
    redemption_approve(redemption=redemption, actor=staff)
    if kind != RewardKind.VOUCHER:
        redemption_fulfil(redemption=redemption, actor=staff, tracking_note="note")
    # then: each email has a subject and both parts, none holding a code
    for email in emails():
        assert email.subject and email.body_text.strip() and email.body_html.strip()
        assert "{%" not in email.body_text and "SECRET" not in email.body_text
        assert reward.name in email.body_text


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
