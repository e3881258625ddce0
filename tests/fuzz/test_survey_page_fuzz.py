"""The survey page and the email link to it take any post without a server error, and a
post they refuse saves nothing (no response, answer, participation, points or case).

Hypothesis writes the posts from the survey's own questions: answers in range and out,
choices of another survey, text of any script with NUL bytes and control characters, past
every limit, fields missing, repeated or invented, both form encodings.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from surveys.services import invitation_link_token
from tests.factories.surveys import SurveyInvitationFactory
from tests.fuzz.bodies import LANGUAGES, form_post, survey_form_bodies
from tests.fuzz.conftest import row_state
from tests.fuzz.strategies import FUZZ_SETTINGS, numberish, unicode_text

pytestmark = pytest.mark.django_db


def assert_answered_or_refused_cleanly(page, before: dict) -> None:
    assert page.status_code < 500, page.content[:500]
    if page.status_code >= 400:
        assert row_state() == before, page.status_code


@FUZZ_SETTINGS
@given(data=st.data())
def test_the_survey_page_never_fails_and_a_refused_post_saves_nothing(
    every_question, foreign_choice_ids, member, member_user, data
):
    # given a visitor or a signed-in member on the survey's public link
    client = Client()
    if data.draw(st.booleans(), label="as a member"):
        client.force_login(member_user)
    url = f"/s/{every_question.public_id}/"
    lang = data.draw(st.sampled_from(LANGUAGES) | unicode_text, label="lang")
    client.get(url, {"lang": lang})
    body = data.draw(survey_form_bodies(every_question, foreign_choice_ids), label="body")
    before = row_state()
    # when they post anything at all
    page = form_post(client, url, body, urlencoded=data.draw(st.booleans(), label="urlencoded"))
    # then it is answered or refused, and a refusal wrote nothing
    assert_answered_or_refused_cleanly(page, before)


@FUZZ_SETTINGS
@given(data=st.data())
def test_the_email_link_and_its_survey_page_never_fail_and_refusals_save_nothing(
    every_question, foreign_choice_ids, member, data
):
    # given a personal invitation, its link opened with any score, question and language
    invitation = SurveyInvitationFactory(
        survey=every_question,
        member=member if data.draw(st.booleans(), label="a member's") else None,
        language=data.draw(st.sampled_from(["", *LANGUAGES]), label="invitation language"),
    )
    signed = invitation_link_token(invitation=invitation)
    if data.draw(st.integers(0, 5), label="tampered") == 0:
        signed = data.draw(st.sampled_from([signed[:-1], signed + "x", signed.upper(), "x:y"]))
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["score", "q", "lang"]), numberish | unicode_text, max_size=3
        ),
        label="query",
    )
    client = Client()
    before = row_state()
    opened = client.get(f"/i/{signed}/", query)
    assert opened.status_code < 500
    assert {k: v for k, v in row_state().items() if k != "answered"} == {
        k: v for k, v in before.items() if k != "answered"
    }
    # when the survey page is posted anything through that session
    url = f"/s/{every_question.public_id}/"
    client.get(url)
    body = data.draw(survey_form_bodies(every_question, foreign_choice_ids), label="body")
    before = row_state()
    page = form_post(client, url, body, urlencoded=data.draw(st.booleans(), label="urlencoded"))
    # then it is answered or refused, and a refusal wrote nothing
    assert_answered_or_refused_cleanly(page, before)
