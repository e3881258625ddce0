from celery import shared_task

from feedback.inbound.mailbox import inbound_poll


@shared_task
def inbound_poll_task() -> dict[str, int]:
    return dict(inbound_poll())
