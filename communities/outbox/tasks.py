import smtplib
import socket

from celery import shared_task

from communities.outbox import services

# Transient failures worth retrying; anything else is a bug and should surface.
SMTP_TRANSIENT = (smtplib.SMTPException, socket.error, TimeoutError)
SEND_RETRIES = {
    "autoretry_for": SMTP_TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**SEND_RETRIES)
def outbox_send_task(*, email_id: int) -> bool:
    return services.outbox_send(email_id=email_id)


@shared_task(acks_late=True)
def outbox_send_many_task(*, email_ids: list[int]) -> int:
    sent, failed = services.outbox_send_many(email_ids=email_ids)
    # Rows that failed go back one by one, with the single-send task's retries.
    for email_id in failed:
        outbox_send_task.apply_async(kwargs={"email_id": email_id}, countdown=30)
    return sent


@shared_task
def outbox_redrive_task() -> int:
    return services.outbox_redrive()


# The outbox lived in the feedback app until 0.2: tasks queued under those names before an
# upgrade still run. Remove these aliases in the release after next.
@shared_task(name="feedback.tasks.outbox_send_task", **SEND_RETRIES)
def outbox_send_task_legacy(*, email_id: int) -> bool:
    return services.outbox_send(email_id=email_id)


@shared_task(name="feedback.tasks.outbox_send_many_task", acks_late=True)
def outbox_send_many_task_legacy(*, email_ids: list[int]) -> int:
    return outbox_send_many_task(email_ids=email_ids)


@shared_task(name="feedback.tasks.outbox_redrive_task")
def outbox_redrive_task_legacy() -> int:
    return services.outbox_redrive()
