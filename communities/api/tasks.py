"""The API's housekeeping for Celery beat (registered by config/celery.py's autodiscovery
of communities.api)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from communities.api.idempotency import idempotency_records_expire


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=60, max_retries=3)
def idempotency_records_expire_task() -> int:
    """Hourly: forget the Idempotency-Key answers older than API_IDEMPOTENCY_TTL_HOURS."""
    return idempotency_records_expire()
