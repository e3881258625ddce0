import datetime
from unittest import mock

import pytest

from communities.webhooks.cache import endpoints_forget
from communities.webhooks.choices import DeliveryStatus, WebhookEvent
from communities.webhooks.emit import webhook_emit, webhook_emit_many, webhook_subscribed
from communities.webhooks.models import WebhookDelivery
from tests.factories.communities import OrganisationFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _emit(organisation, event_id="response.created:1", event=WebhookEvent.RESPONSE_CREATED):
    return webhook_emit(
        organisation=organisation, event=event, data={"response": 1}, event_id=event_id
    )


def test_emit_writes_nothing_when_the_organisation_has_no_endpoints(organisation):
    # given an organisation without endpoints
    # when an event is emitted
    written = _emit(organisation)
    # then nothing is queued
    assert written == 0
    assert not WebhookDelivery.objects.exists()


def test_emit_costs_no_query_once_the_empty_endpoint_list_is_cached(
    organisation, django_assert_num_queries
):
    # given the organisation's (empty) endpoint list was read once
    _emit(organisation)
    # when more events are emitted (the survey submit path)
    with django_assert_num_queries(0):
        for n in range(5):
            _emit(organisation, event_id=f"response.created:{n}")
    # then no query was made


def test_emit_reads_the_endpoint_list_again_after_it_expires(organisation, settings):
    # given a cached empty list and then an endpoint saved elsewhere (another process:
    # this process's copy is not flushed)
    settings.WEBHOOK_ENDPOINT_CACHE_SECONDS = 0.0
    _emit(organisation)
    with mock.patch("communities.webhooks.cache.endpoints_forget"):
        WebhookEndpointFactory(organisation=organisation)
    # when an event is emitted after the copy's time is up
    written = _emit(organisation, event_id="response.created:2")
    # then the new endpoint gets it
    assert written == 1


def test_emit_writes_one_delivery_per_subscribed_active_endpoint(organisation):
    # given two subscribed endpoints, one subscribed to something else, one disabled,
    # and another organisation's endpoint
    wanted = [WebhookEndpointFactory(organisation=organisation) for _ in range(2)]
    WebhookEndpointFactory(organisation=organisation, events=[WebhookEvent.MEMBER_JOINED])
    WebhookEndpointFactory(organisation=organisation, active=False)
    WebhookEndpointFactory(organisation=OrganisationFactory())
    # when a response.created event is emitted
    written = _emit(organisation, event_id="response.created:7")
    # then exactly the two subscribed, active endpoints of the organisation get one each
    assert written == 2
    rows = WebhookDelivery.objects.order_by("endpoint_id")
    assert [d.endpoint_id for d in rows] == sorted(e.pk for e in wanted)
    for delivery in rows:
        assert delivery.organisation_id == organisation.pk
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.event == "response.created"
        assert delivery.event_id == "response.created:7"


def test_emit_skips_an_event_the_endpoint_did_not_subscribe_to(organisation):
    # given an endpoint that only wants member.joined
    WebhookEndpointFactory(organisation=organisation, events=[WebhookEvent.MEMBER_JOINED])
    # when a response.created event is emitted
    written = _emit(organisation)
    # then nothing is written
    assert written == 0
    assert not WebhookDelivery.objects.exists()
    assert webhook_subscribed(organisation=organisation, event=WebhookEvent.MEMBER_JOINED)
    assert not webhook_subscribed(organisation=organisation, event=WebhookEvent.RESPONSE_CREATED)


def test_emitting_the_same_event_twice_delivers_it_once(organisation):
    # given a subscribed endpoint and an event already emitted
    WebhookEndpointFactory(organisation=organisation)
    assert _emit(organisation, event_id="response.created:9") == 1
    # when the same event (same id) is emitted again, as a retried cause would
    written = _emit(organisation, event_id="response.created:9")
    # then no second delivery is written
    assert written == 0
    assert WebhookDelivery.objects.count() == 1


