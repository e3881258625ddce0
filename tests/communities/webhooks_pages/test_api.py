"""The webhook management API: endpoints (the secret in the answer that makes one, and
nowhere else), a new secret, deliveries with their attempts, resend and send test event."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from communities.choices import Role
from communities.models import AuditEntry
from communities.services import api_token_create
from communities.webhooks.choices import AttemptError, DeliveryStatus, WebhookEvent
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.communities.webhooks_pages.conftest import HOOK_URL
from tests.factories.communities import (
    StaffRoleFactory,
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def _api(name, organisation, *args):
    return reverse(f"api:{name}", args=[organisation.slug, *args])


@pytest.fixture
def admin_api(staff_user) -> APIClient:
    client = APIClient()
    client.force_login(staff_user)
    return client


def _key_client(organisation, scopes) -> APIClient:
    client = APIClient()
    key = api_token_create(organisation=organisation, name="CRM", scopes=scopes)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


# --- endpoints ----------------------------------------------------------------------------------


def test_creating_an_endpoint_answers_its_secret_once(api, organisation):
    # when
    made = api.post(
        _api("webhook_endpoint_list", organisation),
        {"url": HOOK_URL, "description": "CRM", "events": ["member.joined", "case.opened"]},
        format="json",
    )

    # then
    endpoint = WebhookEndpoint.objects.get()
    assert made.status_code == 201, made.content
    assert made["Cache-Control"] == "no-store"
    assert made.json()["secret"] == endpoint.secret
    assert made.json()["events"] == ["case.opened", "member.joined"]
    # and neither the list nor the endpoint's own answer shows it again
    listed = api.get(_api("webhook_endpoint_list", organisation))
    read = api.get(_api("webhook_endpoint_detail", organisation, endpoint.pk))
    assert endpoint.secret not in listed.content.decode() + read.content.decode()
    assert "secret" not in read.json() and "secret" not in listed.json()["results"][0]
    # and a key acts for the organisation: audited without a person
    assert AuditEntry.objects.get(action="webhook.create").actor is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        # Not of the schema's shape: 400.
        ({"url": "not a url"}, "url", 400),
        ({"url": " https://hooks.example.com/"}, "url", 400),
        ({"url": ""}, "url", 400),
        ({"url": "https://hooks.example.com/" + "a" * 480}, "url", 400),
        ({"events": []}, "events", 400),
        ({"events": ["ping"]}, "events", 400),
        ({"events": "case.opened"}, "events", 400),
        ({"url": 7}, "url", 400),
        # A URI, but not one the organisation may send to: 422.
        ({"url": "http://hooks.example.com/"}, "url", 422),
        ({"url": "https://10.1.2.3/"}, "url", 422),
        ({"url": "mailto:hooks@example.com"}, "url", 422),
    ],
)
def test_creating_an_endpoint_refuses_bad_input_with_the_field_named(
    admin_api, organisation, body, field, code
):
    # when
    answer = admin_api.post(
        _api("webhook_endpoint_list", organisation),
        {"url": HOOK_URL, "events": ["case.opened"], **body},
        format="json",
    )

    # then
    assert answer.status_code == code
    assert field in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_url_already_registered_is_refused(admin_api, organisation, endpoint):
    # when
    answer = admin_api.post(
        _api("webhook_endpoint_list", organisation),
        {"url": HOOK_URL, "events": ["case.opened"]},
        format="json",
    )

    # then
    assert answer.status_code == 422 and "already sends to this URL" in answer.content.decode()


def test_updating_changes_only_the_fields_sent(admin_api, organisation, endpoint):
    # when
    answer = admin_api.patch(
        _api("webhook_endpoint_detail", organisation, endpoint.pk),
        {"events": ["case.resolved"], "active": False},
        format="json",
    )

    # then
    endpoint.refresh_from_db()
    assert answer.status_code == 200, answer.content
    assert answer.json()["disabled_reason"] == "staff" and answer.json()["active"] is False
    assert (endpoint.url, endpoint.events) == (HOOK_URL, ["case.resolved"])


def test_updating_to_a_private_address_is_refused(admin_api, organisation, endpoint):
    answer = admin_api.patch(
        _api("webhook_endpoint_detail", organisation, endpoint.pk),
        {"url": "https://169.254.169.254/"},
        format="json",
    )
    assert answer.status_code == 422 and "url" in answer.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK_URL


def test_deleting_an_endpoint_removes_it_and_its_log(admin_api, organisation, endpoint):
    # given
    WebhookDeliveryFactory(endpoint=endpoint)

    # when
    answer = admin_api.delete(_api("webhook_endpoint_detail", organisation, endpoint.pk))

    # then
    assert answer.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_new_secret_is_answered_once(admin_api, organisation, endpoint):
    # given
    old = endpoint.secret

    # when
    answer = admin_api.post(_api("webhook_endpoint_secret", organisation, endpoint.pk))

    # then
    endpoint.refresh_from_db()
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert answer.json() == {"secret": endpoint.secret} and endpoint.secret != old


@pytest.mark.parametrize("page_size", [1, 100])
def test_the_endpoint_list_query_count_does_not_grow_with_page_size(
    admin_api, organisation, django_assert_max_num_queries, page_size
):
    # given
    WebhookEndpointFactory.create_batch(page_size, organisation=organisation)

    # when / then
    with django_assert_max_num_queries(6):
        answer = admin_api.get(
            _api("webhook_endpoint_list", organisation), {"page_size": page_size}
        )
    assert len(answer.json()["results"]) == page_size


# --- deliveries ---------------------------------------------------------------------------------


def test_deliveries_are_listed_newest_first_with_their_attempts(admin_api, organisation, endpoint):
    # given
    older = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    WebhookAttemptFactory(delivery=older, status_code=None, error=AttemptError.TIMEOUT)
    newer = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)
    WebhookAttemptFactory(delivery=newer, status_code=200, response_excerpt="ok")

    # when
    answer = admin_api.get(_api("webhook_delivery_list", organisation, endpoint.pk))

    # then
    results = answer.json()["results"]
    assert answer.status_code == 200
    assert [d["id"] for d in results] == [newer.pk, older.pk]
    assert results[0]["attempt_log"][0]["response_excerpt"] == "ok"
    assert results[1]["attempt_log"][0] == {
        **results[1]["attempt_log"][0],
        "status_code": None,
        "error": "timeout",
    }
    assert json.loads(results[0]["payload"])["id"] == newer.event_id


def test_deliveries_filter_by_status_and_event(admin_api, organisation, endpoint):
    # given
    wanted = WebhookDeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.FAILED, event=WebhookEvent.CASE_OPENED
    )
    WebhookDeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.DELIVERED, event=WebhookEvent.CASE_OPENED
    )
    WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)

    # when
    answer = admin_api.get(
        _api("webhook_delivery_list", organisation, endpoint.pk),
        {"status": "failed", "event": "case.opened"},
    )

    # then
    assert [d["id"] for d in answer.json()["results"]] == [wanted.pk]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"event": "nope"}, {"colour": "red"}])
def test_a_delivery_filter_the_list_does_not_know_is_refused(
    admin_api, organisation, endpoint, query
):
    answer = admin_api.get(_api("webhook_delivery_list", organisation, endpoint.pk), query)
    assert answer.status_code == 400 and next(iter(query)) in answer.content.decode()


@pytest.mark.parametrize("page_size", [1, 100])
def test_the_delivery_list_query_count_does_not_grow_with_page_size(
    admin_api, organisation, endpoint, django_assert_max_num_queries, page_size
):
    # given deliveries with two attempts each
    for _ in range(page_size):
        delivery = WebhookDeliveryFactory(endpoint=endpoint)
        WebhookAttemptFactory.create_batch(2, delivery=delivery)

    # when / then
    with django_assert_max_num_queries(7):
        answer = admin_api.get(
            _api("webhook_delivery_list", organisation, endpoint.pk), {"page_size": page_size}
        )
    assert len(answer.json()["results"]) == page_size


def test_resend_answers_the_delivery_queued_again(
    admin_api, organisation, endpoint, django_capture_on_commit_callbacks
):
    # given
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = admin_api.post(_api("webhook_delivery_resend", organisation, delivery.pk))

    # then
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending" and len(callbacks) == 1


def test_send_test_event_answers_the_ping_delivery(
    admin_api, organisation, endpoint, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False):
        answer = admin_api.post(_api("webhook_endpoint_test", organisation, endpoint.pk))

    # then
    assert answer.status_code == 201
    assert answer.json()["event"] == "ping" and answer.json()["endpoint"] == endpoint.pk


def test_a_disabled_endpoint_refuses_a_test_event(admin_api, organisation):
    endpoint = WebhookEndpointFactory(organisation=organisation, active=False)
    answer = admin_api.post(_api("webhook_endpoint_test", organisation, endpoint.pk))
    # then: the endpoint's state refuses it
    assert answer.status_code == 409 and "turn it on" in answer.content.decode()


# --- who may ------------------------------------------------------------------------------------


def test_a_key_needs_the_webhooks_scopes(organisation, endpoint):
    # given
    reader = _key_client(organisation, ["webhooks:read"])
    writer = _key_client(organisation, ["webhooks:write"])
    other_area = _key_client(organisation, ["members:write"])
    body = {"url": "https://hooks.example.com/new", "events": ["case.opened"]}
    endpoints = _api("webhook_endpoint_list", organisation)

    # then
    assert reader.get(endpoints).status_code == 200
    assert reader.post(endpoints, body, format="json").status_code == 403
    assert writer.post(endpoints, body, format="json").status_code == 201
    assert other_area.get(endpoints).status_code == 403


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AGENT])
def test_analysts_and_agents_may_not_read_webhooks(organisation, endpoint, role):
    client = APIClient()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    assert client.get(_api("webhook_endpoint_list", organisation)).status_code == 403
    detail = client.get(_api("webhook_endpoint_detail", organisation, endpoint.pk))
    assert detail.status_code == 403


def test_another_organisations_endpoints_and_deliveries_are_not_found(
    admin_api, organisation, other_organisation
):
    # given
    theirs = WebhookEndpointFactory(organisation=other_organisation)
    delivery = WebhookDeliveryFactory(endpoint=theirs, status=DeliveryStatus.FAILED)

    # then: under my organisation's URL their ids do not exist
    for name, pk in [
        ("webhook_endpoint_detail", theirs.pk),
        ("webhook_delivery_list", theirs.pk),
    ]:
        assert admin_api.get(_api(name, organisation, pk)).status_code == 404
    for name, pk in [
        ("webhook_endpoint_secret", theirs.pk),
        ("webhook_endpoint_test", theirs.pk),
        ("webhook_delivery_resend", delivery.pk),
    ]:
        assert admin_api.post(_api(name, organisation, pk)).status_code == 404
    gone = admin_api.delete(_api("webhook_endpoint_detail", organisation, theirs.pk))
    assert gone.status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    # and under theirs, I am an outsider
    assert admin_api.get(_api("webhook_endpoint_list", other_organisation)).status_code == 404
