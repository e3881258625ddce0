"""One case through the API: the response it was opened on (answers, sentiment, channel,
store) and its timeline, telling nothing about the person behind an anonymous response and
a respondent's address only where they agreed to be contacted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.choices import ConsentPurpose, Role
from communities.services import api_token_create
from feedback.choices import CaseEventKind
from tests.factories.communities import ConsentRecordFactory
from tests.factories.feedback import CaseEventFactory
from tests.factories.surveys import SurveyFactory
from tests.feedback.api.helpers import (
    anonymous_case,
    identified_case,
    key_client,
    role_client,
    url,
)

pytestmark = pytest.mark.django_db


def test_a_case_shows_the_response_it_was_opened_on(organisation, survey):
    # given: a member's detractor answer from a store's kiosk, contact agreed
    case = identified_case(survey, consent=True)
    client, _user = role_client(organisation)

    # when
    body = client.get(url("case_detail", organisation, case.pk)).json()

    # then
    response = body["response"]
    assert response["id"] == case.response_id and response["consent_to_contact"] is True
    assert response["channel"]["kind"] == "kiosk"
    assert response["location"]["name"] == "Silom"
    assert response["respondent"] == {
        "member_id": case.response.member_id,
        "name": "Ana Lima",
        "email": case.response.member.email,
    }
    by_type = {a["question_type"]: a for a in response["answers"]}
    assert by_type["nps"]["number"] == 3
    assert by_type["text"]["text"] == "Cold coffee" and by_type["text"]["sentiment"] == -0.6
    assert by_type["single_choice"]["choices"][0]["label"] == "Coffee"
    assert by_type["nps"]["question_text"] == "How likely are you to recommend us?"


def test_a_respondent_who_did_not_agree_to_be_contacted_has_no_address_shown(organisation, survey):
    # given: one who never ticked contact, one who ticked it and later withdrew it
    silent = identified_case(survey, consent=False)
    withdrawn = identified_case(survey, consent=True)
    ConsentRecordFactory(
        member=withdrawn.response.member, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=False
    )
    client, _user = role_client(organisation)

    for case in (silent, withdrawn):
        # when
        body = client.get(url("case_detail", organisation, case.pk)).json()
        # then
        assert body["response"]["respondent"]["email"] is None
        assert case.response.member.email not in str(body)


def test_an_anonymous_response_tells_nothing_about_its_respondent(organisation, survey):
    # given
    case = anonymous_case(survey)
    client, _user = role_client(organisation)

    # when
    body = client.get(url("case_detail", organisation, case.pk)).json()

    # then
    assert body["is_anonymous"] is True and body["response"]["is_anonymous"] is True
    assert body["response"]["respondent"] is None
    assert body["response"]["consent_to_contact"] is False
    assert body["response"]["answers"], "the answers themselves are still the case's substance"


def test_a_case_shows_its_timeline_oldest_first_in_words(organisation, survey):
    # given
    case = identified_case(survey)
    client, user = role_client(organisation)
    CaseEventFactory(case=case, actor=user, data={"body": "Called; no answer."})
    CaseEventFactory(
        case=case,
        kind=CaseEventKind.STATUS_CHANGED,
        data={"from": "open", "to": "waiting", "api_key": "helpdesk"},
    )

    # when
    timeline = client.get(url("case_detail", organisation, case.pk)).json()["timeline"]

    # then
    assert [e["kind"] for e in timeline] == ["note", "status_changed"]
    note, moved = timeline
    assert note["text"] == "Note added" and note["body"] == "Called; no answer."
    assert note["actor"] == {"type": "staff", "id": user.pk, "name": user.name}
    assert moved["text"] == "Status changed from Open to Waiting on customer"
    assert (moved["status_from"], moved["status_to"]) == ("open", "waiting")
    assert moved["actor"] == {"type": "api_key", "id": None, "name": "API key “helpdesk”"}


def test_a_case_reads_in_the_same_queries_however_long_its_timeline(
    organisation, survey, django_assert_num_queries
):
    # given: two cases, one with a long timeline
    short, long = identified_case(survey), identified_case(survey)
    client, user = role_client(organisation)
    CaseEventFactory.create_batch(30, case=long, actor=user)
    client.get(url("case_detail", organisation, short.pk))
    with CaptureQueriesContext(connection) as first:
        client.get(url("case_detail", organisation, short.pk))

    # when / then
    with django_assert_num_queries(len(first.captured_queries)):
        assert client.get(url("case_detail", organisation, long.pk)).status_code == 200


def test_another_organisations_case_is_not_found(organisation, other_organisation, survey):
    # given: a case of another organisation, asked for under mine and under theirs
    theirs = identified_case(SurveyFactory(organisation=other_organisation))
    client, _user = role_client(organisation)
    my_key = api_token_create(organisation=organisation, name="mine")[1]

    # when / then
    assert client.get(url("case_detail", organisation, theirs.pk)).status_code == 404
    assert client.get(url("case_detail", other_organisation, theirs.pk)).status_code == 404
    assert key_client(my_key).get(url("case_detail", organisation, theirs.pk)).status_code == 404


def test_an_analyst_may_not_read_a_case(organisation, survey):
    case = identified_case(survey)
    client, _user = role_client(organisation, Role.ANALYST)

    assert client.get(url("case_detail", organisation, case.pk)).status_code == 403
