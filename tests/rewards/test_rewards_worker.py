"""The daily rewards tasks run through a real Celery worker over Redis: expiry, the
warning email (delivered to a real SMTP server), and tiers with badges.

Like tests/feedback/test_worker_flow.py these run on the PostgreSQL + Redis leg: the
worker is a separate `celery worker` process reading the committed test data.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.outbox.models import OutboundEmail
from rewards.choices import BadgeKind, ExpiryNoticeKind, LedgerReason
from rewards.models import ExpiryNotice, LedgerEntry, MemberBadge, MemberStanding
from rewards.selectors import member_balance
from rewards.services.expiry import months_shift
from rewards.tasks import points_expire_task, points_expiry_notify_task, standings_compute_task
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.rewards import LedgerEntryFactory, RewardsPolicyFactory, TierFactory
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def community():
    community = CommunityFactory()
    RewardsPolicyFactory(community=community, expiry_months=12)
    return community


def member_with(community, points, *, last_active):
    member = MemberFactory(community=community, last_active_at=last_active)
    LedgerEntryFactory(
        member=member, points=points, reason=LedgerReason.SURVEY_COMPLETED, created_at=last_active
    )
    return member


def test_expiry_task_expires_once_through_the_worker(celery_worker_process, community):
    # given: a member inactive for 13 months
    now = timezone.now()
    member = member_with(community, 90, last_active=now - timedelta(days=400))
    expired = LedgerEntry.objects.filter(member=member, reason=LedgerReason.EXPIRED)
    # when: the beat's task is queued twice
    points_expire_task.delay()
    points_expire_task.delay()
    # then: the worker writes one expiry entry
    assert wait_until(lambda: expired.exists())
    assert wait_until(lambda: member_balance(member=member) == 0)
    assert [entry.points for entry in expired] == [-90]


def test_warning_task_sends_one_email_through_the_worker(
    celery_worker_process, smtp_sink, community
):
    # given: a member whose points expire in ten days
    sink, _port = smtp_sink
    now = timezone.now()
    member = member_with(community, 120, last_active=months_shift(now, -12) + timedelta(days=10))
    # when: queued twice
    points_expiry_notify_task.delay()
    points_expiry_notify_task.delay()
    # then: one warning arrives at the SMTP server, and one notice is on record
    messages = sink.wait_for(member.email)
    assert len(messages) == 1
    assert "your points expire on" in messages[0]["Subject"]
    assert wait_until(lambda: OutboundEmail.objects.filter(status="sent").exists())
    notice = ExpiryNotice.objects.get(member=member)
    assert (notice.kind, notice.points) == (ExpiryNoticeKind.WARNING, 120)
    assert len(sink.to(member.email)) == 1


def test_standings_task_computes_tiers_and_badges_through_the_worker(
    celery_worker_process, community
):
    # given: a member who has earned 150 points from one survey
    TierFactory(community=community, threshold=100, names={"en": "Silver"})
    member = member_with(community, 150, last_active=timezone.now())
    # when
    standings_compute_task.delay(community_id=community.pk)
    # then
    assert wait_until(lambda: MemberStanding.objects.filter(member=member).exists())
    assert MemberStanding.objects.get(member=member).points_counted == 150
    assert MemberStanding.objects.get(member=member).tier.threshold == 100
    assert wait_until(
        lambda: MemberBadge.objects.filter(member=member, kind=BadgeKind.FIRST_SURVEY).exists()
    )
