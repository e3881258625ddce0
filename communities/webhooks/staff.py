"""What the webhook pages and the webhook management API read: the organisation's endpoints
with how their deliveries went, and one endpoint's delivery log with its attempts.

Reads only; every write goes through communities.webhooks.services. The organisation is a
required keyword everywhere, and every queryset starts from its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from communities.models import Organisation
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# The window the list's success rate covers.
SUCCESS_WINDOW = timedelta(hours=24)

# What an endpoint may subscribe to: every event but the test ping, which only
# "Send test event" sends.
SUBSCRIBABLE_EVENTS = [(value, label) for value, label in WebhookEvent.choices if value != "ping"]


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """How an endpoint's attempts went over SUCCESS_WINDOW."""

    attempts: int
    succeeded: int

    @property
    def success_percent(self) -> int | None:
        """Whole per cent of attempts answered 2xx; None when there was none to count."""
        if not self.attempts:
            return None
        return round(100 * self.succeeded / self.attempts)


def webhook_endpoints(*, organisation: Organisation) -> QuerySet[WebhookEndpoint]:
    """The organisation's endpoints, newest first, each with its last delivery's status,
    time and event (`last_status`, `last_at`, `last_event`; None when it has none)."""
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        WebhookEndpoint.objects.for_organisation(organisation)
        .annotate(
            last_status=Subquery(last.values("status")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
            last_event=Subquery(last.values("event")[:1]),
        )
        .order_by("-created_at", "-id")
    )


def webhook_endpoint_health(
    *, organisation: Organisation, now: datetime | None = None
) -> dict[int, EndpointHealth]:
    """{endpoint id: its attempts and 2xx answers over the last 24 h}, in one grouped query;
    an endpoint without attempts in the window is absent."""
    since = (now or timezone.now()) - SUCCESS_WINDOW
    rows = (
        WebhookAttempt.objects.for_organisation(organisation)
        .filter(started_at__gte=since)
        .order_by()
        .values("delivery__endpoint_id")
        .annotate(
            total=Count("id"),
            ok=Count("id", filter=Q(status_code__gte=200, status_code__lt=300)),
        )
    )
    return {
        row["delivery__endpoint_id"]: EndpointHealth(attempts=row["total"], succeeded=row["ok"])
        for row in rows
    }


def webhook_deliveries(
    *,
    organisation: Organisation,
    endpoint: WebhookEndpoint,
    status: str = "",
    event: str = "",
) -> QuerySet[WebhookDelivery]:
    """One endpoint's deliveries, newest first (created_at, then id: the keyset the log
    pages walk), filtered by status and event when given, their attempts prefetched
    newest first."""
    deliveries = WebhookDelivery.objects.for_organisation(organisation).filter(endpoint=endpoint)
    if status:
        deliveries = deliveries.filter(status=status)
    if event:
        deliveries = deliveries.filter(event=event)
    return deliveries.order_by("-created_at", "-id").prefetch_related(
        Prefetch(
            "attempt_log",
            queryset=WebhookAttempt.objects.for_organisation(organisation).order_by(
                "-started_at", "-id"
            ),
        )
    )
