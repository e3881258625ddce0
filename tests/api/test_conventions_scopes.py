"""API keys carry scopes, "<area>:read" and "<area>:write"; every API view names its area
and refuses a key without the scope it needs (communities/api/base.py)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from communities.api.auth import ApiTokenAuthentication
from communities.api.base import ApiConventionsMixin
from communities.models import ApiToken, Member
from communities.models.organisations import API_AREAS, API_SCOPES
from communities.scoping import OrganisationScopedAPIView
from communities.services import api_token_create
from config.api_router import api_routes
from tests.api.problems import problem
from tests.communities.members_api import members_url, new_member

pytestmark = pytest.mark.django_db


def client_with(organisation, *scopes: str) -> APIClient:
    client = APIClient()
    key = api_token_create(organisation=organisation, name="scoped", scopes=scopes)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_read_scope_reads_and_a_write_needs_the_write_scope(organisation, community):
    reader = client_with(organisation, "members:read")
    url = members_url(organisation, community)

    read = reader.get(url)
    write = reader.post(url, new_member(), format="json")

    assert read.status_code == 200
    refused = problem(write, 403)
    assert refused["code"] == "insufficient_scope" and refused["required_scope"] == "members:write"
    assert "members:write" in refused["detail"]
    assert not Member.objects.exists()


def test_a_write_scope_includes_the_read(organisation, community):
    writer = client_with(organisation, "members:write")
    url = members_url(organisation, community)

    assert writer.get(url).status_code == 200
    assert writer.post(url, new_member(), format="json").status_code == 201
    # and a key stored with write alone (before the service added reads) reads as well
    assert ApiToken(scopes=["members:write"]).allows("members:read")
    assert not ApiToken(scopes=["members:read"]).allows("members:write")


def test_a_scope_of_one_area_opens_no_other(organisation):
    members_only = client_with(organisation, "members:write")

    answer = members_only.get(reverse("api:reward_list", args=[organisation.slug]))

    assert problem(answer, 403)["required_scope"] == "rewards:read"


def test_the_key_only_events_endpoint_needs_surveys_write(organisation, survey):
    url = reverse("api:event_receive", args=[organisation.slug])
    event = {"type": "ticket_closed", "external_ref": "T-1", "email": "a@example.com"}

    refused = client_with(organisation, "surveys:read").post(url, event, format="json")
    accepted = client_with(organisation, "surveys:write").post(url, event, format="json")

    assert problem(refused, 403)["required_scope"] == "surveys:write"
    assert accepted.status_code == 202


def test_staff_sessions_are_not_held_to_scopes(staff_client, organisation, community):
    answer = staff_client.get(members_url(organisation, community))
    assert answer.status_code == 200


def test_every_api_route_names_the_area_its_keys_need():
    # given: every route under /api/v1/<org>/
    routes = [p for p in api_routes() if "<slug:org>" in str(p.pattern)]
    assert routes
    # then each view is on the shared base and names an area a scope can grant
    for pattern in routes:
        view = pattern.callback.view_class
        assert issubclass(view, ApiConventionsMixin), pattern.name
        assert view.api_area in API_AREAS, (pattern.name, view.api_area)


def test_a_view_without_an_area_refuses_every_key(organisation):
    # given: a view someone forgot to give an area
    class NoAreaAPI(OrganisationScopedAPIView):
        authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
        permission_classes: list = []

        def get(self, request, *args, **kwargs):
            return Response({"ok": True})

    key = api_token_create(organisation=organisation, name="all")[1]
    request = APIRequestFactory().get("/x/", HTTP_AUTHORIZATION=f"Bearer {key}")
    # when
    answer = NoAreaAPI.as_view()(request, org=organisation.slug)
    # then
    assert answer.status_code == 403
    assert answer["Content-Type"] == "application/problem+json"


@pytest.mark.django_db(transaction=True)
def test_keys_made_before_scopes_get_every_scope(organisation):
    # given: the database as it was before scopes, with a key
    executor = MigrationExecutor(connection)
    executor.migrate([("communities", "0011_webhooks")])
    old_apps = executor.loader.project_state([("communities", "0011_webhooks")]).apps
    old_token = old_apps.get_model("communities", "ApiToken").objects.create(
        organisation_id=organisation.pk, name="old", prefix="chr_old", key_hash="0" * 64
    )
    # when: migrated
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then
    assert ApiToken.objects.get(pk=old_token.pk).scopes == sorted(API_SCOPES)
