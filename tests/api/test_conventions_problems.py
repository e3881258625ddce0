"""Every API error is one shape: RFC 9457 problem details (config/api_errors.py)."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory, override_settings
from django.urls import reverse
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from communities.choices import Role
from config import urls as project_urls
from config.api_errors import PROBLEM_BASE, field_errors, problem_from_exception
from config.errors import bad_request
from tests.api.problems import problem
from tests.communities.members_api import member_url, members_url, new_member
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
)

pytestmark = pytest.mark.django_db

HANDLERS = "tests.api.handlers_urls"


# --- the shape ------------------------------------------------------------------------------


def test_a_refused_body_names_each_field_with_a_json_pointer(api, organisation, community):
    # when
    answer = api.post(
        members_url(organisation, community),
        {"email": "not an address", "consent": True, "locale": "xx"},
        format="json",
    )
    # then
    body = problem(answer, 400)
    assert body["type"] == PROBLEM_BASE + "validation" and body["code"] == "invalid"
    assert body["title"] == "Invalid input"
    assert body["instance"] == members_url(organisation, community)
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"/email", "/locale"} <= pointers
    assert all({"pointer", "detail", "code"} <= error.keys() for error in body["errors"])
    assert "parameter" not in body["errors"][0]  # a body, not a query


def test_a_refused_query_parameter_is_named_as_a_parameter(api, organisation, community):
    answer = api.get(members_url(organisation, community), {"stauts": "active"})

    (error,) = problem(answer, 400)["errors"]
    assert error["pointer"] == "/stauts" and error["parameter"] == "stauts"


def test_nested_and_list_errors_flatten_to_pointers():
    # given: what DRF builds for a nested serializer, a many=True list (one entry per item,
    # {} for a good one), a ListField (by index), a DictField key with a slash, and the
    # request as a whole
    detail = ValidationError(
        {
            "non_field_errors": ["Send one of a or b."],
            "address": {"city": ["Required."], "non_field_errors": ["Incomplete."]},
            "items": [{}, {"name": ["Too long."]}],
            "tags": {2: ["Not a tag."]},
            "attributes": {"size/fit": ["Unknown."], "a~b": ["Unknown."]},
            "email": ["Enter a valid email address.", "Already taken."],
        }
    ).detail
    # when
    errors = field_errors(detail)
    # then
    assert [(e["pointer"], e["detail"]) for e in errors] == [
        ("", "Send one of a or b."),
        ("/address/city", "Required."),
        ("/address", "Incomplete."),
        ("/items/1/name", "Too long."),
        ("/tags/2", "Not a tag."),
        ("/attributes/size~1fit", "Unknown."),
        ("/attributes/a~0b", "Unknown."),
        ("/email", "Enter a valid email address."),
        ("/email", "Already taken."),
    ]
    assert {e["code"] for e in errors} == {"invalid"}


def test_a_list_of_messages_at_the_top_is_about_the_whole_request():
    errors = field_errors(ValidationError("Nothing to do.", code="empty").detail)
    assert errors == [{"pointer": "", "detail": "Nothing to do.", "code": "empty"}]


def test_a_validation_error_of_its_own_kind_keeps_its_status_code_and_field_errors():
    # given: input of the right shape that the organisation's data refuses
    class Unprocessable(ValidationError):
        status_code = 422
        default_code = "unprocessable"

    request = RequestFactory().post("/api/v1/demo/things/")
    # when
    body = problem_from_exception(Unprocessable({"city": ["Not a city here."]}), request=request)
    # then
    assert (body["status"], body["code"]) == (422, "unprocessable")
    assert body["type"] == PROBLEM_BASE + "unprocessable"
    assert body["errors"] == [
        {"pointer": "/city", "detail": "Not a city here.", "code": "unprocessable"}
    ]


# --- every kind of refusal ------------------------------------------------------------------


def test_no_credentials_is_a_401_problem_with_the_scheme(organisation, community):
    answer = APIClient().get(members_url(organisation, community))

    assert problem(answer, 401)["type"] == PROBLEM_BASE + "authentication-required"
    assert answer["WWW-Authenticate"] == "Bearer"


def test_an_unknown_key_is_a_401_problem(organisation, community):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer chr_nope")

    body = problem(client.get(members_url(organisation, community)), 401)

    assert body["code"] == "authentication_failed" and "Unknown" in body["detail"]


def test_a_role_that_may_not_is_a_403_problem(client, organisation, community):
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)

    answer = client.post(
        members_url(organisation, community), new_member(), content_type="application/json"
    )

    assert problem(answer, 403)["type"] == PROBLEM_BASE + "forbidden"


def test_another_organisation_is_a_404_problem(api, other_organisation):
    community = CommunityFactory(organisation=other_organisation)

    answer = api.get(members_url(other_organisation, community))

    assert problem(answer, 404)["type"] == PROBLEM_BASE + "not-found"


def test_a_method_the_endpoint_lacks_is_a_405_problem(api, organisation, member):
    answer = api.delete(member_url(organisation, member))

    assert problem(answer, 405)["code"] == "method_not_allowed"
    assert "GET" in answer["Allow"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "parse_error"),
        (
            b"email=a@example.com",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        (
            b'{"name": "' + b"x" * (1024 * 1024) + b'"}',
            "application/json",
            413,
            "request_too_large",
        ),
    ],
    ids=["malformed", "form", "over a megabyte"],
)
def test_a_body_the_api_cannot_read_is_a_problem(
    api, organisation, community, body, content_type, status, code
):
    answer = api.generic("POST", members_url(organisation, community), body, content_type)

    assert problem(answer, status)["code"] == code


def test_an_error_a_view_returns_keeps_its_own_members(api, organisation, community):
    # given: a member already there, which the view answers with a 409 naming them
    existing = MemberFactory(community=community, email="kim@example.com")

    answer = api.post(members_url(organisation, community), new_member(), format="json")

    body = problem(answer, 409)
    assert body["member_id"] == existing.pk and body["code"] == "conflict"
    assert "already a member" in body["detail"]


def test_a_custom_exception_names_its_own_type_and_code(api, organisation, community):
    # given: a segment whose saved filter no longer reads
    segment = SegmentFactory(community=community, filter={"colour": "red"})

    answer = api.get(reverse("api:segment_member_list", args=[organisation.slug, segment.pk]))

    body = problem(answer, 409)
    assert body["code"] == "segment_filter_stale"
    assert body["type"] == PROBLEM_BASE + "segment-filter-stale"


# --- answers no API view gives ------------------------------------------------------------


def test_the_project_answers_api_paths_no_view_answers_with_problems():
    assert getattr(project_urls, "handler404", None) == "config.api_errors.page_not_found"
    assert getattr(project_urls, "handler500", None) == "config.api_errors.server_error"


@override_settings(ROOT_URLCONF=HANDLERS)
def test_an_unknown_api_path_is_a_404_problem_and_a_page_path_is_still_a_page(client):
    answer = client.get("/api/v1/nowhere/at-all/")

    assert problem(answer, 404)["instance"] == "/api/v1/nowhere/at-all/"
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@override_settings(ROOT_URLCONF=HANDLERS)
def test_a_server_error_in_the_api_is_a_500_problem(organisation):
    answer = APIClient(raise_request_exception=False).get(f"/api/v1/{organisation.slug}/broken/")

    body = problem(answer, 500)
    assert body["code"] == "server_error" and "a bug" not in answer.content.decode()


def test_a_malformed_request_to_the_api_is_a_400_problem():
    request = RequestFactory().get("/api/v1/x/surveys/")

    answer = bad_request(request, SuspiciousOperation("odd"))

    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"
