"""The staff approval queue: its filters and pages, and bulk approve and reject. (One
redemption's page and actions: test_staff_redemption_actions.py; the CSV of what to ship:
test_staff_redemption_export.py. Who may open each URL, and another organisation's ids:
tests/rewards/walks/redemptions.py, walked by tests/communities.)
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import MemberStatus, Role
from communities.models import AuditEntry
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.rewards import RewardFactory
from tests.rewards.staff_redemption_helpers import client_as, requested, shown, staff

pytestmark = pytest.mark.django_db


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_starts_on_waiting_requests_with_member_reward_points_and_time(
    staff_client, organisation, community
):
    # given: one request waiting, one already approved
    waiting = requested(
        community,
        member__name="Nok Saetang",
        member__email="nok@example.com",
        reward__name="Tote bag",
    )
    approved = requested(community, status=RedemptionStatus.APPROVED, reward__name="Mug")

    # when
    page = staff_client.get(staff("redemption_list", organisation))

    # then
    body = shown(page)
    assert page.status_code == 200
    assert "Nok Saetang" in body and "nok@example.com" in body and "Tote bag" in body
    assert f'name="ids" value="{waiting.pk}"' in body
    assert staff("redemption_detail", organisation, approved.pk) not in body


def test_the_queue_filters_by_status_reward_community_kind_and_dates(
    staff_client, organisation, community
):
    # given
    other_community = CommunityFactory(organisation=organisation)
    bag = RewardFactory(
        organisation=organisation, community=community, name="Bag", kind=RewardKind.PHYSICAL
    )
    old = requested(community, reward=bag)
    Redemption.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    new_bag = requested(community, reward=bag)
    perk = requested(community, reward__kind=RewardKind.PERK)
    elsewhere = requested(other_community, reward__kind=RewardKind.DONATION)
    rejected = requested(community, reward=bag, status=RedemptionStatus.REJECTED)

    def listed(**query):
        body = shown(staff_client.get(staff("redemption_list", organisation), query))
        return {
            r.pk
            for r in (old, new_bag, perk, elsewhere, rejected)
            if staff("redemption_detail", organisation, r.pk) + '"' in body
        }

    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    # then
    assert listed(reward=bag.pk) == {old.pk, new_bag.pk}
    assert listed(reward=bag.pk, status="all") == {old.pk, new_bag.pk, rejected.pk}
    assert listed(status="rejected") == {rejected.pk}
    assert listed(community=other_community.pk) == {elsewhere.pk}
    assert listed(kind="perk") == {perk.pk}
    assert listed(kind="physical", since=since) == {new_bag.pk}


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"reward": "999999"},
        {"reward": "not-a-number"},
        {"community": "x"},
        {"kind": "rocket"},
        {"since": "yesterday"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"since": "1066-10-14"},
    ],
)
def test_a_bad_filter_shows_an_error_and_no_rows(staff_client, organisation, community, query):
    # given
    requested(community)

    # when
    page = staff_client.get(staff("redemption_list", organisation), query)

    # then
    assert page.status_code == 400
    assert "Correct the filters marked below." in shown(page)
    assert 'name="ids"' not in shown(page)


def test_another_organisations_reward_is_not_a_filter_here(
    staff_client, organisation, other_organisation, community
):
    # given
    theirs = RewardFactory(organisation=other_organisation)

    # when
    page = staff_client.get(staff("redemption_list", organisation), {"reward": theirs.pk})

    # then
    assert page.status_code == 400
    assert theirs.name not in shown(page)


def test_the_queue_pages_keep_the_filters(staff_client, organisation, community):
    # given: more than a page of requests for one reward
    bag = RewardFactory(organisation=organisation, community=community)
    for _ in range(51):
        requested(community, reward=bag)

    # when
    page = staff_client.get(staff("redemption_list", organisation), {"reward": bag.pk})

    # then
    body = shown(page)
    assert f"?reward={bag.pk}&amp;page=2" in body
    assert staff("redemption_export", organisation) + f"?reward={bag.pk}" in body
    assert body.count('name="ids"') == 50


def test_the_queue_query_count_does_not_grow_with_rows(
    staff_client, organisation, community, django_assert_max_num_queries
):
    # given
    for _ in range(30):
        requested(community, reward__kind=RewardKind.PHYSICAL)

    # when
    with django_assert_max_num_queries(10):
        page = staff_client.get(staff("redemption_list", organisation))

    # then
    assert page.status_code == 200
    assert shown(page).count('name="ids"') == 30


def test_an_erased_member_is_shown_as_the_erased_marker(staff_client, organisation, community):
    # given
    member = MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        referral_code="",
        erased_at=timezone.now(),
    )
    requested(community, member=member)

    # when
    body = shown(staff_client.get(staff("redemption_list", organisation)))

    # then
    assert f"Erased member #{member.pk}" in body


def test_an_analyst_reads_the_queue_without_checkboxes_or_the_export(
    client, organisation, community
):
    # given
    requested(community)
    client_as(client, organisation, Role.ANALYST)

    # when
    body = shown(client.get(staff("redemption_list", organisation)))

    # then
    assert 'name="ids"' not in body
    assert staff("redemption_export", organisation) not in body


# --- bulk decisions ---------------------------------------------------------------------------


def decide(client, organisation, ids, action, reason="", **filters):
    return client.post(
        staff("redemption_decide", organisation),
        {"ids": [str(i) for i in ids], "action": action, "reason": reason, **filters},
        follow=True,
    )


def test_bulk_approve_approves_the_ticked_and_says_how_many(
    staff_client, staff_user, organisation, community
):
    # given
    first, second, untouched = (requested(community) for _ in range(3))

    # when
    page = decide(staff_client, organisation, [first.pk, second.pk], "approve")

    # then
    assert "2 approved." in shown(page)
    statuses = dict(Redemption.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == RedemptionStatus.APPROVED
    assert statuses[untouched.pk] == RedemptionStatus.REQUESTED
    assert Redemption.objects.get(pk=first.pk).decided_by == staff_user
    logged = AuditEntry.objects.filter(organisation=organisation, action="redemption.approve")
    assert sorted(int(e.target_id) for e in logged) == sorted([first.pk, second.pk])
    assert logged.first().changes["status"] == ["requested", "approved"]


def test_bulk_reject_returns_the_points_with_the_reason(staff_client, organisation, community):
    # given
    one = requested(community)

    # when
    page = decide(staff_client, organisation, [one.pk], "reject", reason="Out of season")

    # then
    one.refresh_from_db()
    assert "1 rejected." in shown(page)
    assert one.status == RedemptionStatus.REJECTED and one.decision_note == "Out of season"
    assert LedgerEntry.objects.get(reason=LedgerReason.REDEMPTION_RETURN).points == one.points
    entry = AuditEntry.objects.get(action="redemption.reject")
    assert entry.changes["decision_note"] == [None, "Out of season"]


def test_bulk_reject_without_a_reason_changes_nothing(staff_client, organisation, community):
    # given
    one = requested(community)

    # when
    page = decide(staff_client, organisation, [one.pk], "reject", reason="   ")

    # then
    one.refresh_from_db()
    assert "Give a reason for rejecting" in shown(page)
    assert one.status == RedemptionStatus.REQUESTED
    assert not AuditEntry.objects.filter(action__startswith="redemption.").exists()


def test_another_organisations_ids_are_refused_and_never_acted_on(
    staff_client, organisation, other_organisation, community
):
    # given: one of mine and one of theirs, ticked together
    mine = requested(community)
    theirs = requested(CommunityFactory(organisation=other_organisation))

    # when
    page = decide(staff_client, organisation, [mine.pk, theirs.pk], "approve")

    # then
    theirs.refresh_from_db()
    assert theirs.status == RedemptionStatus.REQUESTED and theirs.decided_by is None
    assert Redemption.objects.get(pk=mine.pk).status == RedemptionStatus.APPROVED
    body = shown(page)
    assert "1 approved, 1 could not be:" in body and f"#{theirs.pk}: not found" in body
    assert not AuditEntry.objects.filter(organisation=other_organisation).exists()


def test_one_already_decided_is_reported_and_the_others_go_ahead(
    staff_client, organisation, community
):
    # given: a colleague rejected one a moment ago
    waiting = requested(community)
    decided = requested(community, status=RedemptionStatus.REJECTED)

    # when
    page = decide(staff_client, organisation, [waiting.pk, decided.pk], "approve")

    # then
    body = shown(page)
    assert "1 approved, 1 could not be:" in body
    assert f"#{decided.pk}: This redemption is already rejected." in body
    assert Redemption.objects.get(pk=decided.pk).status == RedemptionStatus.REJECTED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "approve"}, "Tick at least one redemption."),
        ({"action": "approve", "ids": ["one"]}, "Tick redemptions from the list."),
        ({"action": "approve", "ids": ["9" * 30]}, "Tick redemptions from the list."),
        ({"action": "explode", "ids": ["1"]}, "Choose approve or reject."),
        ({"ids": ["1"]}, "Choose approve or reject."),
        ({"action": "reject", "ids": ["1"], "reason": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_a_malformed_decision_changes_nothing_and_says_why(
    staff_client, organisation, community, data, error
):
    # given
    one = requested(community)
    data = {
        k: [str(one.pk) if v == "1" else v for v in v] if k == "ids" else v for k, v in data.items()
    }

    # when
    page = staff_client.post(staff("redemption_decide", organisation), data, follow=True)

    # then
    assert error in shown(page)
    assert Redemption.objects.get(pk=one.pk).status == RedemptionStatus.REQUESTED


def test_too_many_ids_at_once_are_refused(staff_client, organisation, community):
    # given
    one = requested(community)
    ids = [str(one.pk)] + [str(n) for n in range(10_000_000, 10_000_600)]

    # when
    page = decide(staff_client, organisation, ids, "approve")

    # then
    assert "Decide at most 500 redemptions at once." in shown(page)
    assert Redemption.objects.get(pk=one.pk).status == RedemptionStatus.REQUESTED


def test_the_same_id_twice_is_decided_once(staff_client, organisation, community):
    # given
    one = requested(community)

    # when
    page = decide(staff_client, organisation, [one.pk, one.pk], "approve")

    # then
    assert "1 approved." in shown(page)
    assert AuditEntry.objects.filter(action="redemption.approve").count() == 1


def test_after_deciding_the_queue_keeps_its_filters(staff_client, organisation, community):
    # given
    bag = RewardFactory(organisation=organisation, community=community)
    one = requested(community, reward=bag)

    # when
    response = staff_client.post(
        staff("redemption_decide", organisation),
        {"ids": [one.pk], "action": "approve", "reward": bag.pk, "kind": "perk", "evil": "x"},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == (
        staff("redemption_list", organisation) + f"?reward={bag.pk}&kind=perk"
    )


def test_an_analyst_cannot_decide(client, organisation, community):
    # given
    one = requested(community)
    client_as(client, organisation, Role.ANALYST)

    # when
    response = client.post(
        staff("redemption_decide", organisation), {"ids": [one.pk], "action": "approve"}
    )

    # then
    assert response.status_code == 403
    assert Redemption.objects.get(pk=one.pk).status == RedemptionStatus.REQUESTED


def test_decisions_read_in_the_audit_log_by_their_names(client, organisation, community):
    # given: an owner approved a request
    one = requested(community)
    client_as(client, organisation, Role.OWNER)
    decide(client, organisation, [one.pk], "approve")

    # when
    body = shown(client.get(staff("audit_log", organisation)))

    # then
    assert "Redemption approved" in body and f"member #{one.member_id}" in body
