from celery import shared_task

from communities.webhooks import delivery


@shared_task(acks_late=True)
def webhook_deliver_task(*, delivery_id: int | None = None) -> int:
    # Sends every due delivery, this one first (it may be a moment early); a burst's other
    # tasks find nothing left. Retries are the service's own (backoff written on the row,
    # re-driven by the sweep), so that every attempt is recorded and survives a restart.
    return delivery.webhook_drain(first=delivery_id)


@shared_task
def webhook_redrive_task() -> int:
    return delivery.webhook_redrive()
