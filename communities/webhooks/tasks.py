from celery import shared_task

from communities.webhooks import delivery


@shared_task(acks_late=True)
def webhook_deliver_task(*, delivery_id: int) -> str | None:
    # Retries are the service's own (backoff written on the row, re-driven by the sweep),
    # so that every attempt is recorded and survives a worker restart.
    return delivery.webhook_deliver(delivery_id=delivery_id)


@shared_task
def webhook_redrive_task() -> int:
    return delivery.webhook_redrive()
