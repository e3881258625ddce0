from communities.webhooks.models import WebhookDelivery


def payloads(event: str) -> list[dict]:
    """The bodies queued for `event`, oldest first."""
    return [
        d.payload for d in WebhookDelivery.objects.filter(event=event).order_by("created_at", "id")
    ]
