"""Webhooks: the one call every app makes when something happens that receivers may want.

`webhook_emit` is called inside the transaction that records the cause; it writes one
WebhookDelivery per subscribed, active endpoint (nothing when there is none) and sends
them after commit. Payloads are built by the caller and must carry no personal data the
event's consent does not allow (no member for an anonymous response).

This module needs nothing above the models, so that the communities services can emit
(communities.webhooks.members) without an import cycle through their own package;
communities.webhooks.services re-exports it with the endpoint services.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from communities.models import Organisation
from communities.webhooks.cache import endpoints_active
from communities.webhooks.choices import DeliveryStatus, WebhookEvent
from communities.webhooks.models import WebhookDelivery

# Imported here, not where it is used: a worker registers the delivery task by importing
# this module (communities.tasks → communities.services → member events → here).
from communities.webhooks.tasks import webhook_deliver_task
from config.queue import enqueue_on_commit
from config.sql import insert_rows


def webhook_envelope(
    *, event: str, event_id: str, organisation_slug: str, data: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """The JSON body receivers get: the event's id, type, time and organisation around
    `data` (made plain JSON here, so callers may pass dates, UUIDs and decimals)."""
    return {
        "id": event_id,
        "type": str(event),
        "created": created.isoformat().replace("+00:00", "Z"),
        "organisation": organisation_slug,
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


# Rows per INSERT: well inside SQLite's and PostgreSQL's limits on statement parameters.
_CHUNK = 500


def deliveries_write(
    *, organisation_id: int, event: str, items: list[tuple[int, str, dict[str, Any]]]
) -> list[int]:
    """Insert a pending delivery for each (endpoint id, event id, payload), skipping an
    endpoint that already has that event id (ON CONFLICT DO NOTHING: emitting twice
    delivers once), and start sending them after commit; the new deliveries' ids."""
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, len(items), _CHUNK):
        rows = [
            {
                "organisation": organisation_id,
                "endpoint": endpoint_id,
                "event": str(event),
                "event_id": event_id,
                "payload": payload,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id, event_id, payload in items[start : start + _CHUNK]
        ]
        inserted = insert_rows(
            WebhookDelivery, rows, conflict=("endpoint", "event_id"), returning=("id",)
        )
        ids.extend(row[0] for row in inserted)
    if ids:
        _drain_after_commit(delivery_id=ids[0])
    return ids


class _DrainAfterCommit:
    """The after-commit callback that starts a drain of the due deliveries (each of the
    task's runs sends all of them, a batch at a time)."""

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id

    def __call__(self) -> None:
        enqueue_on_commit(webhook_deliver_task, delivery_id=self.delivery_id)


def _drain_after_commit(*, delivery_id: int) -> None:
    """Start one drain after the transaction commits, however many deliveries it wrote: a
    request emitting 1,000 events queues one task, not 1,000 that would each find nothing
    left to send. (A savepoint rolled back takes its callback with it, so the next write
    registers a new one.)"""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        isinstance(callback, _DrainAfterCommit)
        for _ids, callback, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_DrainAfterCommit(delivery_id))


def webhook_subscribed(*, organisation: Organisation | int, event: WebhookEvent) -> bool:
    """Whether any active endpoint of the organisation wants `event`: a caller whose
    payload costs something to build asks first (cached: usually no query)."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return bool(endpoints_active(organisation_id=organisation_id).subscribed(str(event)))


def webhook_emit(
    *, organisation: Organisation | int, event: WebhookEvent, data: dict[str, Any], event_id: str
) -> int:
    """Queue `event` with `data` for every endpoint of the organisation subscribed to it,
    once per `event_id` per endpoint; returns how many deliveries were written.

    Costs no query while this process's copy of the organisation's endpoints is fresh
    and none is subscribed (communities.webhooks.cache); else one INSERT.
    """
    return webhook_emit_many(organisation=organisation, event=event, events=[(event_id, data)])


def webhook_emit_many(
    *,
    organisation: Organisation | int,
    event: WebhookEvent,
    events: list[tuple[str, dict[str, Any]]],
) -> int:
    """`webhook_emit` for many (event id, data) pairs of one event type (a members
    import), in as few INSERTs as the rows need."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    found = endpoints_active(organisation_id=organisation_id)
    endpoint_ids = found.subscribed(str(event))
    if not endpoint_ids or not events:
        return 0
    created = timezone.now()
    items = []
    for event_id, data in events:
        payload = webhook_envelope(
            event=event,
            event_id=event_id,
            organisation_slug=found.slug,
            data=data,
            created=created,
        )
        items.extend((endpoint_id, event_id, payload) for endpoint_id in endpoint_ids)
    return len(deliveries_write(organisation_id=organisation_id, event=event, items=items))
