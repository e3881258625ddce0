"""An endpoint's delivery log: newest first, a page at a time, filtered by status and event,
each delivery with its attempts; "Resend" and "Send test event" queue a delivery."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import AuditEntry
from communities.webhooks.choices import AttemptError, DeliveryStatus, WebhookEvent
from communities.webhooks.models import WebhookDelivery
from communities.webhooks.views import DELIVERIES_PER_PAGE
from tests.factories.communities import (
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def _log(organisation, endpoint, **query):
    url = reverse("staff:webhook_detail", args=[organisation.slug, endpoint.pk])
    return url, query


def _get(client, organisation, endpoint, **query):
    url, query = _log(organisation, endpoint, **query)
    return client.get(url, query)


def _ago(minutes):
    return timezone.now() - timedelta(minutes=minutes)


def test_the_log_shows_each_delivery_newest_first_with_its_attempts(
    staff_client, organisation, endpoint
):
    # given an older delivery that failed then arrived, and a newer one still retrying
    old = WebhookDeliveryFactory(
        endpoint=endpoint,
        event=WebhookEvent.CASE_OPENED,
        status=DeliveryStatus.DELIVERED,
        created_at=_ago(30),
    )
    WebhookAttemptFactory(
        delivery=old, status_code=503, error=AttemptError.HTTP_5XX, started_at=_ago(29)
    )
    WebhookAttemptFactory(delivery=old, status_code=200, duration_ms=87, started_at=_ago(20))
    new = WebhookDeliveryFactory(
        endpoint=endpoint, event=WebhookEvent.RESPONSE_CREATED, status=DeliveryStatus.RETRYING
    )
    WebhookAttemptFactory(delivery=new, status_code=None, error=AttemptError.TIMEOUT)

    # when
    page = _get(staff_client, organisation, endpoint)

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert [row["delivery"] for row in page.context["rows"]] == [new, old]
    assert [a["attempt"].status_code for a in page.context["rows"][1]["attempts"]] == [200, 503]
    assert "No answer in time" in html and "Answered with a server error (5xx)" in html
    assert "87 ms" in html and "Failed; will retry" in html and "Delivered" in html
    log = html.split("Delivery log", 1)[1]
    assert log.index("A response was submitted") < log.index("A case was opened")


def test_a_receivers_answer_is_shown_escaped(staff_client, organisation, endpoint):
    # given a receiver that answered with markup
    WebhookAttemptFactory(
        delivery=WebhookDeliveryFactory(endpoint=endpoint),
        status_code=400,
        error=AttemptError.HTTP_4XX,
        response_excerpt='<script>alert("x")</script><b>bad</b>',
    )

    # when
    html = _get(staff_client, organisation, endpoint).content.decode()

    # then
    assert "<script>alert" not in html and "<b>bad</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_log_filters_by_status_and_event(staff_client, organisation, endpoint):
    # given
    failed_case = WebhookDeliveryFactory(
        endpoint=endpoint, event=WebhookEvent.CASE_OPENED, status=DeliveryStatus.FAILED
    )
    WebhookDeliveryFactory(
        endpoint=endpoint, event=WebhookEvent.CASE_OPENED, status=DeliveryStatus.DELIVERED
    )
    WebhookDeliveryFactory(
        endpoint=endpoint, event=WebhookEvent.RESPONSE_CREATED, status=DeliveryStatus.FAILED
    )

    # when
    page = _get(staff_client, organisation, endpoint, status="failed", event="case.opened")

    # then
    assert [row["delivery"] for row in page.context["rows"]] == [failed_case]
    assert len(_get(staff_client, organisation, endpoint, status="failed").context["rows"]) == 2


@pytest.mark.parametrize("query", [{"status": "lost"}, {"event": "case.<b>"}])
def test_a_filter_the_log_does_not_know_is_an_error_on_the_page(
    staff_client, organisation, endpoint, query
):
    # given
    WebhookDeliveryFactory(endpoint=endpoint)

    # when
    page = _get(staff_client, organisation, endpoint, **query)

    # then
    assert page.status_code == 400 and page.context["rows"] == []
    assert page.context["form"].errors


def test_the_log_pages_through_older_and_newer_deliveries(staff_client, organisation, endpoint):
    # given one delivery more than a page
    deliveries = [
        WebhookDeliveryFactory(endpoint=endpoint, created_at=_ago(n))
        for n in range(DELIVERIES_PER_PAGE + 1)
    ]

    # when
    first = _get(staff_client, organisation, endpoint)
    older = _get(staff_client, organisation, endpoint, older=deliveries[DELIVERIES_PER_PAGE - 1].pk)
    newer = _get(staff_client, organisation, endpoint, newer=deliveries[DELIVERIES_PER_PAGE].pk)

    # then
    assert [r["delivery"] for r in first.context["rows"]] == deliveries[:DELIVERIES_PER_PAGE]
    assert first.context["older_url"] and not first.context["newer_url"]
    assert [r["delivery"] for r in older.context["rows"]] == [deliveries[-1]]
    assert older.context["newer_url"] and not older.context["older_url"]
    assert [r["delivery"] for r in newer.context["rows"]] == deliveries[:DELIVERIES_PER_PAGE]


def test_a_cursor_of_another_endpoint_shows_the_first_page(staff_client, organisation, endpoint):
    # given
    mine = WebhookDeliveryFactory(endpoint=endpoint)
    other = WebhookDeliveryFactory(
        endpoint=WebhookEndpointFactory(organisation=organisation, url="https://x.example.com/")
    )

    # when
    page = _get(staff_client, organisation, endpoint, older=other.pk)

    # then
    assert [r["delivery"] for r in page.context["rows"]] == [mine]


@pytest.mark.parametrize("count", [1, DELIVERIES_PER_PAGE])
def test_the_log_query_count_does_not_grow_with_deliveries_or_attempts(
    staff_client, organisation, endpoint, django_assert_max_num_queries, count
):
    # given deliveries with three attempts each
    for n in range(count):
        delivery = WebhookDeliveryFactory(endpoint=endpoint, created_at=_ago(n))
        for _ in range(3):
            WebhookAttemptFactory(delivery=delivery)

    # when / then: session, roles, endpoint, a page, its attempts, the next-page check
    with django_assert_max_num_queries(9):
        page = _get(staff_client, organisation, endpoint)
    assert len(page.context["rows"]) == count


# --- resend and test --------------------------------------------------------------------------


def test_send_test_event_queues_a_ping_to_the_endpoint_after_commit(
    staff_client, staff_user, organisation, endpoint, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = staff_client.post(
            reverse("staff:webhook_test", args=[organisation.slug, endpoint.pk])
        )

    # then
    ping = WebhookDelivery.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse(
        "staff:webhook_detail", args=[organisation.slug, endpoint.pk]
    )
    assert ping.event == WebhookEvent.PING and ping.status == DeliveryStatus.PENDING
    assert ping.organisation == organisation and len(callbacks) == 1
    assert AuditEntry.objects.filter(action="webhook.test_send", actor=staff_user).exists()


def test_a_disabled_endpoint_refuses_a_test_event_and_says_why(staff_client, organisation):
    # given
    endpoint = WebhookEndpointFactory(organisation=organisation, active=False)

    # when
    answer = staff_client.post(
        reverse("staff:webhook_test", args=[organisation.slug, endpoint.pk]), follow=True
    )

    # then
    assert not WebhookDelivery.objects.exists()
    assert "turn it on before sending" in answer.content.decode()


def test_resend_sends_a_failed_delivery_again_after_commit(
    staff_client, organisation, endpoint, django_capture_on_commit_callbacks
):
    # given
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.FAILED, created_at=_ago(60 * 30)
    )

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = staff_client.post(
            reverse("staff:webhook_resend", args=[organisation.slug, delivery.pk])
        )

    # then
    delivery.refresh_from_db()
    assert answer.status_code == 302
    assert answer["Location"] == reverse(
        "staff:webhook_detail", args=[organisation.slug, endpoint.pk]
    )
    assert delivery.status == DeliveryStatus.PENDING and len(callbacks) == 1
    assert AuditEntry.objects.filter(action="webhook.resend").exists()


def test_each_finished_delivery_has_a_resend_button_and_the_endpoint_a_test_button(
    staff_client, organisation, endpoint
):
    # given one delivery that failed and one still waiting to be sent
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    waiting = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.PENDING)

    # when
    html = _get(staff_client, organisation, endpoint).content.decode()

    # then only the failed one can be sent again
    assert reverse("staff:webhook_resend", args=[organisation.slug, delivery.pk]) in html
    assert reverse("staff:webhook_resend", args=[organisation.slug, waiting.pk]) not in html
    assert reverse("staff:webhook_test", args=[organisation.slug, endpoint.pk]) in html
    assert "Send test event" in html and "Resend" in html
