"""The mixing pool: an anonymous answer from someone Chorus knows waits, with nothing that
names them, until it can be released shuffled among at least k others; its points follow
in another transaction, dated by day."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import MemberStatus
from feedback.models import Case
from feedback.services.sla import case_sla_times
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Participation, PooledAnswer, Response, SurveyInvitation
from surveys.services.builder import survey_close
from surveys.services.invitations import invitation_link_token
from surveys.services.pool import (
    anonymous_points_release,
    anonymous_pool_release,
    anonymous_pool_sweep,
)
from surveys.services.responses import AlreadyAnswered, response_submit
from tests.factories.communities import ConsentRecordFactory, MemberFactory, UserFactory
from tests.factories.surveys import SurveyInvitationFactory, pool_release_now
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous_survey(survey):
    survey.anonymity = "anonymous"
    survey.anonymous_points = True
    survey.points = 25
    survey.save()
    return survey


def members_of(community, n: int) -> list:
    people = []
    for i in range(n):
        user = UserFactory(email=f"person{i}@example.com")
        member = MemberFactory(community=community, user=user, email=user.email)
        ConsentRecordFactory(member=member, policy_version=community.policy_version)
        people.append(member)
    return people


def submit(survey, member, **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(survey=survey, raw_answers=data, idempotency_key=key, member=member)


def test_a_members_anonymous_answer_is_pooled_not_stored_as_a_response(
    member_client, anonymous_survey, member
):
    # when
    page = member_client.post(
        reverse("surveys:survey_respond", args=[anonymous_survey.public_id]),
        answers_for(anonymous_survey, nps=2, text="Too slow"),
        follow=True,
    )
    # then: thanked, told the points come later; no response, case or points yet
    assert page.status_code == 200
    assert "will be added when your anonymous answer is released" in page.content.decode()
    assert not Response.objects.exists() and not Case.objects.exists()
    assert member_balance(member=member) == 0
    pooled = PooledAnswer.objects.get()
    stored = {f.name for f in PooledAnswer._meta.get_fields()}
    assert not stored & {"member", "invitation", "user", "email", "participation"}
    # and the participation records the points owed, so a second answer is refused
    participation = Participation.objects.get(member=member)
    assert participation.points_pending == 25
    again = member_client.post(
        reverse("surveys:survey_respond", args=[anonymous_survey.public_id]),
        answers_for(anonymous_survey),
    )
    assert again.status_code == 409
    assert PooledAnswer.objects.get() == pooled


def test_a_double_submit_while_pooled_is_the_same_answer(anonymous_survey, member):
    data = answers_for(anonymous_survey)
    key = data.pop("idempotency_key")
    first = response_submit(
        survey=anonymous_survey, raw_answers=data, idempotency_key=key, member=member
    )
    second = response_submit(
        survey=anonymous_survey, raw_answers=data, idempotency_key=key, member=member
    )
    assert first.pooled and first.created
    assert second.pooled and not second.created
    assert PooledAnswer.objects.count() == 1


def test_fewer_than_k_answers_wait_and_the_kth_releases_a_shuffled_batch(
    anonymous_survey, community, django_capture_on_commit_callbacks
):
    # given k - 1 members answered (k is the organisation's group size, at least 5)
    people = members_of(community, 5)
    for member in people[:4]:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            submit(anonymous_survey, member, nps=1)
        assert callbacks == []  # nothing to release yet
    assert PooledAnswer.objects.count() == 4 and not Response.objects.exists()
    # when the k-th answers, a release is enqueued after commit (eager here)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submit(anonymous_survey, people[4], nps=9)
    assert len(callbacks) == 1
    # then every answer is a response with the batch's hour and no one's name
    assert not PooledAnswer.objects.exists()
    responses = list(Response.objects.all())
    assert len(responses) == 5
    hours = {r.submitted_at for r in responses} | {r.analysed_at for r in responses}
    assert len(hours) == 1
    (hour,) = hours
    assert hour.minute == hour.second == hour.microsecond == 0
    assert all(r.member_id is None and r.invitation_id is None for r in responses)
    assert all(r.is_anonymous and not r.consent_to_contact for r in responses)
    # and the four detractors' cases carry the batch's time too
    cases = list(Case.objects.all())
    assert len(cases) == 4
    assert {c.created_at for c in cases} | {c.updated_at for c in cases} == {hour}
    # Its service-level targets count from the batch's hour too, never the answer's own time.
    assert {(c.first_response_due_at, c.due_at) for c in cases} == {
        case_sla_times(organisation=c.organisation, priority=c.priority, start=hour) for c in cases
    }
    # and each member earned once, dated by the day only
    entries = list(LedgerEntry.objects.all())
    assert sorted(e.member_id for e in entries) == sorted(m.pk for m in people)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    assert {e.created_at for e in entries} == {midnight}
    assert not Participation.objects.filter(points_pending__gt=0).exists()


def test_a_released_response_carries_a_fresh_key_not_the_forms(anonymous_survey, member):
    data = answers_for(anonymous_survey)
    key = data.pop("idempotency_key")
    response_submit(survey=anonymous_survey, raw_answers=data, idempotency_key=key, member=member)
    pool_release_now(anonymous_survey)
    assert Response.objects.get().idempotency_key != key


def test_text_is_scored_at_release_with_the_batch_time(anonymous_survey, member):
    submit(anonymous_survey, member, nps=8, text="This was a terrible, awful visit")
    pool_release_now(anonymous_survey)
    response = Response.objects.get()
    answer = response.answers.get(question_type=QuestionType.TEXT)
    assert answer.sentiment is not None and answer.sentiment < -0.3
    assert response.analysed_at == response.submitted_at
    # the negative text opened a case, though the score alone would not have
    assert Case.objects.get().response == response


def test_release_is_idempotent_and_a_later_answer_waits_for_the_next_batch(
    anonymous_survey, community, django_capture_on_commit_callbacks
):
    people = members_of(community, 6)
    for member in people[:5]:
        with django_capture_on_commit_callbacks(execute=True):
            submit(anonymous_survey, member)
    assert Response.objects.count() == 5
    # running the release again (a redelivered task, the sweep) changes nothing
    assert anonymous_pool_release(survey_id=anonymous_survey.pk) == 0
    assert anonymous_points_release(survey_id=anonymous_survey.pk) == 0
    assert Response.objects.count() == 5 and LedgerEntry.objects.count() == 5
    # and the sixth answer waits for four more
    with django_capture_on_commit_callbacks(execute=True):
        submit(anonymous_survey, people[5])
    assert Response.objects.count() == 5 and PooledAnswer.objects.count() == 1


def test_closing_the_survey_releases_even_a_small_batch(
    anonymous_survey, community, django_capture_on_commit_callbacks
):
    for member in members_of(community, 2):
        submit(anonymous_survey, member)
    with django_capture_on_commit_callbacks(execute=True):
        survey_close(survey=anonymous_survey)
    assert Response.objects.count() == 2 and not PooledAnswer.objects.exists()
    assert LedgerEntry.objects.count() == 2


def test_a_survey_that_closes_by_date_is_released_by_the_sweep(anonymous_survey, community):
    for member in members_of(community, 2):
        submit(anonymous_survey, member)
    anonymous_survey.closes_at = timezone.now() - timedelta(minutes=1)
    anonymous_survey.save()
    assert anonymous_pool_sweep() == 1
    assert Response.objects.count() == 2


def test_the_longest_wait_releases_a_small_batch_after_so_many_days(
    anonymous_survey, community, organisation
):
    organisation.anonymous_pool_max_days = 3
    organisation.save()
    for member in members_of(community, 2):
        submit(anonymous_survey, member)
    later = timezone.now() + timedelta(days=2)
    assert anonymous_pool_release(survey_id=anonymous_survey.pk, now=later) == 0
    later = timezone.now() + timedelta(days=3)
    assert anonymous_pool_release(survey_id=anonymous_survey.pk, now=later) == 2


def test_a_bigger_group_size_makes_a_bigger_batch(
    anonymous_survey, community, organisation, django_capture_on_commit_callbacks
):
    organisation.min_group_size = 8
    organisation.save()
    people = members_of(community, 8)
    for member in people[:7]:
        with django_capture_on_commit_callbacks(execute=True):
            submit(anonymous_survey, member)
    assert not Response.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        submit(anonymous_survey, people[7])
    assert Response.objects.count() == 8


def test_anonymous_answers_without_a_known_respondent_take_the_direct_path(
    client, anonymous_survey
):
    # a visitor on the public link: nobody to hide, so no pool and no wait
    client.post(
        reverse("surveys:survey_respond", args=[anonymous_survey.public_id]),
        answers_for(anonymous_survey, nps=3),
    )
    assert not PooledAnswer.objects.exists()
    assert Response.objects.get().is_anonymous
    assert Case.objects.count() == 1


def test_an_identified_answer_is_stored_at_once(member_client, survey, member):
    member_client.post(
        reverse("surveys:survey_respond", args=[survey.public_id]), answers_for(survey)
    )
    assert Response.objects.get().member == member
    assert not PooledAnswer.objects.exists()


def test_a_personal_links_anonymous_answer_is_pooled_and_uses_the_link(client, anonymous_survey):
    # given an email invitation to an anonymous survey
    invitation = SurveyInvitationFactory(survey=anonymous_survey, email="guest@example.com")
    client.get(
        reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    )
    # when
    page = client.post(
        reverse("surveys:survey_respond", args=[anonymous_survey.public_id]),
        answers_for(anonymous_survey),
    )
    # then
    assert page.status_code == 302
    assert PooledAnswer.objects.count() == 1 and not Response.objects.exists()
    assert SurveyInvitation.objects.get().responded_at is not None
    with pytest.raises(AlreadyAnswered):
        response_submit(
            survey=anonymous_survey,
            raw_answers=answers_for(anonymous_survey),
            idempotency_key="another-key",
            invitation=invitation,
        )
    pool_release_now(anonymous_survey)
    assert Response.objects.get().invitation_id is None


def test_staff_see_how_many_answers_wait_as_a_number(staff_client, anonymous_survey, member):
    submit(anonymous_survey, member)
    page = staff_client.get(
        reverse(
            "staff:survey_results", args=[anonymous_survey.organisation.slug, anonymous_survey.pk]
        )
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "1 anonymous answer is waiting to be released with others" in html


def test_an_erased_member_gets_no_points_later_and_their_answer_still_counts(
    anonymous_survey, member
):
    from communities.flows import member_erase

    submit(anonymous_survey, member)
    member_erase(member=member)
    pool_release_now(anonymous_survey)
    assert Response.objects.count() == 1
    assert not LedgerEntry.objects.exists()
    assert member.__class__.objects.get(pk=member.pk).status == MemberStatus.ERASED


def test_a_question_deleted_while_answers_wait_is_left_out_at_release(anonymous_survey, member):
    text = question_of(anonymous_survey, QuestionType.TEXT)
    submit(anonymous_survey, member, text="Nice")
    text.delete()
    pool_release_now(anonymous_survey)
    response = Response.objects.get()
    assert not response.answers.filter(question_type=QuestionType.TEXT).exists()
    assert response.answers.exists()


def test_a_closed_survey_takes_no_pooled_answers(anonymous_survey, member):
    anonymous_survey.status = SurveyStatus.CLOSED
    anonymous_survey.save()
    with pytest.raises(Exception, match="closed"):
        submit(anonymous_survey, member)
    assert not PooledAnswer.objects.exists()


def test_an_anonymous_answer_without_a_known_respondent_dates_everything_by_its_hour(
    client, anonymous_survey, django_capture_on_commit_callbacks
):
    # given a visitor's anonymous answer on the public link, a detractor with text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("surveys:survey_respond", args=[anonymous_survey.public_id]),
            answers_for(anonymous_survey, nps=2, text="Awful, terrible, rude"),
        )
    # then the analysis and the case carry the response's hour, not the moment they ran
    response = Response.objects.get()
    hour = response.submitted_at
    assert hour.minute == hour.second == hour.microsecond == 0
    assert response.analysed_at == hour
    case = Case.objects.get()
    assert case.created_at == case.updated_at == hour
    assert (case.first_response_due_at, case.due_at) == case_sla_times(
        organisation=case.organisation, priority=case.priority, start=hour
    )