def test_emit_wraps_the_data_in_the_envelope_receivers_get(organisation):
    # given a subscribed endpoint
    WebhookEndpointFactory(organisation=organisation)
    at = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    # when an event carrying a date is emitted
    webhook_emit(
        organisation=organisation.pk,
        event=WebhookEvent.RESPONSE_CREATED,
        data={"response": 5, "submitted_at": at},
        event_id="response.created:5",
    )
    # then the stored body is plain JSON with the id, type, time and organisation
    payload = WebhookDelivery.objects.get().payload
    assert payload["id"] == "response.created:5"
    assert payload["type"] == "response.created"
    assert payload["organisation"] == organisation.slug
    assert payload["created"].endswith("Z")
    assert payload["data"] == {"response": 5, "submitted_at": "2026-03-04T05:06:07Z"}


def test_emit_sends_only_after_the_cause_commits(organisation, django_capture_on_commit_callbacks):
    # given a subscribed endpoint
    WebhookEndpointFactory(organisation=organisation)
    # when an event is emitted inside a transaction
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        _emit(organisation)
        # then nothing is sent before commit
        send.assert_not_called()
    # and one send is registered for after it, starting with its delivery
    assert len(callbacks) >= 1
    delivery = WebhookDelivery.objects.get()
    send.assert_called_once_with(kwargs={"delivery_id": delivery.pk}, countdown=None)


def test_many_emits_in_one_transaction_start_one_drain(
    organisation, django_capture_on_commit_callbacks
):
    # given two subscribed endpoints
    WebhookEndpointFactory.create_batch(2, organisation=organisation)
    # when a request emits fifty events in its transaction
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n in range(50):
            _emit(organisation, event_id=f"response.created:{n}")
    # then a hundred deliveries wait, and one task is queued to send them all
    assert WebhookDelivery.objects.count() == 100
    send.assert_called_once()


def test_saving_an_endpoint_flushes_the_cached_list(organisation):
    # given the organisation's empty endpoint list is cached
    assert _emit(organisation) == 0
    # when an endpoint is registered in this process
    WebhookEndpointFactory(organisation=organisation)
    # then the next event reaches it at once
    assert _emit(organisation, event_id="response.created:2") == 1


def test_deleting_or_disabling_an_endpoint_flushes_the_cached_list(organisation):
    # given two endpoints, cached
    first = WebhookEndpointFactory(organisation=organisation)
    second = WebhookEndpointFactory(organisation=organisation)
    assert _emit(organisation, event_id="response.created:1") == 2
    # when one is deleted and the other disabled
    first.delete()
    second.active = False
    second.save()
    # then neither gets the next event
    assert _emit(organisation, event_id="response.created:2") == 0


def test_a_new_organisation_never_inherits_a_cached_list_under_its_id():
    # given a cached list for an organisation id (SQLite reuses ids after a rollback)
    organisation = OrganisationFactory()
    WebhookEndpointFactory(organisation=organisation)
    assert _emit(organisation) == 1
    organisation_id = organisation.pk
    endpoints_forget()
    _emit(organisation_id, event_id="response.created:2")
    # when an organisation is created (under whatever id)
    newcomer = OrganisationFactory()
    # then its list is read afresh: the newcomer has no endpoints
    assert _emit(newcomer, event_id="response.created:3") == 0


def test_emit_many_writes_every_event_for_every_endpoint_in_one_insert(
    organisation, django_assert_num_queries
):
    # given two subscribed endpoints, their list cached
    WebhookEndpointFactory(organisation=organisation)
    WebhookEndpointFactory(organisation=organisation)
    webhook_subscribed(organisation=organisation, event=WebhookEvent.MEMBER_JOINED)
    # when three members join in one import
    with django_assert_num_queries(1):
        written = webhook_emit_many(
            organisation=organisation,
            event=WebhookEvent.MEMBER_JOINED,
            events=[(f"member.joined:{n}:x", {"member": n}) for n in range(3)],
        )
    # then six deliveries are written
    assert written == 6
    assert WebhookDelivery.objects.filter(event="member.joined").count() == 6
