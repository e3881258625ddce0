"""Webhooks end to end: causes committed in this process, a real Celery worker process
sending them over a Redis of this module's own, to a real HTTP receiver in the test.

The worker runs with short webhook settings (timeout, backoff, disable-after) given in its
environment, so retries and disabling happen in seconds. It has a broker of its own, so no
other worker (the session's, with the default settings) can take its messages.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from communities.choices import ConsentPurpose, MemberStatus, Role
from communities.flows import member_erase
from communities.services import member_confirm
from communities.services.consent import member_consent_change
from communities.webhooks.choices import DeliveryStatus, DisabledReason, WebhookEvent
from communities.webhooks.delivery import webhook_redrive
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from communities.webhooks.services import webhook_test_send
from communities.webhooks.verify import signature_verify
from tests.communities.webhooks.receiver import Answer
from tests.factories.communities import (
    ConsentRecordFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
    WebhookEndpointFactory,
)
from tests.factories.rewards import LedgerEntryFactory, RewardFactory
from tests.surveys.helpers import answers_for
from tests.worker_fixtures import (
    RedisServer,
    _database_url,
    _worker_start,
    _worker_stop,
    _worker_wait_ready,
    publisher_point_at,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# What the worker runs with: an answer within 1 s, retries after at most 0.5 s, 1 s, 1 s…,
# and an endpoint failing for 8 s is disabled.
DISABLE_AFTER_SECONDS = 8
WORKER_SETTINGS = {
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_BACKOFF_BASE_SECONDS": "0.5",
    "WEBHOOK_BACKOFF_CAP_SECONDS": "1",
    "WEBHOOK_DISABLE_AFTER_HOURS": str(DISABLE_AFTER_SECONDS / 3600),
    "WEBHOOK_RESPONSE_MAX_BYTES": "256",
}


@pytest.fixture(scope="module")
def hook_worker(django_db_setup, django_db_blocker, smtp_sink, tmp_path_factory):
    """A Redis and a `celery worker` of this module's own, with the short settings."""
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.fail("worker tests need REDIS_URL and a PostgreSQL DATABASE_URL")
    from config.celery import app

    folder = tmp_path_factory.mktemp("hook-broker")
    broker = RedisServer(folder)
    broker.start()
    saved = app.conf.broker_url
    publisher_point_at(broker.url)
    with django_db_blocker.unblock():
        database_url = _database_url()
    log = folder / "worker.log"
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": broker.url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink[1]}",
        **WORKER_SETTINGS,
    }
    process = _worker_start(env=env, log=log, name=f"hooks-{os.getpid()}@%h")
    try:
        _worker_wait_ready(process, log)
        yield process, log
    finally:
        _worker_stop(process)
        publisher_point_at(saved)
        broker.stop()


@pytest.fixture(autouse=True)
def _retries_settled_before_the_flush(request):
    """After each test the database is emptied (TRUNCATE); the module's worker keeps
    retrying a failing delivery every second, and a retry holding a row lock then deadlocks
    the TRUNCATE. Switch the endpoints off and wait until no attempt has been added for a
    little over the longest back-off, so the retries in hand have finished."""
    yield
    if "hook_worker" not in request.fixturenames:
        return
    from communities.webhooks.models import WebhookAttempt

    WebhookEndpoint.objects.update(active=False)
    last, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + 20
    while time.monotonic() < deadline:
        count = WebhookAttempt.objects.count()
        if count != last:
            last, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            return
        time.sleep(0.1)


@pytest.fixture
def endpoint(organisation, receiver, settings, hook_worker):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return WebhookEndpointFactory(organisation=organisation, url=receiver.url("/hook"))


def _verified(endpoint, received) -> bool:
    return signature_verify(
        secret=endpoint.secret, header=received.headers["Chorus-Signature"], body=received.body
    )


def _causes(organisation, community, survey, staff_user) -> None:
    """One of every cause, each committed on its own as a request would."""
    from feedback.choices import CaseStatus
    from feedback.models import RootCause
    from feedback.reasons import reason_make
    from feedback.services.cases import case_open, case_status_change
    from rewards.services import redemption_approve, redemption_request
    from surveys.services.responses import response_submit

    data = answers_for(survey, nps=2)
    key = data.pop("idempotency_key")
    response = response_submit(survey=survey, raw_answers=data, idempotency_key=key).response
    case = case_open(response=response, reasons=[reason_make(code="nps", value=2, threshold=6)])
    case_status_change(case=case, status=CaseStatus.OPEN, actor=staff_user)
    case_status_change(
        case=case,
        status=CaseStatus.RESOLVED,
        resolution="Called",
        root_cause=RootCause.objects.create(organisation=case.organisation, name="Cold"),
        actor=staff_user,
    )
    joiner = MemberFactory(community=community, status=MemberStatus.PENDING)
    member_confirm(member=joiner)
    member_consent_change(member=joiner, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=False)
    member_erase(member=joiner)
    redeemer = MemberFactory(community=community)
    ConsentRecordFactory(member=redeemer, policy_version=community.policy_version)
    LedgerEntryFactory(member=redeemer, points=500)
    reward = RewardFactory(organisation=organisation, community=community, cost=100)
    redemption = redemption_request(member=redeemer, reward=reward)
    redemption_approve(redemption=redemption, actor=staff_user)


