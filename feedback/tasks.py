import smtplib
import socket

from celery import shared_task

from feedback import services

# Transient failures worth retrying; anything else is a bug and should surface.
SMTP_TRANSIENT = (smtplib.SMTPException, socket.error, TimeoutError)


@shared_task(
    autoretry_for=SMTP_TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
)
def outbox_send_task(*, email_id: int) -> bool:
    return services.outbox_send(email_id=email_id)


@shared_task(acks_late=True)
def outbox_send_many_task(*, email_ids: list[int]) -> int:
    sent, failed = services.outbox_send_many(email_ids=email_ids)
    # Rows that failed go back one by one, with the single-send task's retries.
    for email_id in failed:
        outbox_send_task.apply_async(kwargs={"email_id": email_id}, countdown=30)
    return sent


@shared_task(acks_late=True)
def response_analyse_task(*, response_id: int) -> bool:
    return services.response_analyse(response_id=response_id)


@shared_task
def outbox_redrive_task() -> int:
    return services.outbox_redrive()


@shared_task
def analysis_redrive_task() -> int:
    return services.analysis_redrive()
