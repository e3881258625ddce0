"""Someone who has answered is told so when they arrive, not after filling the form in
again; and a second, different answer is never thanked for as if it were stored (issue 11).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.choices import Anonymity, SurveyKind
from surveys.models import PooledAnswer, Response, SurveyInvitation
from surveys.services import (
    invitation_link_token,
    kiosk_register,
    question_add,
    survey_create,
    survey_publish,
)
from tests.factories.communities import LocationFactory, MemberFactory, UserFactory
from tests.factories.surveys import SurveyInvitationFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

ALREADY = "You have already answered this survey. Thank you!"
NOT_SAVED = "The answers you just sent were not saved"


def url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


def cookie_key(client, survey) -> str:
    return client.cookies[f"chorus_answer_{survey.public_id}"].value


def answer_as_visitor(client, survey, **answers) -> str:
    """Open the public link and answer, as a visitor without an account; returns the key."""
    client.get(url(survey))
    key = cookie_key(client, survey)
    sent = client.post(url(survey), {**answers_for(survey, **answers), "idempotency_key": key})
    assert sent.status_code == 302 and "/thanks/" in sent.url
    return key


def shows_the_form(page) -> bool:
    return 'name="idempotency_key"' in page.content.decode()


# --- on arrival ---------------------------------------------------------------------------


def test_a_member_who_answered_is_told_on_arrival(member_client, survey):
    # given
    member_client.post(url(survey), answers_for(survey))
    # when
    page = member_client.get(url(survey))
    # then: the already-answered page, not the form
    assert page.status_code == 409
    assert ALREADY in page.content.decode() and not shows_the_form(page)
    assert NOT_SAVED not in page.content.decode()


def test_a_member_who_has_not_answered_gets_the_form(member_client, survey):
    page = member_client.get(url(survey))
    assert page.status_code == 200 and shows_the_form(page)


def test_a_visitor_who_answered_from_this_browser_is_told_on_arrival(client, survey):
    answer_as_visitor(client, survey)
    page = client.get(url(survey))
    assert page.status_code == 409 and ALREADY in page.content.decode()
    assert not shows_the_form(page)


def test_another_browser_still_gets_the_form(client, survey):
    answer_as_visitor(client, survey)
    assert shows_the_form(Client().get(url(survey)))


@pytest.mark.parametrize("cookie", ["", "x" * 32 + "!", "short", "a" * 33, "../" * 11])
def test_a_malformed_answer_cookie_gets_the_form(client, survey, cookie):
    answer_as_visitor(client, survey)
    stranger = Client()
    stranger.cookies[f"chorus_answer_{survey.public_id}"] = cookie
    page = stranger.get(url(survey))
    assert page.status_code == 200 and shows_the_form(page)


def test_an_answer_cookie_of_another_survey_does_not_count(client, survey, organisation):
    # given: the visitor answered one survey
    key = answer_as_visitor(client, survey)
    other = survey_create(organisation=organisation, title={"en": "Other"}, languages=["en"])
    question_add(survey=other, type="nps", text={"en": "Recommend?"})
    survey_publish(survey=other)
    # when: their cookie for it is sent as another survey's
    client.cookies[f"chorus_answer_{other.public_id}"] = key
    # then
    assert shows_the_form(client.get(url(other)))


def test_an_anonymous_surveys_page_tells_only_the_browser_that_answered(client, survey):
    # given: an anonymous survey answered from this browser
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    answer_as_visitor(client, survey)
    response = Response.objects.get()
    # then: that browser is told, from its own key, and the page shows no answer of it
    page = client.get(url(survey))
    assert page.status_code == 409
    assert response.is_anonymous and response.member is None
    assert "Lovely" not in page.content.decode()
    # and a browser without that key learns nothing
    assert shows_the_form(Client().get(url(survey)))


def test_a_member_whose_anonymous_answer_is_pooled_is_told_on_arrival(
    member_client, survey, member
):
    # given: the member's anonymous answer waits in the pool, apart from their name
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    member_client.post(url(survey), answers_for(survey))
    assert PooledAnswer.objects.count() == 1 and not Response.objects.exists()
    # when
    page = member_client.get(url(survey))
    # then: told from their own participation; the pool row still names nobody
    assert page.status_code == 409 and ALREADY in page.content.decode()
    other_user = UserFactory(email="other@example.com")
    MemberFactory(community=survey.community, user=other_user, email=other_user.email)
    someone_else = Client()
    someone_else.force_login(other_user)
    assert shows_the_form(someone_else.get(url(survey)))


def test_a_used_personal_link_says_so_on_arrival(client, survey):
    invitation = SurveyInvitationFactory(survey=survey, email="guest@example.com")
    token = invitation_link_token(invitation=invitation)
    client.get(reverse("surveys:invitation_open", args=[token]))
    SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=timezone.now())
    page = client.get(url(survey))
    assert page.status_code == 409
    assert "This link has already been used to answer. Thank you!" in page.content.decode()
    assert not shows_the_form(page)


def test_a_closed_survey_says_it_is_closed_before_anything_else(client, survey):
    answer_as_visitor(client, survey)
    survey.status = "closed"
    survey.save()
    assert client.get(url(survey)).status_code == 410


def test_a_survey_taking_more_than_one_answer_gives_the_form_again(client, member_client, survey):
    # given
    survey.allow_multiple_responses = True
    survey.save()
    member_client.post(url(survey), answers_for(survey))
    # then: the member may answer again
    assert shows_the_form(member_client.get(url(survey)))
    # and a visitor's second answer, from a fresh page, is stored rather than dropped
    answer_as_visitor(client, survey)
    again = client.get(url(survey))
    assert shows_the_form(again)
    key = cookie_key(client, survey)
    sent = client.post(url(survey), {**answers_for(survey, nps=0), "idempotency_key": key})
    assert sent.status_code == 302 and "/thanks/" in sent.url
    assert Response.objects.count() == 3


def test_a_kiosk_on_a_shared_device_ignores_the_browsers_answer(client, survey, organisation):
    # given: someone answered the public link on this very tablet's browser
    answer_as_visitor(client, survey)
    kiosk = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    # when: the tablet shows the survey's kiosk page
    page = client.get(reverse("surveys:kiosk", args=[kiosk.device_token]))
    # then: the next walk-in customer gets the questions
    assert page.status_code == 200
    assert ALREADY not in page.content.decode()
    assert survey.questions.first().text["en"] in page.content.decode()


def test_a_poll_voter_still_sees_the_results_on_arrival(client, organisation, community):
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question = question_add(survey=poll, type="yes_no", text={"en": "Oat milk?"}, required=True)
    survey_publish(survey=poll)
    client.get(url(poll))
    client.post(url(poll), {f"q_{question.pk}": 1, "idempotency_key": cookie_key(client, poll)})
    page = client.get(url(poll))
    assert page.status_code == 200 and "vote so far" in page.content.decode()


# --- sending again ------------------------------------------------------------------------


def test_a_double_tap_sending_the_same_answers_is_thanked_once_stored(client, survey):
    # given: the page is open with this browser's key
    client.get(url(survey))
    data = {**answers_for(survey, text="Lovely"), "idempotency_key": cookie_key(client, survey)}
    # when: the same answers arrive twice
    first, second = client.post(url(survey), data), client.post(url(survey), data)
    # then: both are thanked, truly: the answers are stored, once
    assert first.status_code == second.status_code == 302
    assert "/thanks/" in second.url
    assert Response.objects.count() == 1


def test_a_different_second_answer_from_the_same_browser_is_not_thanked(client, survey):
    # given: a visitor answered 9, and a tab still open from before sends 0 instead
    key = answer_as_visitor(client, survey, nps=9)
    late = client.post(url(survey), {**answers_for(survey, nps=0), "idempotency_key": key})
    # then: the already-answered page says the new answers were not saved
    assert late.status_code == 409
    html = late.content.decode()
    assert NOT_SAVED in html and ALREADY in html
    assert Response.objects.get().answers.get(question_type="nps").number == 9


def test_a_members_second_answer_is_not_thanked(member_client, survey):
    member_client.post(url(survey), answers_for(survey))
    again = member_client.post(url(survey), answers_for(survey, nps=2))
    assert again.status_code == 409 and NOT_SAVED in again.content.decode()


def test_a_members_double_tap_while_pooled_is_thanked(member_client, survey):
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    data = answers_for(survey)
    first, second = member_client.post(url(survey), data), member_client.post(url(survey), data)
    assert first.status_code == second.status_code == 302 and "/thanks/" in second.url
    assert PooledAnswer.objects.count() == 1


def test_a_second_device_sending_a_used_personal_link_is_told_it_was_not_saved(client, survey):
    invitation = SurveyInvitationFactory(survey=survey, email="guest@example.com")
    token = invitation_link_token(invitation=invitation)
    client.get(reverse("surveys:invitation_open", args=[token]))
    laptop = Client()
    laptop.get(reverse("surveys:invitation_open", args=[token]))
    client.post(url(survey), answers_for(survey))
    late = laptop.post(url(survey), answers_for(survey, nps=1))
    assert late.status_code == 409 and NOT_SAVED in late.content.decode()
    assert Response.objects.count() == 1
