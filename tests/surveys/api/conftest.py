"""Fixtures for the surveys and responses API tests: URLs by name, clients by key scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from communities.services import api_token_create
from surveys.choices import QuestionType, SurveyStatus
from tests.factories.surveys import ChoiceFactory, QuestionFactory, SurveyFactory


def api_url(name: str, organisation, *ids: int) -> str:
    return reverse(f"api:{name}", args=[organisation.slug, *ids])


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """A client calling with a new key of the organisation that has exactly these scopes."""

    def make(organisation, *scopes: str) -> APIClient:
        key = api_token_create(organisation=organisation, name="scoped", scopes=scopes)[1]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def draft(organisation):
    """A draft in English and Thai with a star question and a three-answer choice question."""
    survey = SurveyFactory(
        organisation=organisation,
        status=SurveyStatus.DRAFT,
        languages=["en", "th"],
        title={"en": "Draft", "th": "ร่าง"},
    )
    QuestionFactory(survey=survey, position=1, type=QuestionType.STAR, text={"en": "Stars?"})
    question = QuestionFactory(
        survey=survey, position=2, type=QuestionType.SINGLE_CHOICE, text={"en": "Why?"}
    )
    for position, label in enumerate(("Coffee", "Cake", "Wi-Fi"), start=1):
        ChoiceFactory(question=question, position=position, label={"en": label})
    return survey


def problem_pointers(answer) -> set[str]:
    """The JSON pointers a 400 problem names."""
    body = answer.json()
    assert answer["Content-Type"].startswith("application/problem+json"), body
    return {error["pointer"] for error in body.get("errors", [])}
