import smtplib
import socket
from datetime import timedelta

from celery import shared_task

from communities.outbox import services
from communities.outbox.sending import Batch

# Transient failures worth retrying; anything else is a bug and should surface.
SMTP_TRANSIENT = (smtplib.SMTPException, socket.error, TimeoutError)
SEND_RETRIES = {
    "autoretry_for": SMTP_TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 8,
    "acks_late": True,
}


def _follow_up(batch: Batch, *, except_id: int | None = None) -> None:
    """Rows a batch could not finish go back to the queue: each failed one with its own
    retries, and the untried rest in one drain (it picks them up as waiting rows)."""
    for email_id in batch.failed:
        if email_id != except_id:
            outbox_send_task.apply_async(kwargs={"email_id": email_id}, countdown=30)
    if batch.released:
        countdown = 30 if batch.error is not None else None
        outbox_send_task.apply_async(kwargs={"email_id": batch.released[0]}, countdown=countdown)


@shared_task(**SEND_RETRIES)
def outbox_send_task(*, email_id: int) -> int:
    """Send this row and, over the same connection, the others waiting (batch by batch)."""
    batch = services.outbox_drain(email_id=email_id, keep_going=True)
    _follow_up(batch, except_id=email_id)
    if email_id in batch.failed:
        # This task's retries (back-off) are this row's.
        raise batch.error
    return len(batch.sent)


@shared_task(acks_late=True)
def outbox_send_many_task(
    *, email_ids: list[int], stale_seconds: float | None = None, keep_going: bool = False
) -> int:
    """Send the named rows (a sweep's, a chunk of invitations); with keep_going (a burst's
    tasks) then the rows waiting for their first attempt, over the same connection."""
    stale_after = None if stale_seconds is None else timedelta(seconds=stale_seconds)
    batch = services.outbox_send_many(
        email_ids=email_ids, stale_after=stale_after, keep_going=keep_going
    )
    _follow_up(batch)
    return len(batch.sent)


@shared_task
def outbox_redrive_task() -> int:
    return services.outbox_redrive()


# The outbox lived in the feedback app until 0.2: tasks queued under those names before an
# upgrade still run. Remove these aliases in the release after next.
@shared_task(name="feedback.tasks.outbox_send_task", **SEND_RETRIES)
def outbox_send_task_legacy(*, email_id: int) -> int:
    return outbox_send_task(email_id=email_id)


@shared_task(name="feedback.tasks.outbox_send_many_task", acks_late=True)
def outbox_send_many_task_legacy(*, email_ids: list[int]) -> int:
    return outbox_send_many_task(email_ids=email_ids)


@shared_task(name="feedback.tasks.outbox_redrive_task")
def outbox_redrive_task_legacy() -> int:
    return services.outbox_redrive()
