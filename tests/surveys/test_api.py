"""The staff REST API: scoped to the caller's organisations, JSON errors, bounded queries."""

import re

import pytest
from django.urls import reverse

from communities.choices import Role
from surveys.services import response_submit
from tests.api.problems import problem
from tests.factories.communities import StaffRoleFactory
from tests.factories.surveys import SurveyFactory, survey_with_every_question_type
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def submit(survey, **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(survey=survey, raw_answers=data, idempotency_key=key).response


def test_survey_list_shows_my_organisations_surveys_only(
    staff_client, organisation, survey, other_organisation
):
    SurveyFactory(organisation=other_organisation)
    body = staff_client.get(reverse("api:survey_list", args=[organisation.slug])).json()
    assert [s["id"] for s in body["results"]] == [survey.pk]
    assert len(body["results"][0]["questions"]) == 5


def test_another_organisation_answers_404_with_json(staff_client, other_organisation):
    foreign = SurveyFactory(organisation=other_organisation)
    for url in (
        reverse("api:survey_list", args=[other_organisation.slug]),
        reverse("api:survey_detail", args=[other_organisation.slug, foreign.pk]),
        reverse("api:survey_response_list", args=[other_organisation.slug, foreign.pk]),
    ):
        page = staff_client.get(url)
        assert problem(page, 404)["code"] == "not_found"


def test_another_organisations_survey_id_under_mine_is_404(
    staff_client, organisation, other_organisation
):
    foreign = SurveyFactory(organisation=other_organisation)
    for name in ("api:survey_detail", "api:survey_response_list"):
        assert (
            staff_client.get(reverse(name, args=[organisation.slug, foreign.pk])).status_code == 404
        )


def test_agent_may_not_read_results(client, organisation, survey):
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.AGENT).user)
    page = client.get(reverse("api:survey_list", args=[organisation.slug]))
    assert problem(page, 403)["code"] == "permission_denied"


def test_signed_out_caller_is_refused(client, organisation):
    page = client.get(reverse("api:survey_list", args=[organisation.slug]))
    assert problem(page)["status"] in (401, 403)


def test_responses_come_with_answers_in_bounded_queries(
    staff_client, organisation, django_assert_max_num_queries
):
    survey = survey_with_every_question_type(organisation=organisation)
    for nps in range(10):
        submit(survey, nps=nps)
    with django_assert_max_num_queries(10):
        body = staff_client.get(
            reverse("api:survey_response_list", args=[organisation.slug, survey.pk])
        ).json()
    assert len(body["results"]) == 10
    assert {a["question_type"] for a in body["results"][0]["answers"]} == {
        "nps",
        "star",
        "single_choice",
        "multi_choice",
    }


def test_unknown_survey_is_404(staff_client, organisation):
    assert (
        staff_client.get(
            reverse("api:survey_response_list", args=[organisation.slug, 999999])
        ).status_code
        == 404
    )


def test_openapi_schema_is_served(staff_client):
    assert staff_client.get(reverse("api:schema")).status_code == 200


# Routes other systems call with an organisation API key instead of a staff session.
KEY_ROUTES = {"event_receive"}


SLUG_VALUES = {"priority": "high"}


def test_every_org_api_route_is_walked_by_the_cross_tenant_test(
    staff_client, organisation, other_organisation
):
    from rest_framework.test import APIClient

    from communities.services import api_token_create
    from config.api_router import api_routes

    key_client = APIClient()
    key = api_token_create(organisation=organisation, name="walk")[1]
    key_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    foreign = SurveyFactory(organisation=other_organisation)
    scoped = [p for p in api_routes() if "<slug:org>" in str(p.pattern)]
    assert scoped
    for pattern in scoped:
        kwargs = {"org": other_organisation.slug}
        # Every id of the route (a nested one has several) names the foreign survey's id.
        for name in re.findall(r"<int:(\w+)>", str(pattern.pattern)):
            kwargs[name] = foreign.pk
        # A slug other than the organisation's names a value that exists in any organisation.
        for name in re.findall(r"<slug:(\w+)>", str(pattern.pattern)):
            if name not in kwargs:
                kwargs[name] = SLUG_VALUES[name]
        url = reverse(f"api:{pattern.name}", kwargs=kwargs)
        if pattern.name in KEY_ROUTES:
            assert key_client.post(url, {}, format="json").status_code == 404
        else:
            assert staff_client.get(url).status_code == 404
