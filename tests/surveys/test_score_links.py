"""A score tapped in a survey email fills in the question it was shown beside, wherever
that question has moved since the email was sent (issue 11)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from surveys.choices import QuestionType
from surveys.models import SurveyInvitation
from surveys.services import (
    invitation_batch_create,
    invitation_link_token,
    question_add,
    questions_reorder,
    survey_create,
    survey_publish,
)
from surveys.views.respond import SCORE_SESSION_KEY
from tests.factories.surveys import QuestionFactory, SurveyFactory, SurveyInvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_scores(organisation):
    """A live survey asking two 0–10 questions: the café first, the staff third."""
    survey = survey_create(organisation=organisation, title={"en": "Visit"}, languages=["en"])
    cafe = question_add(survey=survey, type="nps", text={"en": "Recommend the café?"})
    question_add(survey=survey, type="star", text={"en": "Rate the cake"})
    staff = question_add(survey=survey, type="nps", text={"en": "Recommend the staff?"})
    survey_publish(survey=survey)
    return survey, cafe, staff


def emailed_score_link(survey, score: int, django_capture_on_commit_callbacks) -> str:
    """Send the survey to a guest; the path and query beside `score` in their email."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, recipients=[("guest@example.com", "Guest")])
    [email] = mail.outbox
    found = re.search(rf"^{score}: (\S+)$", email.body, re.MULTILINE)
    assert found, email.body
    url = urlsplit(found.group(1))
    return f"{url.path}?{url.query}"


def filled_in(client, survey) -> dict:
    form = client.get(reverse("surveys:survey_respond", args=[survey.public_id])).context["form"]
    return {name: value for name, value in form.initial.items() if name.startswith("q_")}


def plain_link(invitation, **query) -> str:
    url = reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_emails_score_links_name_their_question(
    client, two_scores, django_capture_on_commit_callbacks
):
    survey, cafe, _staff = two_scores
    link = emailed_score_link(survey, 7, django_capture_on_commit_callbacks)
    assert f"q={cafe.pk}" in link and "score=7" in link


def test_a_score_tapped_after_the_questions_were_reordered_fills_its_own_question(
    client, two_scores, django_capture_on_commit_callbacks
):
    # given: the email went out while "Recommend the café?" came first
    survey, cafe, staff = two_scores
    link = emailed_score_link(survey, 3, django_capture_on_commit_callbacks)
    # when: staff then put "Recommend the staff?" first, and the guest taps 3
    star = survey.questions.get(type=QuestionType.STAR)
    questions_reorder(survey=survey, order=[staff.pk, cafe.pk, star.pk])
    client.get(link)
    # then: the 3 is the café's, as it was in the email
    assert filled_in(client, survey) == {f"q_{cafe.pk}": 3}


def test_a_score_for_a_question_since_hidden_fills_nothing(
    client, two_scores, django_capture_on_commit_callbacks
):
    survey, cafe, _staff = two_scores
    link = emailed_score_link(survey, 3, django_capture_on_commit_callbacks)
    cafe.hidden = True
    cafe.save()
    client.get(link)
    assert filled_in(client, survey) == {}


@pytest.fixture
def invitation(two_scores):
    survey, _cafe, _staff = two_scores
    return SurveyInvitationFactory(survey=survey, email="guest@example.com", sent_at=timezone.now())


def test_a_link_sent_before_links_named_their_question_fills_the_first_while_it_is_first(
    client, two_scores, invitation
):
    survey, cafe, _staff = two_scores
    client.get(plain_link(invitation, score=4))
    assert filled_in(client, survey) == {f"q_{cafe.pk}": 4}


def test_an_old_link_after_a_reorder_fills_nothing_rather_than_the_wrong_score(
    client, two_scores, invitation
):
    # given: two 0–10 questions, and the one that was first now comes second
    survey, cafe, staff = two_scores
    star = survey.questions.get(type=QuestionType.STAR)
    questions_reorder(survey=survey, order=[star.pk, staff.pk, cafe.pk])
    # when
    client.get(plain_link(invitation, score=4))
    # then: which of the two it meant cannot be known, so neither is filled in
    assert filled_in(client, survey) == {}


def test_an_old_link_after_a_reorder_fills_the_surveys_only_score_question(client, organisation):
    survey = survey_create(organisation=organisation, title={"en": "Visit"}, languages=["en"])
    nps = question_add(survey=survey, type="nps", text={"en": "Recommend us?"})
    star = question_add(survey=survey, type="star", text={"en": "Rate it"})
    survey_publish(survey=survey)
    invitation = SurveyInvitationFactory(survey=survey, email="g@example.com")
    questions_reorder(survey=survey, order=[star.pk, nps.pk])
    client.get(plain_link(invitation, score=9))
    assert filled_in(client, survey) == {f"q_{nps.pk}": 9}


def test_a_score_kept_by_an_older_session_still_fills_the_first_question(
    client, two_scores, invitation
):
    # given: the session kept the bare score, as before links named their question
    survey, cafe, _staff = two_scores
    client.get(plain_link(invitation))
    session = client.session
    session[SCORE_SESSION_KEY.format(survey.public_id)] = 6
    session.save()
    # then
    assert filled_in(client, survey) == {f"q_{cafe.pk}": 6}


@pytest.mark.parametrize(
    "query",
    [
        {"q": "x", "score": 3},
        {"q": "", "score": 3},
        {"q": "9" * 30, "score": 3},
        {"score": 11},
        {"score": -1},
        {"score": "3.5"},
    ],
)
def test_a_malformed_score_link_fills_nothing_and_still_opens_the_survey(
    client, two_scores, invitation, query
):
    survey, _cafe, _staff = two_scores
    opened = client.get(plain_link(invitation, **query))
    assert opened.status_code == 302
    assert filled_in(client, survey) == {}


def test_a_link_naming_a_question_that_is_no_score_fills_nothing(client, two_scores, invitation):
    survey, _cafe, _staff = two_scores
    star = survey.questions.get(type=QuestionType.STAR)
    client.get(plain_link(invitation, q=star.pk, score=3))
    assert filled_in(client, survey) == {}


def test_a_link_naming_another_organisations_question_fills_nothing(
    client, two_scores, invitation, other_organisation
):
    survey, _cafe, _staff = two_scores
    foreign = QuestionFactory(
        survey=SurveyFactory(organisation=other_organisation), type=QuestionType.NPS
    )
    client.get(plain_link(invitation, q=foreign.pk, score=3))
    assert filled_in(client, survey) == {}


def test_a_score_link_once_answered_shows_the_already_answered_page(client, two_scores, invitation):
    survey, cafe, _staff = two_scores
    SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=timezone.now())
    page = client.get(plain_link(invitation, q=cafe.pk, score=3))
    assert page.status_code == 409
