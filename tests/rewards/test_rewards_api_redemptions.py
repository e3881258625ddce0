"""The rewards API, the redemption queue: list, approve, reject and fulfil, scoped to the
organisation in the URL, every bad input a clear 400 and every conflict a 409."""

import pytest

from communities.choices import Role
from rewards.choices import RedemptionStatus
from rewards.selectors import member_balance
from tests.api.problems import field_errors, problem, refused_fields
from tests.factories.communities import CommunityFactory
from tests.factories.rewards import (
    RedemptionFactory,
    RewardFactory,
    VoucherCodeFactory,
)
from tests.rewards.api_helpers import (
    ids,
    requested,
    role_client,
    url,
)

pytestmark = pytest.mark.django_db


# --- redemptions ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 25])
def test_redemption_list_runs_in_queries_that_do_not_grow_and_never_shows_codes(
    api, organisation, community, count, django_assert_max_num_queries
):
    # given: voucher redemptions whose codes were handed out, and other redemptions
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None
    )
    for n in range(count):
        VoucherCodeFactory(reward=voucher, organisation=organisation, code=f"SECRET-{n}")
    for _ in range(count):
        requested(voucher)
    RedemptionFactory.create_batch(count, member__community=community)
    # when
    with django_assert_max_num_queries(4):
        answer = api.get(url("redemption_list", organisation), {"page_size": 100})
    # then
    assert answer.status_code == 200 and len(answer.json()["results"]) == 2 * count
    assert "SECRET-" not in answer.content.decode()


def test_redemption_list_filters_by_status_reward_member_and_community(
    api, organisation, community
):
    # given
    elsewhere = CommunityFactory(organisation=organisation)
    waiting = RedemptionFactory(member__community=community)
    approved = RedemptionFactory(member__community=community, status=RedemptionStatus.APPROVED)
    rejected = RedemptionFactory(member__community=elsewhere, status=RedemptionStatus.REJECTED)
    listing = url("redemption_list", organisation)
    # when / then
    assert ids(api.get(listing, {"status": "requested"})) == [waiting.pk]
    assert ids(api.get(listing, {"status": ["approved", "rejected"]})) == [approved.pk, rejected.pk]
    assert ids(api.get(listing, {"reward": approved.reward_id})) == [approved.pk]
    assert ids(api.get(listing, {"member": rejected.member_id})) == [rejected.pk]
    assert ids(api.get(listing, {"community": community.pk})) == [waiting.pk, approved.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "done"}, "status"),
        ({"stat": "requested"}, "stat"),
        ({"reward": "x"}, "reward"),
        ({"member": "-1"}, "member"),
        ({"community": "1.5"}, "community"),
        ({"reward": "²"}, "reward"),
    ],
)
def test_redemption_list_refuses_a_filter_it_cannot_apply(api, organisation, query, field):
    answer = api.get(url("redemption_list", organisation), query)

    assert answer.status_code == 400 and field in refused_fields(answer)


def test_redemption_list_refuses_another_organisations_ids_as_not_found(
    api, organisation, other_organisation
):
    foreign = RedemptionFactory(member__community__organisation=other_organisation)
    listing = url("redemption_list", organisation)

    for field, value in (
        ("reward", foreign.reward_id),
        ("member", foreign.member_id),
        ("community", foreign.member.community_id),
    ):
        answer = api.get(listing, {field: value})
        assert answer.status_code == 422, field
        assert "No such" in field_errors(answer)[f"/{field}"][0]


def test_shipping_addresses_are_shown_to_those_who_ship_only(api, organisation, community):
    # given
    parcel = RewardFactory(organisation=organisation, community=community, kind="physical")
    redemption = requested(parcel, address="12 Sukhumvit Rd\nBangkok")
    detail = url("redemption_detail", organisation, redemption.pk)
    # when
    seen = {
        "key": api.get(detail).json()["shipping_address"],
        "admin": role_client(organisation, Role.ADMIN).get(detail).json()["shipping_address"],
        "analyst": role_client(organisation, Role.ANALYST).get(detail).json()["shipping_address"],
    }
    # then
    assert seen == {
        "key": "12 Sukhumvit Rd\nBangkok",
        "admin": "12 Sukhumvit Rd\nBangkok",
        "analyst": None,
    }


def test_staff_approve_a_request_and_are_recorded_as_deciding(
    staff_client, staff_user, organisation, reward
):
    # given
    redemption = requested(reward)
    # when
    answer = staff_client.post(
        url("redemption_approve", organisation, redemption.pk), content_type="application/json"
    )
    # then
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "approved"
    assert answer.json()["decided_by"] == staff_user.email
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.APPROVED and redemption.decided_by == staff_user


