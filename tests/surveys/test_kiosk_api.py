"""A kiosk sends each walk-in customer's answers as JSON, keyed by the tablet."""

import json
import uuid

import pytest
from django.urls import reverse

from surveys.models import Response
from surveys.services import kiosk_register, kiosk_revoke
from tests.factories.communities import LocationFactory
from tests.factories.surveys import survey_with_every_question_type
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(survey, organisation):
    return kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))


def submit(client, kiosk, answers=None, key=None, **extra):
    body = {
        "idempotency_key": key or uuid.uuid4().hex,
        "language": "en",
        "answers": answers if answers is not None else kiosk_answers(kiosk.survey),
        **extra,
    }
    return client.post(
        reverse("surveys:kiosk_submit", args=[kiosk.device_token]),
        json.dumps(body),
        content_type="application/json",
    )


def kiosk_answers(survey, **kwargs):
    data = answers_for(survey, **kwargs)
    data.pop("idempotency_key")
    return data


def test_an_answer_is_stored_anonymously_for_the_store(client, kiosk):
    answer = submit(client, kiosk)
    assert answer.status_code == 201
    response = Response.objects.get()
    assert response.is_anonymous and response.member_id is None
    assert response.channel == kiosk and response.location == kiosk.location


def test_a_replayed_answer_is_stored_once(client, kiosk):
    key = uuid.uuid4().hex
    assert submit(client, kiosk, key=key).status_code == 201
    again = submit(client, kiosk, key=key)
    assert again.status_code == 200 and again.json()["created"] is False
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"answers": {}}', b'{"idempotency_key": "k", "answers": []}'],
)
def test_a_malformed_body_is_a_400(client, kiosk, body):
    answer = client.post(
        reverse("surveys:kiosk_submit", args=[kiosk.device_token]),
        body,
        content_type="application/json",
    )
    assert answer.status_code == 400 and answer.json()["error"] == "malformed"
    assert not Response.objects.exists()


def test_bad_answers_are_a_400_naming_the_question(client, kiosk, survey):
    nps = survey.questions.get(type="nps")
    answers = kiosk_answers(survey)
    answers[f"q_{nps.pk}"] = 11
    answer = submit(client, kiosk, answers=answers)
    assert answer.status_code == 400
    assert f"q_{nps.pk}" in answer.json()["fields"]
    assert not Response.objects.exists()


def test_another_surveys_choice_is_refused(client, kiosk, survey, other_organisation):
    foreign = survey_with_every_question_type(organisation=other_organisation)
    foreign_choice = foreign.questions.get(type="single_choice").choices.first()
    answers = kiosk_answers(survey)
    answers[f"q_{survey.questions.get(type='single_choice').pk}"] = foreign_choice.pk
    assert submit(client, kiosk, answers=answers).status_code == 400
    assert not Response.objects.exists()


def test_an_oversized_body_is_a_413(client, kiosk, survey):
    answers = kiosk_answers(survey, text="x" * 70_000)
    assert submit(client, kiosk, answers=answers).status_code == 413
    assert not Response.objects.exists()


def test_an_unknown_or_revoked_kiosk_stores_nothing(client, kiosk):
    unknown = client.post(
        reverse("surveys:kiosk_submit", args=["no-such-device"]),
        "{}",
        content_type="application/json",
    )
    assert unknown.status_code == 404
    kiosk_revoke(channel=kiosk)
    assert submit(client, kiosk).status_code == 410
    assert client.get(reverse("surveys:kiosk", args=[kiosk.device_token])).status_code == 410
    assert not Response.objects.exists()


def test_a_stuck_button_is_rate_limited_per_device(client, kiosk, settings, organisation):
    settings.CHORUS = {**settings.CHORUS, "KIOSK_RATE_PER_MINUTE": 3}
    statuses = [submit(client, kiosk).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert Response.objects.count() == 3
    # another tablet is not held back
    other = kiosk_register(survey=kiosk.survey, location=kiosk.location)
    assert submit(client, other).status_code == 201


def test_a_kiosk_for_another_organisations_store_cannot_be_registered(survey, other_organisation):
    with pytest.raises(Exception, match="locations"):
        kiosk_register(survey=survey, location=LocationFactory(organisation=other_organisation))


def test_the_kiosk_page_holds_every_survey_language(client, kiosk, survey):
    survey.languages = ["en", "th", "he", "ja"]
    survey.save()
    page = client.get(reverse("surveys:kiosk", args=[kiosk.device_token]))
    assert page.status_code == 200
    codes = [form["code"] for form in page.context["forms"]]
    assert codes == ["en", "th", "he", "ja"]
    html = page.content.decode()
    for question in survey.questions.all():
        assert question.text["he"] in html


def test_kiosk_answers_count_for_their_store_once_the_group_is_big_enough(
    client, staff_client, kiosk, survey, organisation
):
    # given: four customers at the store (the minimum group is five)
    for nps in (10, 9, 3, 8):
        submit(client, kiosk, answers=kiosk_answers(survey, nps=nps))
    results = reverse("staff:survey_results", args=[organisation.slug, survey.pk])
    assert staff_client.get(results).context["results"].withheld
    # when: a fifth
    submit(client, kiosk, answers=kiosk_answers(survey, nps=10))
    # then
    (row,) = staff_client.get(results).context["results"].stores.rows
    assert row.label == kiosk.location.name and row.total.responses == 5
    assert row.total.nps == 40  # 3 promoters, 1 detractor of 5


@pytest.mark.parametrize("key", [None, 123, "", ["k"]])
def test_the_key_must_be_a_non_empty_string(client, kiosk, key):
    answer = client.post(
        reverse("surveys:kiosk_submit", args=[kiosk.device_token]),
        json.dumps({"idempotency_key": key, "answers": kiosk_answers(kiosk.survey)}),
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert not Response.objects.exists()


def test_errors_come_back_in_the_customers_language(client, kiosk, survey):
    from django.utils import translation

    answers = kiosk_answers(survey)
    answers.pop(f"q_{survey.questions.get(type='nps').pk}")
    answer = submit(client, kiosk, answers=answers, language="ja")
    with translation.override("ja"):
        expected = translation.gettext("Please answer this question.")
    assert expected in str(answer.json()["fields"])


@pytest.mark.parametrize(("asked", "answering"), [("th", "en"), ("en", "he"), ("ja", "ja")])
def test_errors_follow_the_answers_language_whatever_the_request_is_in(
    client, kiosk, survey, asked, answering
):
    from django.utils import translation

    answers = kiosk_answers(survey)
    answers.pop(f"q_{survey.questions.get(type='nps').pk}")
    body = {"idempotency_key": uuid.uuid4().hex, "language": answering, "answers": answers}
    answer = client.post(
        reverse("surveys:kiosk_submit", args=[kiosk.device_token]),
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=asked,
    )
    assert answer.status_code == 400
    with translation.override(answering):
        expected = translation.gettext("Please answer this question.")
    assert expected in str(answer.json()["fields"])
