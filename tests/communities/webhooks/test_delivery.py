"""One attempt at a delivery, through the service the worker's task calls, against a real
local receiver: signed, capped, never redirected, retried with backoff, given up, and the
endpoint disabled when it fails for too long."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from communities.webhooks.choices import AttemptError, DeliveryStatus, DisabledReason
from communities.webhooks.delivery import backoff_seconds, webhook_deliver, webhook_redrive
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from communities.webhooks.verify import signature_verify
from tests.communities.webhooks.receiver import Answer
from tests.factories.communities import (
    StaffRoleFactory,
    UserFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(organisation, receiver):
    return WebhookEndpointFactory(organisation=organisation, url=receiver.url("/hook"))


def _deliver(delivery) -> str | None:
    with mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async"):
        status = webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return status


def test_a_delivery_is_posted_signed_with_its_headers_and_recorded(endpoint, receiver):
    # given a pending delivery
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when it is sent
    status = _deliver(delivery)
    # then the receiver got the JSON body, the headers and a signature of those exact bytes
    assert status == DeliveryStatus.DELIVERED
    (received,) = receiver.to("/hook")
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Chorus-Webhooks/1"
    assert headers["Chorus-Event"] == "response.created"
    assert headers["Chorus-Delivery"] == str(delivery.pk)
    assert signature_verify(
        secret=endpoint.secret, header=headers["Chorus-Signature"], body=received.body
    )
    assert json.loads(received.body) == delivery.payload
    # and the delivery is delivered, with one attempt in its log
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.delivered_at is not None
    assert delivery.attempts == 1
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code == 200
    assert attempt.error == ""
    assert attempt.response_excerpt == "ok"
    assert attempt.organisation_id == delivery.organisation_id


def test_a_delivered_delivery_is_not_sent_again(endpoint, receiver):
    # given a delivered delivery
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    _deliver(delivery)
    # when its task runs again (a duplicate message)
    status = _deliver(delivery)
    # then nothing is sent
    assert status is None
    assert len(receiver.to("/hook")) == 1


def test_a_delivery_another_worker_is_sending_is_left_alone(endpoint, receiver):
    # given a delivery claimed a moment ago
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.SENDING, claimed_at=timezone.now()
    )
    # when a second task for it runs
    # then it does nothing
    assert _deliver(delivery) is None
    assert receiver.to("/hook") == []


def test_a_delivery_whose_worker_died_is_claimed_again(endpoint, receiver, settings):
    # given a delivery claimed long ago by a worker that never finished
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.SENDING,
        claimed_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS + 5),
        attempts=1,
    )
    # when its task runs
    # then it is sent
    assert _deliver(delivery) == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2


def test_a_retry_not_yet_due_is_not_sent(endpoint, receiver):
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.RETRYING,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    assert _deliver(delivery) is None
    assert receiver.to("/hook") == []


def test_a_failed_attempt_is_retried_later_and_marks_the_endpoint_failing(
    endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    # given a receiver that answers 503
    receiver.script("/hook", [Answer(503, b"down for maintenance")])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    before = timezone.now()
    # when the delivery is attempted
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as again,
        django_capture_on_commit_callbacks(execute=True),
    ):
        status = webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    # then it waits to retry within the first backoff step, and a retry is queued for then
    assert status == DeliveryStatus.RETRYING
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.claimed_at is None
    assert (
        before
        <= delivery.next_attempt_at
        <= timezone.now() + timedelta(seconds=settings.WEBHOOK_BACKOFF_BASE_SECONDS)
    )
    again.assert_called_once()
    assert again.call_args.kwargs["kwargs"] == {"delivery_id": delivery.pk}
    # and the attempt is logged with the code and the answer's start
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code == 503
    assert attempt.error == AttemptError.HTTP_5XX
    assert attempt.response_excerpt == "down for maintenance"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None


def test_a_success_clears_the_endpoints_failing_run(endpoint, receiver):
    # given an endpoint failing for an hour
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=1)
    )
    # when a delivery gets through
    _deliver(WebhookDeliveryFactory(endpoint=endpoint))
    # then it is no longer failing
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_redirect_is_not_followed(endpoint, receiver):
    # given a receiver that redirects elsewhere
    receiver.script("/hook", [Answer(302, b"", {"Location": receiver.url("/elsewhere")})])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when the delivery is attempted
    _deliver(delivery)
    # then the redirect's target was never asked, and the attempt failed as a redirect
    assert receiver.to("/elsewhere") == []
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code == 302
    assert attempt.error == AttemptError.REDIRECT
    assert delivery.status == DeliveryStatus.RETRYING


def test_only_the_first_bytes_of_the_answer_are_read(endpoint, receiver, settings):
    # given a cap of 64 bytes and a receiver answering with a megabyte
    settings.WEBHOOK_RESPONSE_MAX_BYTES = 64
    receiver.script("/hook", [Answer(200, b"x" * 1_000_000)])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when the delivery is sent
    _deliver(delivery)
    # then it counts as delivered and keeps only what was read
    assert delivery.status == DeliveryStatus.DELIVERED
    (attempt,) = delivery.attempt_log.all()
    assert attempt.response_excerpt == "x" * 64


def test_the_excerpt_kept_is_at_most_500_characters(endpoint, receiver):
    receiver.script("/hook", [Answer(500, "é".encode() * 2000)])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    _deliver(delivery)
    (attempt,) = delivery.attempt_log.all()
    assert 0 < len(attempt.response_excerpt) <= 500


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(endpoint, receiver, settings):
    # given a receiver that takes longer than the timeout
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.script("/hook", [Answer(200, b"late", delay=2.0)])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when the delivery is attempted
    _deliver(delivery)
    # then it gave up near the timeout and will retry
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code is None
    assert attempt.error == AttemptError.TIMEOUT
    assert attempt.duration_ms < 1500
    assert delivery.status == DeliveryStatus.RETRYING


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/hook",
        "http://localhost:{port}/hook",
    ],
)
def test_a_blocked_address_is_never_connected_to(organisation, receiver, settings, url):
    # given nothing allow-listed, and an endpoint stored pointing at a private address
    # (say, the allow-list changed since it was registered)
    settings.WEBHOOK_ALLOWED_HOSTS = []
    endpoint = WebhookEndpointFactory(organisation=organisation, url=url.format(port=receiver.port))
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when the delivery is attempted
    _deliver(delivery)
    # then no request was made and the attempt says why
    assert receiver.received == []
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code is None
    assert attempt.error == AttemptError.BLOCKED_ADDRESS


def test_a_delivery_past_its_retry_window_fails_for_good(endpoint, receiver, settings):
    # given a delivery created more than WEBHOOK_RETRY_FOR_HOURS ago, failing again
    receiver.script("/hook", [Answer(500)])
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint,
        created_at=timezone.now() - timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS, minutes=1),
    )
    # when it is attempted
    status = _deliver(delivery)
    # then it is failed, with no retry to come
    assert status == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED


def test_the_last_retry_falls_at_the_end_of_the_window(endpoint, receiver, settings):
    # given a delivery whose window ends in a few seconds, with long backoff
    receiver.script("/hook", [Answer(500)])
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 3600
    settings.WEBHOOK_BACKOFF_CAP_SECONDS = 3600
    created = (
        timezone.now() - timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS) + timedelta(seconds=10)
    )
    delivery = WebhookDeliveryFactory(endpoint=endpoint, created_at=created)
    with mock.patch("communities.webhooks.delivery.random.uniform", return_value=3600):
        _deliver(delivery)
    # then the next attempt is not later than the window's end
    assert delivery.next_attempt_at <= created + timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS)


def test_backoff_grows_exponentially_under_a_cap_with_full_jitter(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    settings.WEBHOOK_BACKOFF_CAP_SECONDS = 3600
    with mock.patch("communities.webhooks.delivery.random.uniform", side_effect=lambda a, b: b):
        ceilings = [backoff_seconds(attempts=n) for n in range(1, 11)]
    assert ceilings == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    with mock.patch("communities.webhooks.delivery.random.uniform", side_effect=lambda a, b: a):
        assert backoff_seconds(attempts=5) == 0


def test_even_the_longest_waits_give_at_least_twelve_attempts_in_the_retry_window(settings):
    # given the default schedule and every wait at its ceiling
    elapsed, attempts = 0.0, 1
    with mock.patch("communities.webhooks.delivery.random.uniform", side_effect=lambda a, b: b):
        while True:
            elapsed += backoff_seconds(attempts=attempts)
            if elapsed > settings.WEBHOOK_RETRY_FOR_HOURS * 3600:
                break
            attempts += 1
    assert attempts >= 12


def test_an_endpoint_failing_for_too_long_is_disabled_and_its_owners_emailed(
    organisation, endpoint, receiver, settings
):
    # given two owners (one reading Thai), an admin, and an endpoint failing for a day
    owners = [
        StaffRoleFactory(organisation=organisation, role=Role.OWNER, user=UserFactory(locale=lang))
        for lang in ("en", "th")
    ]
    StaffRoleFactory(organisation=organisation, role=Role.ADMIN)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    )
    receiver.script("/hook", [Answer(500)])
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    # when one more delivery fails
    status = _deliver(delivery)
    # then the endpoint is disabled for failing, the delivery given up
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason == DisabledReason.FAILING
    assert endpoint.disabled_at is not None
    assert status == DeliveryStatus.FAILED
    # and each owner (not the admin) has an email in their language in the outbox
    emails = OutboundEmail.objects.filter(template="webhook_disabled").order_by("to_email")
    assert sorted(e.to_email for e in emails) == sorted(o.user.email for o in owners)
    by_language = {e.language: e for e in emails}
    assert set(by_language) == {"en", "th"}
    assert endpoint.url in by_language["en"].body_text
    assert endpoint.url in by_language["en"].body_html
    assert by_language["en"].subject
    # and the next event is not even queued for it
    from communities.webhooks.emit import webhook_emit

    assert (
        webhook_emit(organisation=organisation, event="response.created", data={}, event_id="x")
        == 0
    )


def test_a_disabled_endpoint_is_emailed_about_once(organisation, endpoint, receiver, settings):
    # given an owner and an endpoint failing for a day, with two deliveries failing
    StaffRoleFactory(organisation=organisation, role=Role.OWNER)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=2)
    )
    receiver.script("/hook", [Answer(500)])
    first, second = WebhookDeliveryFactory.create_batch(2, endpoint=endpoint)
    # when both are attempted
    _deliver(first)
    _deliver(second)
    # then one email went, and the second delivery never reached the receiver
    assert OutboundEmail.objects.filter(template="webhook_disabled").count() == 1
    assert len(receiver.to("/hook")) == 1
    (attempt,) = second.attempt_log.all()
    assert attempt.error == AttemptError.ENDPOINT_INACTIVE
    assert second.status == DeliveryStatus.FAILED


def test_the_sweep_redrives_due_retries_and_abandoned_sends_only(endpoint, settings):
    # given a due retry, an abandoned send, a fresh pending row, a retry not yet due and a
    # delivered one
    now = timezone.now()
    due = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.RETRYING,
        next_attempt_at=now - timedelta(minutes=2),
    )
    abandoned = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.SENDING,
        claimed_at=now - timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS + 60),
    )
    WebhookDeliveryFactory(endpoint=endpoint)
    WebhookDeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.RETRYING, next_attempt_at=now + timedelta(hours=1)
    )
    WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)
    # when the sweep runs
    with mock.patch("communities.webhooks.tasks.webhook_deliver_task.delay") as send:
        count = webhook_redrive()
    # then only the due retry and the abandoned send are queued again
    assert count == 2
    assert sorted(c.kwargs["delivery_id"] for c in send.call_args_list) == sorted(
        [due.pk, abandoned.pk]
    )


def test_a_deleted_delivery_or_endpoint_is_nothing_to_do(endpoint):
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    pk = delivery.pk
    WebhookDelivery.objects.filter(pk=pk).delete()
    assert webhook_deliver(delivery_id=pk) is None
