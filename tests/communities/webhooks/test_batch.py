"""Deliveries sent in batches by the drain every delivery task runs: claimed together,
posted concurrently over kept-alive connections, and written back in one transaction."""

import json
import socket
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.webhooks.choices import AttemptError, DeliveryStatus
from communities.webhooks.delivery import webhook_drain
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from communities.webhooks.verify import signature_verify
from tests.communities.webhooks.receiver import Answer
from tests.factories.communities import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _drain(**kwargs) -> int:
    with mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async"):
        return webhook_drain(**kwargs)


def _statuses(deliveries) -> list[str]:
    return [WebhookDelivery.objects.get(pk=d.pk).status for d in deliveries]


def test_a_mixed_batch_records_each_outcome(organisation, receiver, settings):
    # given four endpoints: one answering 200, one 503, one too slow, one on a private
    # address, with two deliveries each
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.script("/down", [Answer(503, b"maintenance")])
    receiver.script("/slow", [Answer(200, b"late", delay=1.5)])
    urls = {
        "ok": receiver.url("/ok"),
        "down": receiver.url("/down"),
        "slow": receiver.url("/slow"),
        "blocked": "http://10.0.0.1/hook",
    }
    endpoints = {
        name: WebhookEndpointFactory(organisation=organisation, url=url)
        for name, url in urls.items()
    }
    deliveries = {
        name: WebhookDeliveryFactory.create_batch(2, endpoint=endpoint)
        for name, endpoint in endpoints.items()
    }
    # when one drain runs
    attempts = _drain()
    # then each delivery was attempted once, in one batch
    assert attempts == 8
    assert WebhookAttempt.objects.count() == 8
    # the 2xx ones are delivered, the others wait to retry with the reason logged
    assert _statuses(deliveries["ok"]) == [DeliveryStatus.DELIVERED] * 2
    for name, error, code in [
        ("down", AttemptError.HTTP_5XX, 503),
        ("slow", AttemptError.TIMEOUT, None),
        ("blocked", AttemptError.BLOCKED_ADDRESS, None),
    ]:
        assert _statuses(deliveries[name]) == [DeliveryStatus.RETRYING] * 2, name
        logged = WebhookAttempt.objects.filter(delivery__in=deliveries[name])
        assert {(a.error, a.status_code) for a in logged} == {(error, code)}, name
    assert {a.response_excerpt for a in WebhookAttempt.objects.filter(status_code=503)} == {
        "maintenance"
    }
    # and the failing endpoints are marked failing, the healthy one not
    failing = dict(WebhookEndpoint.objects.values_list("url", "failing_since"))
    assert failing[urls["ok"]] is None
    assert all(failing[urls[name]] is not None for name in ("down", "slow", "blocked"))
    # and nothing was sent to the private address's endpoint, the rest signed
    assert len(receiver.to("/ok")) == 2
    assert all(
        signature_verify(
            secret=endpoints["ok"].secret, header=r.headers["Chorus-Signature"], body=r.body
        )
        for r in receiver.to("/ok")
    )


def test_the_slow_receivers_do_not_hold_up_the_rest_of_the_batch(organisation, receiver, settings):
    # given three receivers that each take 0.4 s and a batch of six deliveries
    settings.WEBHOOK_SEND_CONCURRENCY = 8
    receiver.script("/slow", [Answer(200, delay=0.4)])
    endpoint = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/slow"))
    deliveries = WebhookDeliveryFactory.create_batch(6, endpoint=endpoint)
    # when they are drained
    started = timezone.now()
    _drain()
    took = (timezone.now() - started).total_seconds()
    # then they went out concurrently, well under six times 0.4 s
    assert _statuses(deliveries) == [DeliveryStatus.DELIVERED] * 6
    assert took < 1.6


def test_a_batch_writes_its_results_with_a_fixed_number_of_statements(organisation, receiver):
    # given forty deliveries to two endpoints, one of them failing
    receiver.script("/down", [Answer(500)])
    good = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/ok"))
    bad = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/down"))
    WebhookDeliveryFactory.create_batch(20, endpoint=good)
    WebhookDeliveryFactory.create_batch(20, endpoint=bad)
    attempt_table = WebhookAttempt._meta.db_table
    # when they are drained in one batch
    with CaptureQueriesContext(connection) as queries:
        assert _drain(batch_size=50) == 40
    # then the attempts were written by one INSERT, and the whole drain took a handful of
    # statements (claim, endpoints, attempts, one UPDATE per outcome, endpoint failing,
    # the empty claim that ends it, and the savepoint around the writes)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and attempt_table in inserts[0]["sql"]
    assert len(queries.captured_queries) <= 10
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.RETRYING,
    }


