"""Follow-up rules: which answers open a case, and who may be emailed about them."""

from datetime import timedelta

import pytest

from communities.outbox.models import OutboundEmail
from feedback.choices import Condition
from feedback.models import Case
from feedback.sentiment import sentiment_score
from feedback.services import analysis_redrive, followup_apply, response_analyse
from surveys.choices import QuestionType
from surveys.models import Response
from surveys.services import response_submit
from tests.factories.feedback import FollowUpRuleFactory
from tests.factories.surveys import pool_release_now
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


def submit(survey, member=None, consent=True, **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=key,
        member=member,
        consent_to_contact=consent,
    ).response


@pytest.mark.parametrize(
    ("nps", "stars", "opens"),
    [
        (6, 5, True),
        (7, 5, False),
        (0, 5, True),
        (9, 2, True),
        (9, 3, False),
    ],
)
def test_default_rule_is_nps_at_most_6_or_stars_at_most_2(survey, nps, stars, opens):
    submit(survey, nps=nps, stars=stars)
    assert Case.objects.exists() is opens


@pytest.mark.parametrize(("face", "opens"), [(1, True), (2, True), (3, False), (5, False)])
def test_an_unhappy_csat_face_opens_a_case_like_a_low_star(survey, member, face, opens):
    # given
    from surveys.services import question_add

    csat = question_add(survey=survey, type=QuestionType.CSAT, text={"en": "Happy?"})
    data = answers_for(survey)
    data[f"q_{csat.pk}"] = face
    # when
    response = response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=data.pop("idempotency_key"),
        member=member,
    ).response
    # then
    assert Case.objects.filter(response=response).exists() is opens
    if opens:
        assert f"CSAT {face}" in Case.objects.get().reason


def test_negative_text_opens_a_case_once_scored(survey, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            survey, member=member, nps=9, stars=5, text="Horrible, rude and terrible service."
        )
    response.refresh_from_db()
    assert response.analysed_at is not None
    assert [r["code"] for r in Case.objects.get().reasons] == ["sentiment"]
    assert OutboundEmail.objects.get().to_email == member.email


def test_a_response_is_analysed_as_it_is_stored_and_never_again(
    survey, member, django_capture_on_commit_callbacks
):
    # when: nothing after the commit runs
    with django_capture_on_commit_callbacks(execute=False):
        response = submit(survey, member=member, text="Awful and terrible.")
    # then: its text was scored and its rules applied in the transaction that stored it
    response.refresh_from_db()
    assert response.analysed_at is not None
    assert response.answers.get(question_type="text").sentiment < -0.3
    assert Case.objects.count() == 1 and OutboundEmail.objects.count() == 1
    # and the analysis task, kept for rows stored before, finds nothing left to do
    assert response_analyse(response_id=response.pk) is False


def _stored_unanalysed(response) -> None:
    """Make a response look like one stored before answers were scored as they were
    written: no sentiment, no analysis, no case or email yet."""
    Response.objects.filter(pk=response.pk).update(analysed_at=None)
    response.answers.update(sentiment=None)
    OutboundEmail.objects.all().delete()
    Case.objects.all().delete()


def test_analysis_of_a_response_stored_unanalysed_runs_once(
    survey, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = submit(survey, member=member, text="Awful and terrible.")
    _stored_unanalysed(response)
    assert response_analyse(response_id=response.pk) is True
    assert response_analyse(response_id=response.pk) is False
    assert Case.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_analysis_sweep_picks_up_responses_stored_unanalysed(
    survey, django_capture_on_commit_callbacks
):
    # given: a response from before answers were scored as they were written
    with django_capture_on_commit_callbacks(execute=False):
        response = submit(survey, text="Terrible, awful visit.")
    _stored_unanalysed(response)
    Response.objects.filter(pk=response.pk).update(
        submitted_at=response.submitted_at - timedelta(minutes=5)
    )
    # when
    assert analysis_redrive() == 1
    # then
    response.refresh_from_db()
    assert response.analysed_at is not None and Case.objects.count() == 1


def test_no_email_for_an_anonymous_response_even_with_consent(survey, member):
    survey.anonymity = "respondent_choice"
    survey.save()
    data = answers_for(survey, nps=0)
    key = data.pop("idempotency_key")
    response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=key,
        member=member,
        consent_to_contact=True,
        wants_anonymous=True,
    )
    pool_release_now(survey)
    assert Case.objects.count() == 1
    assert not OutboundEmail.objects.exists()


def test_survey_rules_replace_the_defaults(survey):
    # given: this survey only follows up a chosen answer
    choice = question_of(survey, QuestionType.SINGLE_CHOICE).choices.first()
    FollowUpRuleFactory(
        organisation=survey.organisation,
        survey=survey,
        condition=Condition.CHOICE_SELECTED,
        threshold=None,
        choice=choice,
    )
    # when: a detractor who did not pick it, then a promoter who did
    submit(survey, nps=0, choose=False)
    response = submit(survey, nps=10)
    # then
    assert list(Case.objects.values_list("response_id", flat=True)) == [response.pk]


def test_followup_apply_is_idempotent(survey, member):
    response = submit(survey, member=member, nps=1)
    assert followup_apply(response=response) == Case.objects.get()
    assert Case.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_sentiment_scores_english_and_thai_with_bundled_lexicons():
    assert sentiment_score("The coffee was terrible and the staff were rude.") < -0.3
    assert sentiment_score("Wonderful coffee, lovely staff!") > 0.3
    assert sentiment_score("") is None
    # "The coffee was very bad": Thai has its own lexicon now (surveys/sentiment).
    assert sentiment_score("กาแฟแย่มาก") < -0.3


def test_alert_rule_emails_case_workers_but_not_analysts(survey, mailoutbox):
    # given
    from communities.choices import Role
    from tests.factories.communities import StaffRoleFactory

    agent = StaffRoleFactory(organisation=survey.organisation, role=Role.AGENT).user
    StaffRoleFactory(organisation=survey.organisation, role=Role.ANALYST)
    StaffRoleFactory(role=Role.ADMIN)  # another organisation's admin
    FollowUpRuleFactory(
        organisation=survey.organisation,
        condition=Condition.STARS_AT_MOST,
        threshold=1,
        alert_staff=True,
        email_respondent=False,
    )
    # when
    response = submit(survey, nps=9, stars=1)
    followup_apply(response=response)
    # then
    alerts = OutboundEmail.objects.filter(template="case_alert")
    assert [e.to_email for e in alerts] == [agent.email]
    case = Case.objects.get()
    assert f"/cases/{case.pk}/" in alerts[0].body_text


def test_work_is_enqueued_only_after_the_response_commits(
    survey, member, django_capture_on_commit_callbacks
):
    # when: the transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = submit(survey, member=member, nps=2, text="Cold coffee and a long wait.")
        # then: the case and the email row are written with the response, nothing sent
        assert Case.objects.filter(response=response).exists()
        assert OutboundEmail.objects.get().status == "pending"
        # and its text was scored as it was written: no task needs to read it back
        response.refresh_from_db()
        assert response.analysed_at is not None
    # one piece of work waits for the commit: the email send, which must leave the request
    assert len(callbacks) == 1
