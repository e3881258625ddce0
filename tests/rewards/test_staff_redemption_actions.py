"""One redemption in the staff pages: its history, and approve, reject, cancel and fulfil.
(Who may open each URL, and another organisation's ids: tests/rewards/walks/redemptions.py,
walked by tests/communities.)
"""

import pytest
from django.utils import timezone

from communities.choices import Role
from communities.models import AuditEntry
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption
from tests.factories.communities import UserFactory
from tests.factories.rewards import VoucherCodeFactory
from tests.rewards.staff_redemption_helpers import client_as, requested, shown, staff

pytestmark = pytest.mark.django_db


# --- one redemption ---------------------------------------------------------------------------


def test_the_page_shows_the_history_with_who_decided_when_and_why(
    staff_client, organisation, community
):
    # given: approved by Ploy, then fulfilled with a tracking note
    decider = UserFactory(name="Ploy Admin")
    one = requested(
        community,
        status=RedemptionStatus.FULFILLED,
        decided_by=decider,
        decided_at=timezone.now(),
        fulfilled_at=timezone.now(),
        tracking_note="Thai Post EF123456789TH",
    )

    # when
    body = shown(staff_client.get(staff("redemption_detail", organisation, one.pk)))

    # then
    assert "Requested" in body and "Approved" in body and "Fulfilled" in body
    assert "Ploy Admin" in body and "EF123456789TH" in body
    assert 'action="' + staff("redemption_approve", organisation, one.pk) not in body


def test_a_rejection_in_the_history_shows_its_reason(staff_client, organisation, community):
    # given
    one = requested(
        community,
        status=RedemptionStatus.REJECTED,
        decided_by=UserFactory(),
        decided_at=timezone.now(),
        decision_note="Address is outside Thailand",
    )

    # when
    body = shown(staff_client.get(staff("redemption_detail", organisation, one.pk)))

    # then
    assert "Rejected" in body and "Address is outside Thailand" in body


def test_admins_see_the_shipping_address_and_analysts_do_not(client, organisation, community):
    # given
    one = requested(
        community,
        reward__kind=RewardKind.PHYSICAL,
        shipping_address="99 Sukhumvit Road\nBangkok 10110",
    )
    url = staff("redemption_detail", organisation, one.pk)

    # when
    as_admin = shown(client_as(client, organisation, Role.ADMIN).get(url))
    as_analyst = shown(client_as(client, organisation, Role.ANALYST).get(url))

    # then
    assert "99 Sukhumvit Road" in as_admin
    assert "Sukhumvit" not in as_analyst and "Shipping address" not in as_analyst
    assert 'action="' + staff("redemption_approve", organisation, one.pk) not in as_analyst


def test_a_voucher_code_is_never_shown_to_staff(staff_client, organisation, community):
    # given: an approved voucher redemption holding its code
    one = requested(
        community,
        reward__kind=RewardKind.VOUCHER,
        status=RedemptionStatus.FULFILLED,
        decided_at=timezone.now(),
        fulfilled_at=timezone.now(),
    )
    VoucherCodeFactory(reward=one.reward, redemption=one, code="SECRET-CODE-777")

    # when
    detail = shown(staff_client.get(staff("redemption_detail", organisation, one.pk)))
    listing = shown(staff_client.get(staff("redemption_list", organisation), {"status": "all"}))
    points = shown(staff_client.get(staff("member_points", organisation, one.member_id)))

    # then
    for body in (detail, listing, points):
        assert "SECRET-CODE-777" not in body


def act(client, name, organisation, redemption, **data):
    return client.post(staff(name, organisation, redemption.pk), data, follow=True)


