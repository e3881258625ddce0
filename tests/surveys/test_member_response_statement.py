"""A member's answer and their side of it (activity, participation, points, consent) are
written together by `response_with_answers_insert(member=…)`: on PostgreSQL one statement
that takes the member's lock first, on SQLite one after the other. Either way the rows are
those the two separate writes left, and a member who may answer once gets no second
response."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import ConsentRecord
from rewards.models import LedgerEntry
from rewards.services.ledger import points_award_row
from surveys.models import Answer, Participation, Response
from surveys.services.statements import MemberAnswering, response_with_answers_insert
from tests.surveys.test_hotpath_statements import _award, _consent, _participation

pytestmark = pytest.mark.django_db


def _part(survey, member, at, *, once=True, award=True, consent=True) -> MemberAnswering:
    return MemberAnswering(
        member_id=member.pk,
        at=at,
        participation=_participation(survey, member, at),
        award=points_award_row(**_award(member, at)) if award else None,
        consent=_consent(member, at) if consent else None,
        only_once=once,
    )


def _response_row(survey, member, at, key: str, *, consent: bool) -> dict:
    """response_with_answers_insert's `response`: a member's, on the survey page."""
    return {
        "organisation_id": survey.organisation_id,
        "survey_id": survey.pk,
        "channel_id": None,
        "member_id": member.pk,
        "invitation_id": None,
        "location_id": None,
        "language": "en",
        "submitted_at": at,
        "submitted_on": timezone.localdate(at),
        "is_anonymous": False,
        "consent_to_contact": consent,
        "idempotency_key": key,
        "analysed_at": at,
    }


def _answer(survey, member, at, key: str, part: MemberAnswering, *, question=None):
    question = question or survey.questions.order_by("position").first()
    return response_with_answers_insert(
        response=_response_row(survey, member, at, key, consent=part.consent is not None),
        answers=[
            {"question": question.pk, "question_type": question.type, "number": 9, "text": ""}
        ],
        choices=[],
        member=part,
    )


def test_a_first_answer_writes_the_response_and_the_members_side(survey, member):
    at = timezone.now()
    consents = ConsentRecord.objects.filter(member=member).count()
    part = _part(survey, member, at)
    question = survey.questions.order_by("position").first()
    with CaptureQueriesContext(connection) as captured:
        written = _answer(survey, member, at, "k1", part, question=question)
    assert written is not None
    response_id, ids = written
    assert (part.new, part.awarded) == (True, True)
    response = Response.objects.get(pk=response_id)
    assert (response.member_id, response.idempotency_key) == (member.pk, "k1")
    assert list(Answer.objects.filter(response=response).values_list("pk", flat=True)) == list(
        ids.values()
    )
    assert Participation.objects.filter(survey=survey, member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert ConsentRecord.objects.filter(member=member).count() == consents + 1
    member.refresh_from_db()
    assert member.last_active_at == at
    # PostgreSQL writes all of it in one statement
    if connection.vendor == "postgresql":
        assert len(captured.captured_queries) == 1


def test_a_member_who_may_answer_once_gets_no_second_response(survey, member):
    at = timezone.now()
    _answer(survey, member, at, "k1", _part(survey, member, at, consent=False))
    later = at + timedelta(minutes=1)
    part = _part(survey, member, later, consent=False)
    assert _answer(survey, member, later, "k2", part) is None
    assert (part.new, part.awarded) == (False, False)
    assert list(
        Response.objects.filter(member=member).values_list("idempotency_key", flat=True)
    ) == ["k1"]
    assert LedgerEntry.objects.filter(member=member).count() == 1
    member.refresh_from_db()
    assert member.last_active_at == later


def test_a_survey_taking_many_answers_stores_the_second(survey, member):
    at = timezone.now()
    _answer(survey, member, at, "k1", _part(survey, member, at, once=False, consent=False))
    part = _part(survey, member, at, once=False, consent=False)
    assert _answer(survey, member, at, "k2", part) is not None
    assert (part.new, part.awarded) == (False, False)
    assert Response.objects.filter(member=member).count() == 2
    assert Participation.objects.filter(survey=survey, member=member).count() == 1


def test_a_resent_key_writes_no_second_response(survey, member):
    at = timezone.now()
    _answer(survey, member, at, "k1", _part(survey, member, at, once=False, consent=False))
    part = _part(survey, member, at, once=False, consent=False, award=False)
    assert _answer(survey, member, at, "k1", part) is None
    assert Response.objects.filter(member=member).count() == 1
