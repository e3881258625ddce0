"""What the cases API tests share: URLs, clients of each role, and cases on responses of
each kind (identified with and without consent to contact, anonymous)."""

from __future__ import annotations

import uuid

from django.urls import reverse
from rest_framework.test import APIClient

from communities.choices import Role
from surveys.choices import ChannelKind, QuestionType
from tests.factories.communities import LocationFactory, MemberFactory, StaffRoleFactory
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import AnswerFactory, ChannelFactory, ResponseFactory


def url(name: str, organisation, *pk) -> str:
    return reverse(f"api:{name}", args=[organisation.slug, *pk])


def ids(answer) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


def role_client(organisation, role=Role.AGENT) -> tuple[APIClient, object]:
    """A REST client signed in as a new staff member of this role; and the user."""
    user = StaffRoleFactory(organisation=organisation, role=role).user
    client = APIClient()
    client.force_login(user)
    return client, user


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def identified_case(survey, *, consent: bool = True, **case_fields):
    """A case on a member's identified response: an NPS of 3 with a comment, from a kiosk
    in a store."""
    member = MemberFactory(community__organisation=survey.organisation, name="Ana Lima")
    location = LocationFactory(organisation=survey.organisation, name="Silom")
    channel = ChannelFactory(
        survey=survey, kind=ChannelKind.KIOSK, location=location, device_token=uuid.uuid4().hex
    )
    response = ResponseFactory(
        survey=survey,
        member=member,
        consent_to_contact=consent,
        channel=channel,
        location=location,
    )
    _answers(response, survey)
    return CaseFactory(response=response, **case_fields)


def anonymous_case(survey, **case_fields):
    response = ResponseFactory(survey=survey, is_anonymous=True)
    _answers(response, survey)
    return CaseFactory(response=response, **case_fields)


def _answers(response, survey) -> None:
    for question in survey.questions.all():
        if question.type == QuestionType.NPS:
            AnswerFactory(response=response, question=question, number=3)
        elif question.type == QuestionType.TEXT:
            AnswerFactory(
                response=response,
                question=question,
                number=None,
                text="Cold coffee",
                sentiment=-0.6,
            )
        elif question.type == QuestionType.SINGLE_CHOICE:
            answer = AnswerFactory(response=response, question=question, number=None)
            answer.choices.set([question.choices.first()])
