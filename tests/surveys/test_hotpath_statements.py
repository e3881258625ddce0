"""The member's side of an answer is one statement that writes what the separate ones did.

`member_answering_write` (surveys.services.statements) is the submit's activity touch,
participation, points and consent; on PostgreSQL one statement, on SQLite four. Each test
runs on the database the suite runs on and reads the rows back through the ORM, beside
what the statements it replaced (communities' and rewards' own) write.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.models import ConsentRecord, Member
from communities.services import consent_append, member_activity_touch_locked
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.services import points_award_once
from rewards.services.ledger import points_award_row
from surveys.models import Participation
from surveys.services.statements import member_answering_write
from tests.factories.communities import MemberFactory
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db

ROW_FIELDS = {
    LedgerEntry: ("organisation_id", "member_id", "points", "reason", "source", "detail"),
    ConsentRecord: (
        "organisation_id",
        "member_id",
        "purpose",
        "granted",
        "channel",
        "policy_version",
        "recorded_at",
    ),
}


def _award(member, at, *, key="survey:1:member"):
    return dict(
        organisation_id=member.organisation_id,
        member_id=member.pk,
        points=10,
        reason=LedgerReason.SURVEY_COMPLETED,
        source="surveys.survey:1",
        idempotency_key=f"{key}:{member.pk}",
        at=at,
        detail={"title": "Café ☕"},
    )


def _consent(member, at):
    return {
        "organisation": member.organisation_id,
        "member": member.pk,
        "purpose": ConsentPurpose.CONTACT_FOLLOWUP,
        "granted": True,
        "channel": ConsentChannel.WEB,
        "policy_version": member.community.policy_version,
        "recorded_at": at,
    }


def _participation(survey, member, at):
    return {
        "organisation": survey.organisation_id,
        "survey": survey.pk,
        "member": member.pk,
        "completed_on": timezone.localdate(at),
        "points_pending": 0,
    }


def _write(survey, member, at, *, award=True, consent=True):
    return member_answering_write(
        member_id=member.pk,
        at=at,
        participation=_participation(survey, member, at),
        award=points_award_row(**_award(member, at)) if award else None,
        consent=_consent(member, at) if consent else None,
    )


def _rows(model, member):
    return [
        tuple(getattr(row, name) for name in ROW_FIELDS[model])
        for row in model.objects.filter(member=member).order_by("pk")
    ]


def test_a_first_answer_writes_participation_points_consent_and_activity(survey, member):
    # given a member who has not answered, and a twin written by the separate statements
    twin = MemberFactory(community=member.community)
    at = timezone.now()
    consent_before = _rows(ConsentRecord, member)
    # when the one statement writes their side of an answer
    assert _write(survey, member, at) == (True, True)
    member_activity_touch_locked(member_id=twin.pk, at=at)
    points_award_once(**_award(twin, at))
    consent_append(
        organisation_id=twin.organisation_id,
        member_id=twin.pk,
        purpose=ConsentPurpose.CONTACT_FOLLOWUP,
        granted=True,
        channel=ConsentChannel.WEB,
        policy_version=twin.community.policy_version,
        at=at,
    )
    # then every row reads back as the ORM stores it, and as the old statements wrote it
    taken = Participation.objects.get(survey=survey, member=member)
    assert (taken.completed_on, taken.points_pending) == (timezone.localdate(at), 0)
    assert taken.organisation_id == survey.organisation_id
    member.refresh_from_db()
    twin.refresh_from_db()
    assert member.last_active_at == twin.last_active_at == at
    (entry,) = LedgerEntry.objects.filter(member=member)
    assert entry.idempotency_key == f"survey:1:member:{member.pk}"
    assert entry.created_at == at and entry.created_by is None
    mine, theirs = _rows(LedgerEntry, member), _rows(LedgerEntry, twin)
    assert [row[2:] for row in mine] == [row[2:] for row in theirs]
    added = _rows(ConsentRecord, member)[len(consent_before) :]
    assert [row[2:] for row in added] == [row[2:] for row in _rows(ConsentRecord, twin)]


def test_a_second_answer_finds_the_participation_and_awards_nothing(survey, member):
    at = timezone.now()
    _write(survey, member, at, consent=False)
    # when the member answers again
    assert _write(survey, member, at + timedelta(minutes=1), consent=False) == (False, False)
    # then there is still one participation and one award; their activity moved on
    assert Participation.objects.filter(survey=survey, member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member).count() == 1
    member.refresh_from_db()
    assert member.last_active_at == at + timedelta(minutes=1)


def test_without_points_or_consent_only_the_participation_and_activity_are_written(survey, member):
    consents = ConsentRecord.objects.filter(member=member).count()
    assert _write(survey, member, timezone.now(), award=False, consent=False) == (True, False)
    assert Participation.objects.filter(member=member).count() == 1
    assert not LedgerEntry.objects.filter(member=member).exists()
    assert ConsentRecord.objects.filter(member=member).count() == consents


def test_activity_never_moves_back_and_a_lapsed_member_is_active_again(survey, member):
    later = timezone.now()
    Member.objects.filter(pk=member.pk).update(last_active_at=later, status=MemberStatus.LAPSED)
    # when an answer stamped before their last activity is written
    _write(survey, member, later - timedelta(hours=1), award=False, consent=False)
    member.refresh_from_db()
    # then the time stays; the status does not wake for an older moment
    assert (member.last_active_at, member.status) == (later, MemberStatus.LAPSED)
    # and a newer answer wakes them
    other = SurveyFactory(organisation=survey.organisation, community=survey.community)
    _write(other, member, later + timedelta(hours=1), award=False, consent=False)
    member.refresh_from_db()
    assert (member.last_active_at, member.status) == (
        later + timedelta(hours=1),
        MemberStatus.ACTIVE,
    )


def test_a_member_who_is_gone_takes_part_in_nothing(survey, member):
    # given the member's row deleted (erased) before their answer was written
    member_id = member.pk
    Member.objects.filter(pk=member_id).delete()
    # then nothing is written for them: every INSERT reads the UPDATE's row
    member.pk = member_id
    assert _write(survey, member, timezone.now()) == (False, False)
    assert not Participation.objects.filter(member_id=member_id).exists()
    assert not LedgerEntry.objects.filter(member_id=member_id).exists()
