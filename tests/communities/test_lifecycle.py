"""The nightly lifecycle run: members move between new, active, lapsed and churned."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.choices import MemberStatus
from communities.models import LifecycleSnapshot, Member
from communities.services import members_lifecycle_refresh
from communities.tasks import members_lifecycle_task
from surveys.choices import Anonymity
from surveys.services import response_submit
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(days: int):
    return NOW - timedelta(days=days)


def member(community, *, status=MemberStatus.ACTIVE, joined=400, active=None, **kwargs):
    return MemberFactory(
        community=community,
        status=status,
        joined_at=None if joined is None else ago(joined),
        last_active_at=None if active is None else ago(active),
        **kwargs,
    )


def answers(survey) -> dict:
    data = answers_for(survey)
    data.pop("idempotency_key")
    return data


def status_of(m) -> str:
    return Member.objects.values_list("status", flat=True).get(pk=m.pk)


@pytest.fixture
def thresholds():
    # new for 30 days, lapsed after 90 days without activity, churned after 180
    return CommunityFactory(new_days=30, lapsed_days=90, churned_days=180)


def test_members_move_by_their_last_activity_and_the_communitys_thresholds(thresholds):
    # given
    c = thresholds
    cases = {
        "joined 5 days ago, never active": (member(c, joined=5), MemberStatus.NEW),
        "joined 5 days ago, active today": (member(c, joined=5, active=0), MemberStatus.NEW),
        "joined long ago, active 10 days ago": (
            member(c, status=MemberStatus.LAPSED, active=10),
            MemberStatus.ACTIVE,
        ),
        "joined long ago, active 89 days ago": (member(c, active=89), MemberStatus.ACTIVE),
        "active 91 days ago": (member(c, active=91), MemberStatus.LAPSED),
        "active 179 days ago": (
            member(c, status=MemberStatus.NEW, active=179),
            MemberStatus.LAPSED,
        ),
        "active 181 days ago": (member(c, active=181), MemberStatus.CHURNED),
        "never active, joined 100 days ago": (member(c, joined=100), MemberStatus.LAPSED),
        "never active, joined 200 days ago": (member(c, joined=200), MemberStatus.CHURNED),
        "churned, came back yesterday": (
            member(c, status=MemberStatus.CHURNED, active=1),
            MemberStatus.ACTIVE,
        ),
    }

    # when
    moved = members_lifecycle_refresh(now=NOW)

    # then
    for label, (m, expected) in cases.items():
        assert status_of(m) == expected, label
    changed = sum(1 for m, expected in cases.values() if m.status != expected)
    assert moved == changed


@pytest.mark.parametrize(
    "status",
    [
        MemberStatus.PENDING,
        MemberStatus.INVITED,
        MemberStatus.UNSUBSCRIBED,
        MemberStatus.ERASED,
    ],
)
def test_members_outside_the_lifecycle_are_never_touched(thresholds, status):
    extra = {"email": "", "name": "", "referral_code": ""} if status == MemberStatus.ERASED else {}
    m = member(
        thresholds,
        status=status,
        joined=None if status != MemberStatus.UNSUBSCRIBED else 500,
        **extra,
    )
    members_lifecycle_refresh(now=NOW)
    assert status_of(m) == status


def test_thresholds_are_per_community(thresholds):
    strict = CommunityFactory(new_days=7, lapsed_days=14, churned_days=30)
    lenient_member = member(thresholds, active=20)
    strict_member = member(strict, active=20)
    members_lifecycle_refresh(now=NOW)
    assert status_of(lenient_member) == MemberStatus.ACTIVE
    assert status_of(strict_member) == MemberStatus.LAPSED


def test_a_run_writes_todays_snapshot_and_a_second_run_changes_nothing(thresholds):
    # given
    member(thresholds, joined=5)
    member(thresholds, active=100)
    member(thresholds, active=200)
    member(thresholds, status=MemberStatus.PENDING, joined=None)

    # when: the task runs twice in one day
    first = members_lifecycle_task.delay().get()
    second = members_lifecycle_refresh()

    # then
    assert first == 3 and second == 0
    snapshot = LifecycleSnapshot.objects.get(community=thresholds)
    assert snapshot.day == timezone.localdate()
    assert snapshot.organisation_id == thresholds.organisation_id
    assert snapshot.counts == {"new": 1, "lapsed": 1, "churned": 1, "pending": 1}


def test_a_community_without_members_gets_an_empty_snapshot(thresholds):
    members_lifecycle_refresh(now=NOW)
    assert LifecycleSnapshot.objects.get(community=thresholds).counts == {}


def test_the_run_is_set_based_not_a_loop_over_members(thresholds):
    # given: many members in one community
    Member.objects.bulk_create(
        Member(
            organisation_id=thresholds.organisation_id,
            community=thresholds,
            email=f"m{n}@example.com",
            status=MemberStatus.ACTIVE,
            joined_at=ago(400),
            last_active_at=ago(n % 300),
        )
        for n in range(600)
    )

    # when
    with CaptureQueriesContext(connection) as queries:
        members_lifecycle_refresh(now=NOW)

    # then: a handful of statements however many members there are
    assert len(queries) <= 15
    counts = LifecycleSnapshot.objects.get(community=thresholds).counts
    # exactly 90 days is not yet "older than 90": days 0–90 active, 91–180 lapsed
    assert counts == {"active": 182, "lapsed": 180, "churned": 238}


def test_the_lifecycle_task_runs_daily_from_beat():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "communities.tasks.members_lifecycle_task"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert schedule.remaining_estimate(timezone.now()) <= timedelta(days=1)


# --- answering a survey is activity -------------------------------------------------------------


def test_answering_a_survey_marks_the_member_active_now(survey, member):
    # given: a member who lapsed long ago
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.LAPSED, last_active_at=ago(120))
    member.refresh_from_db()

    # when
    response_submit(survey=survey, raw_answers=answers(survey), idempotency_key="k1", member=member)

    # then: active again, at once
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert abs((member.last_active_at - timezone.now()).total_seconds()) < 60


def test_an_anonymous_answer_records_only_the_day_of_activity(survey, member):
    # given: an anonymous survey
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    Member.objects.filter(pk=member.pk).update(last_active_at=ago(10))
    member.refresh_from_db()

    # when
    response_submit(survey=survey, raw_answers=answers(survey), idempotency_key="k2", member=member)

    # then: the member's row cannot date the response to the minute
    member.refresh_from_db()
    local = timezone.localtime(member.last_active_at)
    assert local.date() == timezone.localdate()
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
