"""Registering, changing, testing and resending: the services the staff pages and the
management API call."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from communities.models import AuditEntry
from communities.webhooks.choices import DeliveryStatus, DisabledReason, WebhookEvent
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from communities.webhooks.services import (
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
    webhook_test_send,
    webhook_url_check,
)
from tests.factories.communities import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

EVENTS = [WebhookEvent.RESPONSE_CREATED, WebhookEvent.MEMBER_JOINED]


def _create(organisation, url="https://crm.example.com/chorus", **kwargs):
    with mock.patch("communities.webhooks.net.socket.getaddrinfo", side_effect=OSError):
        return webhook_endpoint_create(organisation=organisation, url=url, events=EVENTS, **kwargs)


def test_an_endpoint_is_created_with_a_secret_returned_once_and_audited(organisation, staff_user):
    # when staff register an endpoint
    endpoint, secret = _create(organisation, actor=staff_user, description=" CRM ")
    # then it is active, subscribed as asked, and signs with the secret returned
    assert endpoint.active
    assert sorted(endpoint.events) == sorted(EVENTS)
    assert endpoint.description == "CRM"
    assert endpoint.created_by == staff_user
    assert secret.startswith("whsec_") and len(secret) > 40
    assert WebhookEndpoint.objects.get().secret == secret
    # and the audit log names the change without the secret
    entry = AuditEntry.objects.get(action="webhook.create")
    assert entry.actor == staff_user
    assert secret not in str(entry.changes)


def test_each_endpoint_gets_its_own_secret(organisation):
    _, first = _create(organisation, url="https://a.example.com/")
    _, second = _create(organisation, url="https://b.example.com/")
    assert first != second


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the URL"),
        ("not a url", "valid"),
        ("ftp://example.com/hook", "valid"),
        ("https://user:secret@example.com/hook", "user name or password"),
        ("http://crm.example.com/hook", "https://"),
        ("https://10.0.0.8/hook", "private"),
        ("https://169.254.169.254/latest", "private"),
        ("https://[::1]/hook", "private"),
        ("https://example.com/" + "a" * 500, "too long"),
    ],
)
def test_a_url_that_may_not_receive_webhooks_is_refused(settings, url, message):
    settings.DEBUG = False
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url=url)
    assert message in str(refused.value.message_dict["url"])


def test_a_host_resolving_to_a_private_address_is_refused_at_registration(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url="https://localhost/hook")
    assert "private" in str(refused.value.message_dict["url"])


def test_plain_http_is_accepted_in_debug_or_for_an_allow_listed_host(settings):
    settings.DEBUG = False
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert webhook_url_check(url="http://127.0.0.1:8000/hook") == "http://127.0.0.1:8000/hook"
    settings.DEBUG = True
    with mock.patch("communities.webhooks.net.socket.getaddrinfo", side_effect=OSError):
        assert webhook_url_check(url=" http://crm.example.com/x ") == "http://crm.example.com/x"


def test_a_host_that_does_not_resolve_yet_is_accepted():
    # each delivery resolves and checks it again
    with mock.patch("communities.webhooks.net.socket.getaddrinfo", side_effect=OSError):
        assert webhook_url_check(url="https://not-yet.example.com/")


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "at least one"), (["response.created", "nope"], "Unknown"), (["ping"], "Unknown")],
)
def test_events_must_be_known_and_chosen(organisation, events, message):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(organisation=organisation, url="https://1.1.1.1/", events=events)
    assert message in str(refused.value.message_dict["events"])
    assert not WebhookEndpoint.objects.exists()


def test_one_organisation_cannot_register_a_url_twice(organisation, other_organisation):
    _create(organisation)
    with pytest.raises(ValidationError) as refused:
        _create(organisation)
    assert "already" in str(refused.value.message_dict["url"])
    # another organisation may use the same URL
    _create(other_organisation)


def test_turning_an_endpoint_off_and_on_records_why_and_clears_its_failures(
    organisation, staff_user
):
    endpoint, _ = _create(organisation)
    # when staff turn it off
    endpoint = webhook_endpoint_update(endpoint=endpoint, active=False, actor=staff_user)
    # then it is disabled by staff
    assert endpoint.disabled_reason == DisabledReason.STAFF
    assert endpoint.disabled_at is not None
    # when it had been failing and is turned back on
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=endpoint.disabled_at)
    endpoint = webhook_endpoint_update(endpoint=endpoint, active=True, actor=staff_user)
    # then nothing of the old run is left
    assert endpoint.active
    assert endpoint.disabled_at is None
    assert endpoint.disabled_reason == ""
    assert endpoint.failing_since is None
    assert AuditEntry.objects.filter(action="webhook.update").count() == 2


def test_updating_checks_the_url_and_events_again(organisation, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    endpoint, _ = _create(organisation)
    with pytest.raises(ValidationError):
        webhook_endpoint_update(endpoint=endpoint, url="https://10.1.1.1/")
    with pytest.raises(ValidationError):
        webhook_endpoint_update(endpoint=endpoint, events=[])
    endpoint = webhook_endpoint_update(endpoint=endpoint, events=[WebhookEvent.CASE_OPENED])
    assert endpoint.events == [WebhookEvent.CASE_OPENED]


def test_rotating_the_secret_returns_a_new_one_and_keeps_it(organisation, staff_user):
    endpoint, old = _create(organisation)
    new = webhook_endpoint_secret_rotate(endpoint=endpoint, actor=staff_user)
    assert new != old
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == new
    entry = AuditEntry.objects.get(action="webhook.secret_rotate")
    assert new not in str(entry.changes) and old not in str(entry.changes)


def test_deleting_an_endpoint_deletes_its_log_and_is_audited(organisation, staff_user):
    endpoint, _ = _create(organisation)
    WebhookDeliveryFactory(endpoint=endpoint)
    webhook_endpoint_delete(endpoint=endpoint, actor=staff_user)
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.delete").exists()


def test_a_test_event_is_a_ping_queued_for_that_endpoint_only(
    organisation, staff_user, django_capture_on_commit_callbacks
):
    # given an endpoint subscribed to other events, and a second endpoint
    endpoint, _ = _create(organisation)
    _create(organisation, url="https://other.example.com/")
    # when staff send a test event
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = webhook_test_send(endpoint=endpoint, actor=staff_user)
    # then one ping delivery is queued for it, and sent after commit
    assert delivery.event == WebhookEvent.PING
    assert delivery.endpoint_id == endpoint.pk
    assert delivery.payload["type"] == "ping"
    assert delivery.payload["organisation"] == organisation.slug
    assert WebhookDelivery.objects.count() == 1
    send.assert_called_once_with(kwargs={"delivery_id": delivery.pk}, countdown=None)
    # and each test event is its own
    assert webhook_test_send(endpoint=endpoint).event_id != delivery.event_id


def test_a_disabled_endpoint_is_not_sent_test_events_or_resends(organisation):
    endpoint = WebhookEndpointFactory(organisation=organisation, active=False)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    with pytest.raises(ValidationError):
        webhook_test_send(endpoint=endpoint)
    with pytest.raises(ValidationError):
        webhook_delivery_resend(delivery=delivery)


def test_resending_a_failed_delivery_queues_it_again_with_a_new_window(
    organisation, staff_user, django_capture_on_commit_callbacks
):
    # given a delivery that failed for good a day ago
    endpoint = WebhookEndpointFactory(organisation=organisation)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, attempts=9)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=delivery.created_at.replace(year=2025)
    )
    # when staff resend it
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        resent = webhook_delivery_resend(delivery=delivery, actor=staff_user)
    # then it is pending now, with the same event id and body, and sent after commit
    assert resent.status == DeliveryStatus.PENDING
    assert resent.created_at.year > 2025
    assert resent.event_id == delivery.event_id
    assert resent.payload == delivery.payload
    send.assert_called_once_with(kwargs={"delivery_id": delivery.pk}, countdown=None)
    assert AuditEntry.objects.filter(action="webhook.resend").exists()


def test_resending_a_delivery_still_on_its_way_changes_nothing(organisation):
    delivery = WebhookDeliveryFactory(
        endpoint=WebhookEndpointFactory(organisation=organisation), status=DeliveryStatus.PENDING
    )
    with mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send:
        webhook_delivery_resend(delivery=delivery)
    send.assert_not_called()
