"""The public survey page: what a respondent sees and what a submission stores."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.outbox.models import OutboundEmail
from feedback.models import Case
from rewards.selectors import member_balance
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Answer, Participation, Response
from tests.factories.surveys import ChoiceFactory, QuestionFactory, pool_release_now
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


def url(survey):
    return reverse("surveys:survey_respond", args=[survey.public_id])


def test_survey_page_renders_every_question_type(client, survey):
    # when
    page = client.get(url(survey))
    # then
    assert page.status_code == 200
    html = page.content.decode()
    for question in survey.questions.all():
        assert question.text["en"] in html
    assert 'type="radio"' in html and 'type="checkbox"' in html and "<textarea" in html
    assert 'name="idempotency_key"' in html


def test_submit_stores_response_and_answers_in_one_go(client, survey):
    # given
    data = answers_for(survey, nps=9, stars=4, text="Lovely coffee")
    # when
    page = client.post(url(survey), data)
    # then
    assert page.status_code == 302
    response = Response.objects.get()
    assert response.answers.count() == 5
    multi = response.answers.get(question_type=QuestionType.MULTI_CHOICE)
    assert multi.choices.count() == 2


def test_double_submit_with_the_same_key_stores_one_response(member_client, survey, member):
    # given
    data = answers_for(survey)
    # when
    first = member_client.post(url(survey), data)
    second = member_client.post(url(survey), data)
    # then
    assert first.status_code == second.status_code == 302
    assert Response.objects.count() == 1
    assert Answer.objects.count() == 4
    assert member_balance(member=member) == survey.points


def test_member_earns_points_once_however_often_they_answer(member_client, survey, member):
    # when: a second, fresh form (new key) after the first answer
    member_client.post(url(survey), answers_for(survey))
    again = member_client.post(url(survey), answers_for(survey))
    # then
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert Response.objects.count() == 1
    assert member.ledger_entries.count() == 1
    assert member_balance(member=member) == survey.points


@pytest.mark.parametrize(
    ("field_type", "value", "message"),
    [
        (QuestionType.NPS, 11, "Choose a number from 0 to 10"),
        (QuestionType.NPS, -1, "Choose a number from 0 to 10"),
        (QuestionType.NPS, "ten", "Choose a number from 0 to 10"),
        (QuestionType.STAR, 6, "Choose a number from 1 to 5"),
        (QuestionType.STAR, 0, "Choose a number from 1 to 5"),
        (QuestionType.TEXT, "x" * 5001, "under 5000 characters"),
    ],
)
def test_bad_answer_is_shown_next_to_its_question_and_nothing_is_saved(
    client, survey, field_type, value, message
):
    # given
    data = answers_for(survey)
    data[f"q_{question_of(survey, field_type).pk}"] = value
    # when
    page = client.post(url(survey), data)
    # then
    assert page.status_code == 400
    assert message in page.content.decode()
    assert Response.objects.count() == 0
    assert Answer.objects.count() == 0


def test_missing_required_answer_is_named(client, survey):
    # given
    data = answers_for(survey)
    del data[f"q_{question_of(survey, QuestionType.NPS).pk}"]
    # when
    page = client.post(url(survey), data)
    # then
    assert page.status_code == 400
    assert "Please answer this question." in page.content.decode()
    assert not Response.objects.exists()


def test_choice_from_another_question_is_refused(client, survey):
    # given: a choice that belongs to a different survey's question
    foreign = ChoiceFactory(question=QuestionFactory(type=QuestionType.SINGLE_CHOICE))
    single = question_of(survey, QuestionType.SINGLE_CHOICE)
    multi = question_of(survey, QuestionType.MULTI_CHOICE)
    sibling = multi.choices.first()
    for question, bad in ((single, foreign.pk), (single, sibling.pk), (multi, [foreign.pk])):
        data = answers_for(survey)
        data[f"q_{question.pk}"] = bad
        # when
        page = client.post(url(survey), data)
        # then
        assert page.status_code == 400
        assert "not one of this question" in page.content.decode()
    assert not Response.objects.exists()


def test_missing_idempotency_key_is_a_clear_error(client, survey):
    data = answers_for(survey)
    del data["idempotency_key"]
    page = client.post(url(survey), data)
    assert page.status_code == 400
    assert not Response.objects.exists()


@pytest.mark.parametrize("status", [SurveyStatus.CLOSED])
def test_closed_survey_answers_with_a_friendly_page(client, survey, status):
    # given
    survey.status = status
    survey.save()
    # when
    shown = client.get(url(survey))
    posted = client.post(url(survey), answers_for(survey))
    # then
    assert shown.status_code == posted.status_code == 410
    assert "This survey has closed" in posted.content.decode()
    assert not Response.objects.exists()


def test_draft_survey_is_not_found_but_says_so_kindly(client, survey):
    survey.status = SurveyStatus.DRAFT
    survey.save()
    shown = client.get(url(survey))
    assert shown.status_code == 404
    assert "This survey is not published yet." in shown.content.decode()
    assert client.post(url(survey), answers_for(survey)).status_code == 404
    assert not Response.objects.exists()


def test_scheduled_survey_says_when_it_is_not_open_yet(client, survey):
    survey.opens_at = timezone.now() + timedelta(days=1)
    survey.save()
    shown = client.get(url(survey))
    assert shown.status_code == 410
    assert "This survey is not open yet." in shown.content.decode()
    assert client.post(url(survey), answers_for(survey)).status_code == 410
    assert not Response.objects.exists()


def test_detractor_with_consent_gets_a_case_and_one_followup_email(
    member_client, survey, member, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    data = answers_for(survey, nps=3, stars=4)
    data["consent_to_contact"] = "on"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(url(survey), data)
    # then
    case = Case.objects.get()
    assert "NPS 3" in case.reason
    email = OutboundEmail.objects.get()
    assert email.to_email == member.email and email.status == "sent"
    assert len(mailoutbox) == 1
    assert "what went wrong" in mailoutbox[0].subject


def test_detractor_without_consent_gets_a_case_but_no_email(
    member_client, survey, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(url(survey), answers_for(survey, nps=2))
    assert Case.objects.count() == 1
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_anonymous_survey_keeps_participation_apart_from_the_response(
    member_client, survey, member
):
    # given a survey that rewards anonymous answers too
    survey.anonymity = "anonymous"
    survey.anonymous_points = True
    survey.save()
    # when
    member_client.post(url(survey), {**answers_for(survey, nps=1), "consent_to_contact": "on"})
    # then, once the pool has been released
    pool_release_now(survey)
    response = Response.objects.get()
    assert response.is_anonymous and response.member_id is None
    assert response.consent_to_contact is False
    assert response.submitted_at.minute == response.submitted_at.second == 0
    participation = Participation.objects.get()
    assert participation.member == member
    assert member_balance(member=member) == survey.points
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize("anonymity", ["anonymous", "respondent_choice"])
def test_an_anonymous_answer_earns_no_points_unless_the_survey_says_so(
    member_client, survey, member, anonymity
):
    # given
    survey.anonymity = anonymity
    survey.save()
    # when
    member_client.post(url(survey), {**answers_for(survey), "answer_anonymously": "on"})
    # then: they took part (a second answer is refused) but earned nothing
    pool_release_now(survey)
    assert Response.objects.get().member_id is None
    assert Participation.objects.filter(member=member).exists()
    assert member_balance(member=member) == 0


def test_rating_question_uses_its_own_bounds(client, survey):
    rating = QuestionFactory(
        survey=survey, position=9, type=QuestionType.RATING, settings={"min": 1, "max": 7}
    )
    data = answers_for(survey)
    data[f"q_{rating.pk}"] = 8
    assert client.post(url(survey), data).status_code == 400
    data[f"q_{rating.pk}"] = 7
    assert client.post(url(survey), data).status_code == 302


def test_visitor_without_account_is_not_offered_contact(client, survey):
    html = client.get(url(survey)).content.decode()
    assert "consent_to_contact" not in html


def test_member_is_offered_contact_unticked(member_client, survey):
    html = member_client.get(url(survey)).content.decode()
    assert 'name="consent_to_contact"' in html
    assert 'name="consent_to_contact" class="checkboxinput form-check-input" checked' not in html


def test_visitor_resending_the_same_survey_from_one_browser_stores_one_response(client, survey):
    # given: the visitor opened the page (which sets the per-survey key cookie) and answered
    client.get(url(survey))
    key = client.cookies[f"chorus_answer_{survey.public_id}"].value
    client.post(url(survey), {**answers_for(survey), "idempotency_key": key})
    # when: they open the page again
    again = client.get(url(survey))
    # then: they are told they have answered, instead of being given the form again
    assert again.status_code == 409
    assert "You have already answered this survey." in again.content.decode()
    assert 'name="idempotency_key"' not in again.content.decode()
    # when: a form they still had open sends a new answer
    late = client.post(url(survey), {**answers_for(survey, nps=0), "idempotency_key": key})
    # then: not stored, and not thanked for as if it were
    assert late.status_code == 409
    assert "were not saved" in late.content.decode()
    assert Response.objects.count() == 1


def test_star_buttons_say_their_value_in_words(client, survey):
    html = client.get(url(survey)).content.decode()
    assert '<span aria-hidden="true">★★★</span><span class="visually-hidden">3 stars</span>' in html
