"""A signed-in member's respondent page reads the survey, who is answering it and whether
they have answered in one statement, and a page kept by the process is served without building a
form; what the page shows is what it showed before (issue 13: the respondent GET).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys.compiled import compiled_forget
from surveys.lookups import survey_answering
from tests.factories.communities import MemberFactory, UserFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def _page(client, survey):
    return client.get(reverse("surveys:survey_respond", args=[survey.public_id]))


def test_the_survey_the_member_and_whether_they_answered_come_in_one_statement(
    survey, member, member_user
):
    # given: a member who has not answered
    found, answering, answered = survey_answering(
        survey.public_id, user_id=member_user.pk, took_part=True
    )
    assert (found, answering, answered) == (survey, member, False)
    # when they answer, the same statement says so
    client = _signed_in(member_user)
    assert client.post(_url(survey), answers_for(survey, nps=9)).status_code == 302
    with CaptureQueriesContext(connection) as captured:
        found, answering, answered = survey_answering(
            survey.public_id, user_id=member_user.pk, took_part=True
        )
    assert (found, answering, answered) == (survey, member, True)
    assert found.organisation == survey.organisation and answering.community == survey.community
    assert len(captured.captured_queries) == 1
    # and without asking, it does not say
    assert survey_answering(survey.public_id, user_id=member_user.pk)[1:] == (member, False)


def test_a_user_without_a_membership_of_the_surveys_community_has_none(survey):
    found = survey_answering(survey.public_id, user_id=UserFactory().pk, took_part=True)
    assert found == (survey, None, False)


def test_a_members_blank_page_runs_two_statements_once_kept(survey, community):
    # given: the page kept by the process (one member has loaded it)
    compiled_forget()
    assert _page(_signed_in(_member_of(community)), survey).status_code == 200
    # when another member loads it
    client = _signed_in(_member_of(community))
    with CaptureQueriesContext(connection) as captured:
        page = _page(client, survey)
    # then: the session with its user, and the survey with the member and their participation
    assert page.status_code == 200
    assert len(captured.captured_queries) == 2, [q["sql"][:80] for q in captured.captured_queries]


def test_a_kept_page_names_each_member_and_gives_each_page_its_own_key(survey, community):
    compiled_forget()
    first, second = _member_of(community), _member_of(community)
    pages = [_page(_signed_in(m), survey).content.decode() for m in (first, second)]
    assert first.email in pages[0] and second.email not in pages[0]
    assert second.email in pages[1] and first.email not in pages[1]
    keys = [p.split('name="idempotency_key" value="')[1].split('"')[0] for p in pages]
    assert keys[0] != keys[1] and all(len(k) == 32 for k in keys)
    # and the contact box the kept page offers is the one a fresh rendering offers
    assert all('name="consent_to_contact"' in p for p in pages)


def test_a_member_who_answered_sees_that_instead_of_the_form(survey, member, member_user):
    client = _signed_in(member_user)
    assert client.post(_url(survey), answers_for(survey, nps=9)).status_code == 302
    page = _page(client, survey)
    assert page.status_code == 409
    assert 'name="idempotency_key"' not in page.content.decode()


def _url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


def _member_of(community):
    user = UserFactory()
    MemberFactory(community=community, user=user, email=user.email)
    return user


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client
