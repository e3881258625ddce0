"""Webhooks: the one call every app makes when something happens that receivers may want.

`webhook_emit` is called inside the transaction that records the cause; it writes one
WebhookDelivery per subscribed, active endpoint (nothing when there is none) and sends
them after commit. Payloads are built by the caller and must carry no personal data the
event's consent does not allow (no member for an anonymous response).
"""

from __future__ import annotations

from typing import Any

from communities.models import Organisation
from communities.webhooks.choices import WebhookEvent


def webhook_emit(
    *, organisation: Organisation | int, event: WebhookEvent, data: dict[str, Any], event_id: str
) -> int:
    """Queue `event` with `data` for every endpoint of the organisation subscribed to it,
    once per `event_id` per endpoint; returns how many deliveries were written."""
    raise NotImplementedError
