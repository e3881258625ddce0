"""The plain-SQL statements of the answering hot path store what the ORM stores.

Each runs on the database the suite runs on (SQLite in the first CI leg, PostgreSQL in
the second); every test reads its rows back through the ORM, so a value stored in a form
the ORM would not read (a date as text, JSON as a string, a UUID) fails here.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.models import ConsentRecord, EmailSuppression, LinkToken, Member
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_write
from communities.services import consent_append, member_activity_touch_locked
from communities.services.consent import unsubscribe_token
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.services import points_award_once
from surveys.models import Answer, Participation, Response
from surveys.services.statements import (
    answer_choices_insert,
    answers_insert,
    invitation_claim,
    participation_insert,
    response_insert,
    response_with_answers_insert,
)
from tests.factories.surveys import SurveyInvitationFactory

pytestmark = pytest.mark.django_db


def _response(survey, *, key="k1", member=None, at=None):
    at = at or timezone.now()
    return response_insert(
        organisation_id=survey.organisation_id,
        survey_id=survey.pk,
        channel_id=None,
        member_id=member.pk if member else None,
        invitation_id=None,
        location_id=None,
        language="th",
        submitted_at=at,
        submitted_on=timezone.localdate(at),
        is_anonymous=member is None,
        consent_to_contact=False,
        idempotency_key=key,
        analysed_at=at,
    )


def test_a_response_is_stored_once_per_key_and_reads_back_as_written(survey, member):
    at = timezone.now()
    first = _response(survey, member=member, at=at)
    assert _response(survey, member=member) is None  # the same key: nothing written
    stored = Response.objects.get(pk=first)
    assert (stored.member, stored.language, stored.submitted_at) == (member, "th", at)
    assert stored.submitted_on == timezone.localdate(at) and stored.analysed_at == at
    assert stored.is_anonymous is False and Response.objects.count() == 1


def test_answers_and_their_choices_go_in_one_statement_each(survey):
    response_id = _response(survey)
    nps, multi = survey.questions.get(type="nps"), survey.questions.get(type="multi_choice")
    text = survey.questions.get(type="text")
    ids = answers_insert(
        organisation_id=survey.organisation_id,
        response_id=response_id,
        answers=[
            {"question": nps.pk, "question_type": "nps", "number": 3},
            {"question": multi.pk, "question_type": "multi_choice"},
            {"question": text.pk, "question_type": "text", "text": "ช้ามาก", "sentiment": -0.5},
        ],
    )
    choices = list(multi.choices.values_list("pk", flat=True))[:2]
    answer_choices_insert(pairs=[(ids[multi.pk], c) for c in choices])
    answer_choices_insert(pairs=[])  # nothing chosen: no statement, no error
    assert set(ids) == {nps.pk, multi.pk, text.pk}
    assert Answer.objects.get(pk=ids[nps.pk]).number == 3
    assert Answer.objects.get(pk=ids[text.pk]).text == "ช้ามาก"
    assert Answer.objects.get(pk=ids[text.pk]).sentiment == -0.5
    assert sorted(Answer.objects.get(pk=ids[multi.pk]).choices.values_list("pk", flat=True)) == (
        sorted(choices)
    )


def test_participation_is_one_per_member_and_survey(survey, member):
    day = timezone.localdate()
    args = dict(organisation_id=survey.organisation_id, survey_id=survey.pk, member_id=member.pk)
    assert participation_insert(**args, day=day, points_pending=5) is True
    assert participation_insert(**args, day=day, points_pending=0) is False
    row = Participation.objects.get()
    assert (row.completed_on, row.points_pending) == (day, 5)


def test_points_are_credited_once_per_key(member):
    args = dict(
        organisation_id=member.organisation_id,
        member_id=member.pk,
        points=10,
        reason=LedgerReason.SURVEY_COMPLETED,
        source="surveys.survey:1",
        idempotency_key="survey:1:member:1",
        at=timezone.now(),
    )
    assert points_award_once(**args) is True
    assert points_award_once(**args) is False
    entry = LedgerEntry.objects.get()
    assert (entry.points, entry.member, entry.created_by) == (10, member, None)


def test_a_consent_decision_is_appended(member):
    at = timezone.now()
    consent_append(
        organisation_id=member.organisation_id,
        member_id=member.pk,
        purpose=ConsentPurpose.CONTACT_FOLLOWUP,
        granted=True,
        channel=ConsentChannel.WEB,
        policy_version=3,
        at=at,
    )
    record = ConsentRecord.objects.get(purpose=ConsentPurpose.CONTACT_FOLLOWUP)
    assert (record.granted, record.policy_version, record.recorded_at) == (True, 3, at)


def test_touching_a_member_moves_activity_forward_only_and_wakes_a_lapsed_one(member):
    now = timezone.now()
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.LAPSED, last_active_at=None)
    assert member_activity_touch_locked(member_id=member.pk, at=now) is True
    member.refresh_from_db()
    assert (member.last_active_at, member.status) == (now, MemberStatus.ACTIVE)
    # an earlier time changes nothing
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.LAPSED)
    assert member_activity_touch_locked(member_id=member.pk, at=now - timedelta(days=1))
    member.refresh_from_db()
    assert (member.last_active_at, member.status) == (now, MemberStatus.LAPSED)
    assert member_activity_touch_locked(member_id=10**9, at=now) is False


def test_a_personal_link_is_claimed_once(survey):
    invitation = SurveyInvitationFactory(survey=survey)
    at = timezone.now()
    assert invitation_claim(invitation_id=invitation.pk, at=at) is True
    assert invitation_claim(invitation_id=invitation.pk, at=at + timedelta(seconds=1)) is False
    invitation.refresh_from_db()
    assert invitation.responded_at == at


def test_an_outbox_row_is_written_once_per_key(organisation, django_capture_on_commit_callbacks):
    fields = dict(
        organisation=organisation,
        to_email="a@example.com",
        template="followup",
        context={"case_id": 1},
        language="he",
        subject="שלום",
        body_text="text",
        body_html="",
        headers={"Reply-To": "r@example.com"},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = outbox_write(idempotency_key="followup:response:1", **fields)
        again = outbox_write(idempotency_key="followup:response:1", **fields)
    assert first.pk == again.pk and len(callbacks) == 1  # one send, for the one row
    email = OutboundEmail.objects.get()
    assert (email.context, email.headers, email.status) == (
        {"case_id": 1},
        {"Reply-To": "r@example.com"},
        "pending",
    )


def test_an_address_has_one_unsubscribe_token(organisation):
    first = unsubscribe_token(organisation_id=organisation.pk, email="A@Example.com")
    again = unsubscribe_token(organisation_id=organisation.pk, email="a@example.com")
    assert first == again and LinkToken.objects.count() == 1
    assert LinkToken.objects.get().email == "a@example.com"


def test_an_outbox_row_guarded_by_the_suppression_list_is_not_written_for_a_suppressed_address(
    organisation,
):
    EmailSuppression.objects.create(organisation=organisation, email="gone@example.com")
    fields = dict(
        organisation=organisation,
        template="followup",
        context={},
        language="en",
        subject="s",
        body_text="t",
        body_html="",
        headers={},
        unless_suppressed=True,
    )
    assert outbox_write(idempotency_key="a", to_email="Gone@Example.com", **fields) is None
    written = outbox_write(idempotency_key="b", to_email="here@example.com", **fields)
    assert written is not None and OutboundEmail.objects.get().to_email == "here@example.com"


def test_a_response_with_its_answers_and_choices_is_written_together_once_per_key(survey):
    at = timezone.now()
    response = dict(
        organisation_id=survey.organisation_id,
        survey_id=survey.pk,
        channel_id=None,
        member_id=None,
        invitation_id=None,
        location_id=None,
        language="ja",
        submitted_at=at,
        submitted_on=timezone.localdate(at),
        is_anonymous=True,
        consent_to_contact=False,
        idempotency_key="together",
        analysed_at=at,
    )
    nps, multi = survey.questions.get(type="nps"), survey.questions.get(type="multi_choice")
    text = survey.questions.get(type="text")
    answers = [
        {"question": nps.pk, "question_type": "nps", "number": 0, "text": "", "sentiment": None},
        {"question": multi.pk, "question_type": "multi_choice", "text": "その他"},
        {"question": text.pk, "question_type": "text", "text": "遅い", "sentiment": -0.25},
    ]
    picked = list(multi.choices.values_list("pk", flat=True))[:2]
    choices = [(multi.pk, c) for c in picked]
    response_id, ids = response_with_answers_insert(
        response=response, answers=answers, choices=choices
    )
    # then: one response, each answer under its question, the choices on the right answer
    stored = Response.objects.get()
    assert stored.pk == response_id and stored.language == "ja" and stored.submitted_at == at
    assert {a.question_id: a.pk for a in stored.answers.all()} == ids
    assert Answer.objects.get(pk=ids[nps.pk]).number == 0
    assert Answer.objects.get(pk=ids[text.pk]).sentiment == -0.25
    assert Answer.objects.get(pk=ids[multi.pk]).text == "その他"
    assert sorted(Answer.objects.get(pk=ids[multi.pk]).choices.values_list("pk", flat=True)) == (
        sorted(picked)
    )
    # and the same key again writes nothing at all
    again = response_with_answers_insert(response=response, answers=answers, choices=choices)
    assert again is None and Response.objects.count() == 1 and Answer.objects.count() == 3
