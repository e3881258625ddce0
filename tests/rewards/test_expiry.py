"""Points expire after the community's months without activity: the whole balance, once
per inactivity, never below zero; members are warned, then given a last chance, by email."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from communities.choices import MemberStatus
from communities.models import EmailSuppression
from communities.outbox.models import OutboundEmail
from communities.services import member_lock
from rewards.choices import ExpiryNoticeKind, LedgerReason, RedemptionStatus
from rewards.models import ExpiryNotice, LedgerEntry
from rewards.selectors import member_balance
from rewards.services import points_expire, points_expiry_notify
from rewards.services.expiry import months_shift
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.rewards import LedgerEntryFactory, RedemptionFactory, RewardsPolicyFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)  # more than 12 months before NOW
RECENTLY = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def community():
    community = CommunityFactory()
    RewardsPolicyFactory(community=community, expiry_months=12)
    return community


def member_with(community, *points, last_active=LONG_AGO, **fields):
    member = MemberFactory(community=community, last_active_at=last_active, **fields)
    for amount in points:
        LedgerEntryFactory(member=member, points=amount, created_at=last_active or LONG_AGO)
    return member


def expiries(member):
    return list(LedgerEntry.objects.filter(member=member, reason=LedgerReason.EXPIRED))


# --- months -------------------------------------------------------------------------------


def test_months_shift_keeps_the_day_or_takes_the_month_end():
    def day(y, m, d):
        return datetime(y, m, d, tzinfo=UTC)

    assert months_shift(day(2025, 3, 31), -1) == day(2025, 2, 28)
    assert months_shift(day(2025, 1, 15), -13) == day(2023, 12, 15)
    assert months_shift(day(2024, 11, 30), 3) == day(2025, 2, 28)


# --- expiry -------------------------------------------------------------------------------


def test_expire_takes_the_whole_balance_of_a_member_inactive_past_the_policy(community):
    # given: 100 + 50 - 30 earned and spent, nothing done for 13 months
    member = member_with(community, 100, 50, -30)
    # when
    written = points_expire(now=NOW)
    # then: one entry of -120 that names the months and the last active day
    assert written == 1
    (entry,) = expiries(member)
    assert entry.points == -120
    assert entry.detail == {"months": 12, "last_active": "2024-05-01"}
    assert entry.idempotency_key == f"expiry:{member.pk}:2024-05-01:3"
    assert entry.organisation_id == member.organisation_id
    assert entry.created_at == NOW
    assert member_balance(member=member) == 0


def test_expire_twice_expires_nothing_more(community):
    # given: an expired member
    member = member_with(community, 80)
    points_expire(now=NOW)
    # when: the daily task runs again, a day later
    written = points_expire(now=NOW + timedelta(days=1))
    # then
    assert written == 0
    assert len(expiries(member)) == 1
    assert member_balance(member=member) == 0


def test_expire_leaves_active_members_and_members_without_points_alone(community):
    # given
    active = member_with(community, 100, last_active=RECENTLY)
    empty = member_with(community, 100, -100)
    never_earned = member_with(community)
    # when
    written = points_expire(now=NOW)
    # then
    assert written == 0
    assert member_balance(member=active) == 100
    assert not LedgerEntry.objects.filter(reason=LedgerReason.EXPIRED).exists()
    assert member_balance(member=empty) == 0 and member_balance(member=never_earned) == 0


def test_expire_touches_no_community_without_an_expiry_policy():
    # given: one community with no policy, one whose policy says points never expire
    no_policy = CommunityFactory()
    never = CommunityFactory()
    RewardsPolicyFactory(community=never, expiry_months=None)
    first = member_with(no_policy, 100)
    second = member_with(never, 100)
    # when
    assert points_expire(now=NOW) == 0
    # then
    assert member_balance(member=first) == 100 and member_balance(member=second) == 100


def test_expire_counts_from_joining_or_creation_when_a_member_was_never_active(community):
    # given: never active, joined 13 months ago; and one with neither time (an import)
    joined = member_with(community, 40, last_active=None, joined_at=LONG_AGO)
    imported = member_with(community, 60, last_active=None, joined_at=None)
    imported.created_at = LONG_AGO
    imported.save(update_fields=["created_at"])
    fresh = member_with(community, 70, last_active=None, joined_at=RECENTLY)
    # when
    assert points_expire(now=NOW) == 2
    # then
    assert expiries(joined)[0].detail["last_active"] == "2024-05-01"
    assert expiries(imported)[0].points == -60
    assert member_balance(member=fresh) == 70


def test_points_returned_after_expiry_to_a_member_still_away_expire_too(community):
    # given: expired once, then a redemption refused while they stay away returns 40
    member = member_with(community, 100)
    points_expire(now=NOW)
    LedgerEntryFactory(member=member, points=40, reason=LedgerReason.REDEMPTION_RETURN)
    # when: the next daily runs
    first, second = points_expire(now=NOW + timedelta(days=1)), points_expire(now=NOW)
    # then: the returned points expire once, under a key of their own
    assert (first, second) == (1, 0)
    assert sorted(e.points for e in expiries(member)) == [-100, -40]
    assert member_balance(member=member) == 0


def test_a_member_active_again_then_inactive_again_expires_again(community):
    # given: expired once
    member = member_with(community, 100)
    points_expire(now=NOW)
    # when: they come back, earn, and go quiet for another 13 months
    back = NOW + timedelta(days=10)
    member.last_active_at = back
    member.save(update_fields=["last_active_at"])
    LedgerEntryFactory(member=member, points=25, created_at=back)
    assert points_expire(now=NOW + timedelta(days=200)) == 0
    assert points_expire(now=back + timedelta(days=400)) == 1
    # then: a second entry, under the new day's key
    keys = sorted(e.idempotency_key for e in expiries(member))
    assert keys == [f"expiry:{member.pk}:2024-05-01:1", f"expiry:{member.pk}:2025-06-25:3"]
    assert member_balance(member=member) == 0


def test_points_held_by_a_redemption_stay_held_and_come_back_above_zero(community):
    # given: 300 points, 100 of them held by a redemption still waiting for staff
    member = member_with(community, 300)
    redemption = RedemptionFactory(member=member, points=100, status=RedemptionStatus.REQUESTED)
    LedgerEntryFactory(
        member=member, points=-100, reason=LedgerReason.REDEMPTION_HOLD, created_at=LONG_AGO
    )
    # when
    points_expire(now=NOW)
    # then: only the free 200 expire
    assert expiries(member)[0].points == -200
    assert member_balance(member=member) == 0
    # and when staff reject it later, the held points come back and nothing goes negative
    LedgerEntryFactory(
        member=member,
        points=100,
        reason=LedgerReason.REDEMPTION_RETURN,
        source=f"rewards.redemption:{redemption.pk}",
    )
    assert member_balance(member=member) == 100


def test_a_member_with_3000_entries_expires_to_exactly_zero(community):
    # given: a long history of awards and spending
    member = MemberFactory(community=community, last_active_at=LONG_AGO)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            organisation_id=member.organisation_id,
            member=member,
            points=-3 if n % 3 == 2 else 5,
            reason=LedgerReason.ADJUSTMENT,
            idempotency_key=f"history-{n}",
            created_at=LONG_AGO - timedelta(minutes=n),
        )
        for n in range(3000)
    )
    expected = LedgerEntry.objects.filter(member=member).aggregate(t=Sum("points"))["t"]
    # when
    points_expire(now=NOW)
    # then
    assert expiries(member)[0].points == -expected
    assert member_balance(member=member) == 0


def test_expire_runs_a_few_statements_per_batch_not_per_member(
    community, django_assert_max_num_queries
):
    # given: 40 inactive members in two batches
    members = [member_with(community, 10 + n) for n in range(40)]
    # when: per batch the inactive ids, who holds points, their locks, their balances
    # under the locks and one INSERT (+ a savepoint here inside the test's transaction)
    with django_assert_max_num_queries(1 + 2 * 7):
        written = points_expire(now=NOW, batch=25)
    # then
    assert written == 40
    assert all(member_balance(member=m) == 0 for m in members)


def test_no_balance_goes_below_zero_across_many_members(community):
    # given: members with every shape of history
    histories = [(100,), (100, -100), (5, -3), (1,), (50, -20, 70, -100)]
    members = [member_with(community, *h) for h in histories]
    # when: the task runs a few times
    for day in range(3):
        points_expire(now=NOW + timedelta(days=day), batch=2)
    # then
    assert [member_balance(member=m) for m in members] == [0] * len(members)
    assert [sum(e.points for e in expiries(m)) for m in members] == [-100, 0, -2, -1, 0]


@pytest.mark.django_db(transaction=True)
def test_expiry_waits_for_a_redemption_holding_the_members_lock(community):
    # given: a redemption in flight holds the member's lock and is about to debit 40
    member = member_with(community, 100)
    locked = threading.Event()

    def redeem():
        try:
            with transaction.atomic():
                member_lock(member_id=member.pk)
                locked.set()
                time.sleep(0.5)
                LedgerEntryFactory(member=member, points=-40, reason=LedgerReason.REDEMPTION_HOLD)
        finally:
            connection.close()

    thread = threading.Thread(target=redeem)
    thread.start()
    assert locked.wait(10)
    # when: expiry runs while the redemption is still open
    points_expire(now=NOW)
    thread.join()
    # then: it expired what was left after the debit, never more
    assert expiries(member)[0].points == -60
    assert member_balance(member=member) == 0


# --- warnings ------------------------------------------------------------------------------


@pytest.fixture
def expiring(community):
    """A member whose 120 points expire on 2025-07-05 (12 months after last activity)."""
    return member_with(community, 120, last_active=datetime(2024, 7, 5, 8, 0, tzinfo=UTC))


def emails_to(member):
    return list(OutboundEmail.objects.filter(to_email=member.email).order_by("pk"))


def test_warning_then_last_chance_then_expiry_each_once(community, expiring):
    # when: 20 days before expiry (inside the 30 warning days), twice
    assert points_expiry_notify(now=NOW) == 1
    assert points_expiry_notify(now=NOW + timedelta(hours=1)) == 0
    # then: one warning with the points, the day and the portal link
    (warning,) = emails_to(expiring)
    assert warning.template == "points_expiry_warning"
    assert warning.context["points"] == 120
    assert warning.context["expires_on"] == "2025-07-05"
    assert "120 points" in warning.body_text and "July 5, 2025" in warning.body_text
    org = community.organisation
    assert f"/c/{org.slug}/{community.slug}/rewards/points/" in warning.context["link"]
    assert warning.context["link"] in warning.body_text
    # when: 5 days before, twice
    assert points_expiry_notify(now=NOW + timedelta(days=15)) == 1
    assert points_expiry_notify(now=NOW + timedelta(days=16)) == 0
    # then: one last chance
    assert [e.template for e in emails_to(expiring)] == [
        "points_expiry_warning",
        "points_expiry_last_chance",
    ]
    notices = ExpiryNotice.objects.filter(member=expiring).order_by("pk")
    assert [(n.kind, str(n.expires_on), n.points) for n in notices] == [
        (ExpiryNoticeKind.WARNING, "2025-07-05", 120),
        (ExpiryNoticeKind.LAST_CHANCE, "2025-07-05", 120),
    ]
    # when: the day passes
    after = datetime(2025, 7, 6, 5, 0, tzinfo=UTC)
    assert points_expire(now=after) == 1
    assert points_expiry_notify(now=after) == 0
    # then: the points are gone and no third email was sent
    assert member_balance(member=expiring) == 0
    assert len(emails_to(expiring)) == 2


def test_a_member_first_seen_inside_the_last_days_gets_only_the_last_chance(community, expiring):
    # when: the first run is 3 days before expiry
    points_expiry_notify(now=datetime(2025, 7, 2, 6, 0, tzinfo=UTC))
    # then
    assert [e.template for e in emails_to(expiring)] == ["points_expiry_last_chance"]


def test_no_email_before_the_warning_days(community, expiring):
    assert points_expiry_notify(now=datetime(2025, 5, 1, tzinfo=UTC)) == 0
    assert not OutboundEmail.objects.exists()


def test_no_warning_for_an_unsubscribed_or_suppressed_member(community):
    # given
    last = datetime(2024, 7, 5, 8, 0, tzinfo=UTC)
    left = member_with(community, 50, last_active=last, status=MemberStatus.UNSUBSCRIBED)
    suppressed = member_with(community, 50, last_active=last)
    EmailSuppression.objects.create(
        organisation_id=community.organisation_id, email=suppressed.email
    )
    # when
    assert points_expiry_notify(now=NOW) == 0
    # then
    assert not OutboundEmail.objects.exists()
    assert not ExpiryNotice.objects.exists()
    assert left.pk and suppressed.pk


def test_no_warning_when_the_balance_is_zero(community):
    # given: everything already spent
    member_with(community, 50, -50, last_active=datetime(2024, 7, 5, 8, 0, tzinfo=UTC))
    # when / then
    assert points_expiry_notify(now=NOW) == 0
    assert not OutboundEmail.objects.exists()


def test_no_warning_in_a_community_whose_points_never_expire():
    community = CommunityFactory()
    member_with(community, 50, last_active=datetime(2024, 7, 5, 8, 0, tzinfo=UTC))
    assert points_expiry_notify(now=NOW) == 0


@pytest.mark.parametrize(
    ("language", "day"),
    [("ja", "2025年7月5日"), ("th", "5 กรกฎาคม 2025"), ("he", "יולי 2025"), ("en", "July 5, 2025")],
)
def test_the_warning_is_in_the_members_language(community, language, day):
    # given
    member = member_with(
        community, 120, last_active=datetime(2024, 7, 5, 8, 0, tzinfo=UTC), locale=language
    )
    # when
    points_expiry_notify(now=NOW)
    # then: rendered in their language, the day written their way
    (email,) = emails_to(member)
    assert email.language == language
    assert day in email.body_text and day in email.subject
    if language == "he":
        assert 'dir="rtl"' in email.body_html