def test_approve_then_fulfil_with_a_tracking_note(
    staff_client, staff_user, organisation, community
):
    # given
    one = requested(community, reward__kind=RewardKind.PHYSICAL, shipping_address="1 Soi")

    # when
    act(staff_client, "redemption_approve", organisation, one)
    page = act(staff_client, "redemption_fulfil", organisation, one, tracking_note="Kerry KEX123")

    # then
    one.refresh_from_db()
    assert one.status == RedemptionStatus.FULFILLED and one.tracking_note == "Kerry KEX123"
    assert one.decided_by == staff_user and one.fulfilled_at is not None
    assert f"Redemption #{one.pk} is now fulfilled." in shown(page)
    actions = list(
        AuditEntry.objects.filter(target_type="redemption", target_id=str(one.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["redemption.approve", "redemption.fulfil"]


def test_reject_with_a_reason_returns_the_points(staff_client, organisation, community):
    # given
    one = requested(community)

    # when
    act(staff_client, "redemption_reject", organisation, one, reason="Sold out at the store")

    # then
    one.refresh_from_db()
    assert one.status == RedemptionStatus.REJECTED
    assert one.decision_note == "Sold out at the store"
    assert LedgerEntry.objects.filter(
        member=one.member, reason=LedgerReason.REDEMPTION_RETURN, points=one.points
    ).exists()
    assert AuditEntry.objects.get(action="redemption.reject").changes["status"] == [
        "requested",
        "rejected",
    ]


@pytest.mark.parametrize("name", ["redemption_reject", "redemption_cancel"])
@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_reject_or_cancel_without_a_proper_reason_changes_nothing(
    staff_client, organisation, community, name, reason
):
    # given
    one = requested(community)

    # when
    page = act(staff_client, name, organisation, one, reason=reason)

    # then
    one.refresh_from_db()
    assert one.status == RedemptionStatus.REQUESTED
    assert page.redirect_chain[-1][0] == staff("redemption_detail", organisation, one.pk)
    body = shown(page)
    assert "Give a reason" in body or "at most 1000 characters" in body
    assert not LedgerEntry.objects.filter(reason=LedgerReason.REDEMPTION_RETURN).exists()
    assert not AuditEntry.objects.exists()


def test_staff_cancel_an_approved_redemption_with_a_reason(staff_client, organisation, community):
    # given
    one = requested(community, status=RedemptionStatus.APPROVED, decided_at=timezone.now())

    # when
    act(staff_client, "redemption_cancel", organisation, one, reason="Member asked by phone")

    # then
    one.refresh_from_db()
    assert one.status == RedemptionStatus.CANCELLED
    assert one.decision_note == "Member asked by phone"
    assert AuditEntry.objects.get(action="redemption.cancel").target_id == str(one.pk)


@pytest.mark.parametrize(
    ("name", "status", "data"),
    [
        ("redemption_approve", RedemptionStatus.APPROVED, {}),
        ("redemption_approve", RedemptionStatus.REJECTED, {}),
        ("redemption_reject", RedemptionStatus.FULFILLED, {"reason": "late"}),
        ("redemption_cancel", RedemptionStatus.CANCELLED, {"reason": "again"}),
        ("redemption_fulfil", RedemptionStatus.REQUESTED, {"tracking_note": "early"}),
    ],
)
def test_an_action_on_a_redemption_in_the_wrong_state_is_refused(
    staff_client, organisation, community, name, status, data
):
    # given
    one = requested(community, status=status)

    # when
    page = act(staff_client, name, organisation, one, **data)

    # then
    assert f"This redemption is already {status.label.lower()}." in shown(page)
    assert Redemption.objects.get(pk=one.pk).status == status
    assert not AuditEntry.objects.exists()


def test_fulfil_with_an_overlong_tracking_note_changes_nothing(
    staff_client, organisation, community
):
    # given
    one = requested(community, status=RedemptionStatus.APPROVED)

    # when
    page = act(staff_client, "redemption_fulfil", organisation, one, tracking_note="x" * 1001)

    # then
    assert "at most 1000 characters" in shown(page)
    assert Redemption.objects.get(pk=one.pk).status == RedemptionStatus.APPROVED


@pytest.mark.parametrize(
    "name", ["redemption_approve", "redemption_reject", "redemption_cancel", "redemption_fulfil"]
)
def test_the_action_urls_answer_post_only(staff_client, organisation, community, name):
    one = requested(community)
    assert staff_client.get(staff(name, organisation, one.pk)).status_code == 405