def test_approving_a_voucher_hands_the_code_over_without_showing_it(api, organisation, community):
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None
    )
    VoucherCodeFactory(reward=voucher, organisation=organisation, code="ONLY-FOR-THE-MEMBER")
    redemption = requested(voucher)

    answer = api.post(url("redemption_approve", organisation, redemption.pk), {}, format="json")

    assert answer.status_code == 200
    assert answer.json()["status"] == "fulfilled" and answer.json()["decided_by"] is None
    assert "ONLY-FOR-THE-MEMBER" not in answer.content.decode()


def test_approving_twice_is_a_409_that_changes_nothing(api, organisation, reward):
    # given: a request already approved
    redemption = requested(reward)
    first = api.post(url("redemption_approve", organisation, redemption.pk))
    balance = member_balance(member=redemption.member)
    # when
    again = api.post(url("redemption_approve", organisation, redemption.pk))
    # then
    assert first.status_code == 200
    conflict = problem(again, 409)
    assert conflict["code"] == "already_decided" and "approved" in conflict["detail"]
    assert member_balance(member=redemption.member) == balance


def test_rejecting_returns_the_points_and_the_item_and_records_the_reason(
    api, organisation, reward
):
    # given
    redemption = requested(reward)
    member = redemption.member
    # when
    answer = api.post(
        url("redemption_reject", organisation, redemption.pk),
        {"reason": "  Out of stock  "},
        format="json",
    )
    # then
    assert answer.status_code == 200, answer.json()
    assert (
        answer.json()["status"] == "rejected" and answer.json()["decision_note"] == "Out of stock"
    )
    assert member_balance(member=member) == 1000
    reward.refresh_from_db()
    assert reward.stock == 5
    # and rejecting it again is refused without returning the points twice
    again = api.post(
        url("redemption_reject", organisation, redemption.pk), {"reason": "x"}, format="json"
    )
    assert again.status_code == 409
    assert member_balance(member=member) == 1000


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": None},
        {"reason": 42},
        {"reason": "x" * 1001},
        {"reason": "ok", "notify": False},
    ],
    ids=["missing", "empty", "blank", "null", "number", "too long", "unknown field"],
)
def test_rejecting_without_a_proper_reason_is_refused_and_keeps_the_hold(
    api, organisation, reward, body
):
    redemption = requested(reward)

    answer = api.post(url("redemption_reject", organisation, redemption.pk), body, format="json")

    assert answer.status_code == 400, answer.json()
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED
    assert member_balance(member=redemption.member) == 900


def test_fulfilling_an_approved_item_records_the_tracking_note(api, organisation, community):
    parcel = RewardFactory(organisation=organisation, community=community, kind="physical")
    redemption = requested(parcel, address="Tokyo")
    api.post(url("redemption_approve", organisation, redemption.pk))

    answer = api.post(
        url("redemption_fulfil", organisation, redemption.pk),
        {"tracking_note": "EMS EE123TH"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert (
        answer.json()["status"] == "fulfilled" and answer.json()["tracking_note"] == "EMS EE123TH"
    )
    assert answer.json()["fulfilled_at"] is not None


def test_fulfilling_needs_an_approval_first_and_a_sane_note(api, organisation, reward):
    redemption = requested(reward)
    fulfil = url("redemption_fulfil", organisation, redemption.pk)

    early = api.post(fulfil)
    long_note = api.post(fulfil, {"tracking_note": "x" * 1001}, format="json")
    wrong_type = api.post(fulfil, {"tracking_note": ["EMS"]}, format="json")

    assert early.status_code == 409
    assert long_note.status_code == wrong_type.status_code == 400
    assert "tracking_note" in refused_fields(long_note) & refused_fields(wrong_type)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED


def test_another_organisations_redemption_is_404_for_every_route_and_stays_as_it_was(
    api, staff_client, organisation, other_organisation
):
    foreign = RedemptionFactory(member__community__organisation=other_organisation)

    for name in (
        "redemption_detail",
        "redemption_approve",
        "redemption_reject",
        "redemption_fulfil",
    ):
        for caller in (api, staff_client):
            target = url(name, organisation, foreign.pk)
            answer = (
                caller.get(target)
                if name == "redemption_detail"
                else caller.post(target, {"reason": "x"}, format="json")
            )
            assert answer.status_code == 404, (name, answer.status_code)
    foreign.refresh_from_db()
    assert foreign.status == RedemptionStatus.REQUESTED
