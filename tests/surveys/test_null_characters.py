"""A NUL character in a text answer is refused with a clear error and nothing is written
(neither database stores one in text; before, PostgreSQL raised an error on it)."""

import json

import pytest
from django.test import Client

from surveys.models import Response
from surveys.services import kiosk_register
from tests.factories.communities import LocationFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def test_the_survey_page_refuses_a_null_character_and_stores_nothing(survey, member_client):
    url = f"/s/{survey.public_id}/"
    member_client.get(url)
    page = member_client.post(url, answers_for(survey, text="bad\x00text"))
    assert page.status_code == 400 and Response.objects.count() == 0
    assert "Null characters are not allowed." in page.content.decode()


def test_a_kiosk_refuses_a_null_character_and_stores_nothing(survey):
    kiosk = kiosk_register(
        survey=survey, location=LocationFactory(organisation=survey.organisation)
    )
    answers = answers_for(survey, text="bad\x00text")
    answers.pop("idempotency_key")
    page = Client().post(
        f"/k/{kiosk.device_token}/responses/",
        json.dumps({"idempotency_key": "nul-1", "language": "en", "answers": answers}),
        content_type="application/json",
    )
    assert page.status_code == 400 and page.json()["error"] == "invalid"
    assert Response.objects.count() == 0