def test_every_event_type_reaches_the_receiver_exactly_once_signed(
    organisation, community, survey, staff_user, endpoint, receiver
):
    # given an endpoint subscribed to every event
    # when one of each cause commits, and staff send a test event
    _causes(organisation, community, survey, staff_user)
    webhook_test_send(endpoint=endpoint)
    queued = list(WebhookDelivery.objects.values_list("event_id", flat=True))
    # then every delivery arrives
    assert wait_until(lambda: len(receiver.to("/hook")) >= len(queued), timeout=90)
    # (and nothing more arrives after a moment more, a sweep included)
    webhook_redrive()
    time.sleep(2)
    received = receiver.to("/hook")
    ids = [r.json()["id"] for r in received]
    assert sorted(ids) == sorted(queued)
    assert len(ids) == len(set(ids))
    # and every event type came, each signed so the reference verifier accepts it
    assert {r.json()["type"] for r in received} == set(WebhookEvent.values)
    assert all(_verified(endpoint, r) for r in received)
    assert all(r.headers["Chorus-Event"] == r.json()["type"] for r in received)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    organisation, endpoint, receiver
):
    # given a receiver that answers 500, 502, then 200
    receiver.script("/hook", [Answer(500, b"boom"), Answer(502), Answer(200)])
    # when an event is sent
    delivery = webhook_test_send(endpoint=endpoint)
    # then the third attempt delivers it
    assert wait_until(
        lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED,
        timeout=60,
    )
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    codes = list(delivery.attempt_log.order_by("started_at").values_list("status_code", flat=True))
    assert codes == [500, 502, 200]
    received = receiver.to("/hook")
    assert len(received) == 3
    # the same event each time, each signed afresh
    assert {r.json()["id"] for r in received} == {delivery.event_id}
    assert all(_verified(endpoint, r) for r in received)
    # and the endpoint is healthy again
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None


def test_a_receiver_that_never_answers_is_retried_with_backoff_then_disabled(
    organisation, endpoint, receiver, smtp_sink
):
    # given an owner, and a receiver that hangs past the worker's 1 s timeout
    owner = StaffRoleFactory(organisation=organisation, role=Role.OWNER, user=UserFactory())
    receiver.script("/hook", [Answer(200, b"too late", delay=3)])
    # when an event is sent
    started = timezone.now()
    delivery = webhook_test_send(endpoint=endpoint)
    # then it is retried until the endpoint has failed for DISABLE_AFTER_SECONDS, and the
    # endpoint is turned off
    assert wait_until(
        lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).active,
        timeout=DISABLE_AFTER_SECONDS * 6,
    )
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == DisabledReason.FAILING
    assert endpoint.disabled_at - started >= timedelta(seconds=DISABLE_AFTER_SECONDS)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    attempts = list(delivery.attempt_log.order_by("started_at"))
    assert len(attempts) >= 3
    assert {a.error for a in attempts} == {"timeout"}
    assert all(a.duration_ms < 2500 for a in attempts)
    # with waits between attempts, not back-to-back requests
    gaps = [
        (b.started_at - a.started_at).total_seconds() - a.duration_ms / 1000
        for a, b in zip(attempts, attempts[1:], strict=False)
    ]
    assert all(gap >= 0 for gap in gaps)
    # and the owner is emailed about it
    sink, _port = smtp_sink
    (message,) = sink.wait_for(owner.user.email, timeout=30)
    assert endpoint.url in message.as_string()


def test_the_worker_caps_the_answer_it_reads(organisation, endpoint, receiver):
    # given a receiver answering with a large body (the worker reads at most 256 bytes)
    receiver.script("/hook", [Answer(200, b"y" * 200_000)])
    delivery = webhook_test_send(endpoint=endpoint)
    assert wait_until(
        lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED,
        timeout=60,
    )
    (attempt,) = WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all()
    assert attempt.response_excerpt == "y" * 256


def test_the_worker_refuses_a_private_address_and_follows_no_redirect(
    organisation, receiver, settings, hook_worker
):
    # given one endpoint on a private address (stored before the rules, say) and one that
    # redirects to another path on the receiver
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    private = WebhookEndpointFactory(organisation=organisation, url="http://10.255.255.1/hook")
    moved = WebhookEndpointFactory(organisation=organisation, url=receiver.url("/moved"))
    receiver.script("/moved", [Answer(301, b"", {"Location": receiver.url("/target")})])
    refused = webhook_test_send(endpoint=private)
    redirected = webhook_test_send(endpoint=moved)

    def attempted(delivery) -> bool:
        return delivery.attempt_log.exists()

    assert wait_until(lambda: attempted(refused) and attempted(redirected), timeout=60)
    # then the private address was never connected to (refused before, in no time)
    first = refused.attempt_log.order_by("started_at").first()
    assert first.error == "blocked_address"
    assert first.status_code is None
    # and the redirect's target was never asked
    first = redirected.attempt_log.order_by("started_at").first()
    assert (first.status_code, first.error) == (301, "redirect")
    time.sleep(1)
    assert receiver.to("/target") == []
