"""Points: awarded once per key, balances derived from the ledger, never below zero."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from rewards.services import InsufficientPoints, points_award, points_debit
from tests.factories.communities import MemberFactory


def award(member, points=100, key="k1"):
    return points_award(
        member=member,
        points=points,
        reason=LedgerReason.ADJUSTMENT,
        source="test",
        idempotency_key=key,
    )


def debit(member, points, key):
    return points_debit(
        member=member,
        points=points,
        reason=LedgerReason.REDEMPTION_HOLD,
        source="test",
        idempotency_key=key,
    )


@pytest.mark.django_db
def test_award_with_the_same_key_counts_once():
    member = MemberFactory()
    _, first = award(member)
    _, second = award(member)
    assert (first, second) == (True, False)
    assert member_balance(member=member) == 100


@pytest.mark.django_db
def test_balance_is_the_sum_of_the_ledger():
    member = MemberFactory()
    award(member, 100, "a")
    award(member, 30, "b")
    debit(member, 50, "c")
    assert member_balance(member=member) == 80


@pytest.mark.django_db
def test_debit_below_zero_is_refused_and_writes_nothing():
    member = MemberFactory()
    award(member, 40)
    with pytest.raises(InsufficientPoints):
        debit(member, 41, "d1")
    assert member_balance(member=member) == 40
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("points", [0, -5])
def test_award_and_debit_need_positive_points(points):
    member = MemberFactory()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        award(member, points)
    with pytest.raises(ValidationError):
        debit(member, points, "x")


@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_take_the_balance_below_zero():
    # given: 50 points and eight clients each trying to spend 10 at the same moment
    member = MemberFactory()
    award(member, 50)

    def spend(i: int) -> bool:
        try:
            debit(member, 10, f"spend-{i}")
            return True
        except InsufficientPoints:
            return False
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(spend, range(8)))
    # then: exactly five succeed, and the balance is exactly zero
    assert outcomes.count(True) == 5
    assert member_balance(member=member) == 0