def test_a_drain_takes_batch_after_batch_until_nothing_is_due(organisation, receiver):
    # given eleven pending deliveries and a retry not yet due
    endpoint = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/hook"))
    pending = WebhookDeliveryFactory.create_batch(11, endpoint=endpoint)
    later = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.RETRYING,
        next_attempt_at=timezone.now() + timedelta(seconds=1),
    )
    # when a drain runs in batches of four
    attempts = _drain(batch_size=4)
    # then every due delivery was sent once, and the retry not due was left for its time
    # (a drain takes no other retry early, only its own task's)
    assert attempts == 11
    assert _statuses(pending) == [DeliveryStatus.DELIVERED] * 11
    ids = sorted(json.loads(r.body)["id"] for r in receiver.to("/hook"))
    assert ids == sorted(d.event_id for d in pending)
    assert _statuses([later]) == [DeliveryStatus.RETRYING]


def test_a_task_takes_its_own_retry_a_moment_early(organisation, receiver):
    # given a retry due in a second, whose task has come
    endpoint = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/hook"))
    retry = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.RETRYING,
        next_attempt_at=timezone.now() + timedelta(seconds=1),
    )
    # when its drain runs
    # then it is sent
    assert _drain(first=retry.pk) == 1
    assert _statuses([retry]) == [DeliveryStatus.DELIVERED]


def test_one_batch_resolves_each_host_once_and_reuses_its_connections(
    organisation, receiver, settings
):
    # given ten deliveries to a host name the DNS answers with the receiver's address
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.customer.test"]
    settings.WEBHOOK_SEND_CONCURRENCY = 2
    url = f"http://hooks.customer.test:{receiver.port}/in"
    endpoint = WebhookEndpointFactory(organisation=organisation, url=url)
    WebhookDeliveryFactory.create_batch(10, endpoint=endpoint)
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]
    # when they are drained
    with mock.patch("communities.webhooks.net.socket.getaddrinfo", return_value=answers) as dns:
        _drain()
    # then the name was resolved and checked once, and at most two connections carried
    # the ten requests, each with the URL's own host
    assert [c.args[0] for c in dns.call_args_list].count("hooks.customer.test") == 1
    received = receiver.to("/in")
    assert len(received) == 10
    assert len({r.peer for r in received}) <= 2
    assert {r.headers["Host"] for r in received} == {f"hooks.customer.test:{receiver.port}"}


def test_a_success_in_the_batch_clears_the_endpoints_failing_run(organisation, receiver, settings):
    # given an endpoint failing for an hour, answering 500 then 200 (one at a time)
    settings.WEBHOOK_SEND_CONCURRENCY = 1
    receiver.script("/flaky", [Answer(500), Answer(200)])
    endpoint = WebhookEndpointFactory(
        organisation=organisation,
        url=receiver.url("/flaky"),
        failing_since=timezone.now() - timedelta(hours=1),
    )
    first, second = WebhookDeliveryFactory.create_batch(2, endpoint=endpoint)
    # when both go in one batch
    _drain()
    # then one is delivered, one retries, and the endpoint is not failing any more
    assert sorted(_statuses([first, second])) == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.RETRYING,
    ]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_drains_deliver_each_delivery_once(organisation, receiver, settings):
    # given sixty pending deliveries and a receiver taking a moment over each
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims are PostgreSQL's; SQLite has one writer at a time")
    receiver.script("/hook", [Answer(200, delay=0.02)])
    endpoint = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/hook"))
    deliveries = WebhookDeliveryFactory.create_batch(60, endpoint=endpoint)
    counts: list[int] = []

    def drain() -> None:
        try:
            counts.append(webhook_drain(batch_size=5))
        finally:
            connection.close()

    # when two workers drain at the same time
    workers = [threading.Thread(target=drain) for _ in range(2)]
    with mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async"):
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    # then between them every delivery was sent exactly once
    assert sum(counts) == 60
    ids = [json.loads(r.body)["id"] for r in receiver.to("/hook")]
    assert sorted(ids) == sorted(d.event_id for d in deliveries)
    assert _statuses(deliveries) == [DeliveryStatus.DELIVERED] * 60
    assert WebhookAttempt.objects.count() == 60
    # and both took part
    assert all(count > 0 for count in counts)
