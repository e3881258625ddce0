"""Staff adjustments: a credit or debit with a reason the member reads and the name of
who made it; a debit never takes a balance below zero; a retried form adjusts once."""

import pytest
from django.core.exceptions import ValidationError

from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from rewards.services import InsufficientPoints, points_adjust, points_award

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(member):
    points_award(
        member=member,
        points=100,
        reason=LedgerReason.JOINED,
        source="test",
        idempotency_key=f"join:{member.pk}",
    )
    return member


def adjust(member, actor, points, note="Goodwill after a delivery problem", key="adj-1"):
    return points_adjust(member=member, points=points, note=note, actor=actor, idempotency_key=key)


def test_a_credit_records_the_reason_and_who_made_it(funded, staff_user):
    # when
    entry, created = adjust(funded, staff_user, 50)
    # then
    assert created
    assert (entry.points, entry.reason) == (50, LedgerReason.ADJUSTMENT)
    assert entry.detail == {"note": "Goodwill after a delivery problem"}
    assert entry.created_by == staff_user and entry.source == f"staff:{staff_user.pk}"
    assert member_balance(member=funded) == 150


def test_a_debit_takes_points_away_with_its_reason(funded, staff_user):
    entry, created = adjust(funded, staff_user, -30, note="Awarded twice by mistake")
    assert created and entry.points == -30
    assert entry.detail["note"] == "Awarded twice by mistake"
    assert member_balance(member=funded) == 70


def test_a_debit_may_take_the_balance_to_exactly_zero(funded, staff_user):
    adjust(funded, staff_user, -100)
    assert member_balance(member=funded) == 0


def test_a_debit_below_zero_is_refused_and_writes_nothing(funded, staff_user):
    with pytest.raises(InsufficientPoints) as refused:
        adjust(funded, staff_user, -101)
    assert refused.value.code == "insufficient_points"
    assert member_balance(member=funded) == 100
    assert not LedgerEntry.objects.filter(reason=LedgerReason.ADJUSTMENT).exists()


@pytest.mark.parametrize("points", [50, -50])
def test_the_same_key_adjusts_once(funded, staff_user, points):
    # given: the form is posted twice (a retry, a double click)
    _, first = adjust(funded, staff_user, points, key="form-7")
    # when
    entry, second = adjust(funded, staff_user, points, key="form-7")
    # then
    assert (first, second) == (True, False)
    assert member_balance(member=funded) == 100 + points
    assert LedgerEntry.objects.filter(idempotency_key="form-7").count() == 1
    assert entry.points == points


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_a_reason_is_required(funded, staff_user, note):
    with pytest.raises(ValidationError) as error:
        adjust(funded, staff_user, 10, note=note)
    assert "note" in error.value.message_dict
    assert member_balance(member=funded) == 100


def test_a_reason_over_500_characters_is_refused(funded, staff_user):
    with pytest.raises(ValidationError) as error:
        adjust(funded, staff_user, 10, note="x" * 501)
    assert "note" in error.value.message_dict
    assert member_balance(member=funded) == 100


def test_a_reason_of_exactly_500_characters_is_kept(funded, staff_user):
    entry, _ = adjust(funded, staff_user, 10, note="x" * 500)
    assert len(entry.detail["note"]) == 500


def test_a_reason_with_a_null_character_is_refused(funded, staff_user):
    with pytest.raises(ValidationError) as error:
        adjust(funded, staff_user, 10, note="ok\x00")
    assert "note" in error.value.message_dict


def test_the_reason_is_tidied_to_one_line(funded, staff_user):
    entry, _ = adjust(funded, staff_user, 10, note="  Sorry\n for   the\twait  ")
    assert entry.detail["note"] == "Sorry for the wait"


@pytest.mark.parametrize("points", [0, 10_000_001, -10_000_001])
def test_zero_or_an_absurd_amount_is_refused(funded, staff_user, points):
    with pytest.raises(ValidationError) as error:
        adjust(funded, staff_user, points)
    assert "points" in error.value.message_dict
    assert member_balance(member=funded) == 100
