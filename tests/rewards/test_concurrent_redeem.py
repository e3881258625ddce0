"""The last items, redeemed by many members at the same moment.

Forty members, each with points to spare, ask for the last ten items at once: each in its
own thread with its own database connection, released together by a barrier. Exactly ten
get one; thirty are told clearly that it ran out (never "database is locked"); the stock
ends at zero and never below; a refused member's points are untouched — nothing held and
left behind. The same for the last ten voucher codes, where no code may go to two members.

Runs on both databases: on PostgreSQL the requests really overlap (row locks and SKIP
LOCKED decide), on SQLite they queue for the one writer (IMMEDIATE transactions with the
busy timeout in config/settings.py), and the outcome must be the same.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from communities.outbox.models import OutboundEmail
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward, VoucherCode
from rewards.selectors import member_balance
from rewards.services import RedemptionRefused, points_award, redemption_request
from tests.factories.communities import MemberFactory
from tests.factories.rewards import RewardFactory, VoucherCodeFactory

MEMBERS = 40
ITEMS = 10
FUNDS = 500
COST = 100

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released together; each returns its result
    or the exception it raised. Each thread opens its own connection and closes it."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


def members_with_points(community, n: int = MEMBERS) -> list:
    members = [MemberFactory(community=community) for _ in range(n)]
    for member in members:
        points_award(
            member=member,
            points=FUNDS,
            reason=LedgerReason.JOINED,
            source="test",
            idempotency_key=f"join:{member.pk}",
        )
    return members


def outcomes_of(results: list[Any]) -> Counter:
    """ "redeemed" or the refusal's code for each caller; anything else fails the test."""
    unexpected = [r for r in results if not isinstance(r, Redemption | RedemptionRefused)]
    assert not unexpected, f"callers got errors instead of an answer: {unexpected[:3]!r}"
    return Counter("redeemed" if isinstance(r, Redemption) else r.code for r in results)


def assert_nothing_left_held(members, results) -> None:
    """The winners paid once; every refused member has exactly what they had."""
    for member, result in zip(members, results, strict=True):
        expected = FUNDS - COST if isinstance(result, Redemption) else FUNDS
        assert member_balance(member=member) == expected, member
    holds = LedgerEntry.objects.filter(reason=LedgerReason.REDEMPTION_HOLD)
    assert holds.count() == ITEMS
    assert holds.aggregate(total=Sum("points"))["total"] == -ITEMS * COST


def test_forty_members_racing_for_the_last_ten_items_get_exactly_ten(community):
    # given: ten items left and forty members who can each afford one
    reward = RewardFactory(
        organisation=community.organisation, community=community, cost=COST, stock=ITEMS
    )
    members = members_with_points(community)
    # when: all forty ask at the same moment
    results = at_once([lambda m=m: redemption_request(member=m, reward=reward) for m in members])
    # then: ten redemptions, thirty clear "it ran out"
    assert outcomes_of(results) == {"redeemed": ITEMS, "out_of_stock": MEMBERS - ITEMS}
    assert Redemption.objects.filter(status=RedemptionStatus.REQUESTED).count() == ITEMS
    assert len({r.member_id for r in results if isinstance(r, Redemption)}) == ITEMS
    # and the stock is exactly zero, never below
    reward.refresh_from_db()
    assert reward.stock == 0
    # and no refused member has points held
    assert_nothing_left_held(members, results)
    # and only the ten who got one were emailed
    assert OutboundEmail.objects.filter(template="redemption_requested").count() == ITEMS


def test_forty_members_racing_for_the_last_ten_codes_never_share_one(community):
    # given: a voucher reward with ten codes left
    reward = RewardFactory(
        organisation=community.organisation,
        community=community,
        kind=RewardKind.VOUCHER,
        cost=COST,
        stock=None,
        auto_approve=True,
    )
    for n in range(ITEMS):
        VoucherCodeFactory(reward=reward, code=f"CODE-{n:02d}")
    members = members_with_points(community)
    # when
    results = at_once([lambda m=m: redemption_request(member=m, reward=reward) for m in members])
    # then: ten redemptions, each with its own code, thirty refusals
    assert outcomes_of(results) == {"redeemed": ITEMS, "out_of_stock": MEMBERS - ITEMS}
    codes = VoucherCode.objects.filter(reward=reward)
    assert codes.filter(redemption__isnull=True).count() == 0
    won = {r.pk for r in results if isinstance(r, Redemption)}
    assert set(codes.values_list("redemption_id", flat=True)) == won
    owners = Redemption.objects.filter(voucher__isnull=False).values_list("member_id", flat=True)
    assert len(set(owners)) == ITEMS
    # and each winner's code was shown at once (auto-approved: fulfilled)
    assert set(Redemption.objects.values_list("status", flat=True)) == {"fulfilled"}
    assert Reward.objects.get(pk=reward.pk).stock is None
    assert_nothing_left_held(members, results)


def test_one_form_sent_eight_times_at_once_redeems_once(community):
    # given: one member whose browser sends the same form eight times
    reward = RewardFactory(
        organisation=community.organisation, community=community, cost=COST, stock=ITEMS
    )
    (member,) = members_with_points(community, 1)
    # when
    results = at_once(
        [
            lambda: redemption_request(member=member, reward=reward, request_key="form-1")
            for _ in range(8)
        ]
    )
    # then: every caller is shown the same redemption; one hold, one item
    assert outcomes_of(results) == {"redeemed": 8}
    assert {r.pk for r in results} == {Redemption.objects.get().pk}
    assert member_balance(member=member) == FUNDS - COST
    assert Reward.objects.get(pk=reward.pk).stock == ITEMS - 1
