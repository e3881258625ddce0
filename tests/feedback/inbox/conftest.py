"""Fixtures for the staff case inbox and case page: an agent signed in, a colleague, and
cases of the agent's organisation made to order."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import SurveyFactory


@pytest.fixture
def agent(organisation):
    user = UserFactory(email="agent@example.com", name="Ann Agent")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.AGENT)
    return user


@pytest.fixture
def colleague(organisation):
    user = UserFactory(email="kim.lee@example.com", name="Kim Lee", locale="th")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.AGENT)
    return user


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def inbox_survey(organisation):
    return SurveyFactory(organisation=organisation)


@pytest.fixture
def make_case(organisation, inbox_survey):
    """A case of the organisation: on `inbox_survey` unless another survey is given."""

    def make(survey=None, **fields):
        return CaseFactory(response__survey=survey or inbox_survey, **fields)

    return make


def inbox_url(organisation, **query) -> str:
    from urllib.parse import urlencode

    base = reverse("staff:case_list", args=[organisation.slug])
    return f"{base}?{urlencode(query, doseq=True)}" if query else base


def case_url(organisation, case, action: str = "detail") -> str:
    return reverse(f"staff:case_{action}", args=[organisation.slug, case.pk])


def listed(page) -> list[int]:
    """The case ids the inbox page lists, in its order."""
    return [case.pk for case in page.context["cases"]]
