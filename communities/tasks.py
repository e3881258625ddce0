"""Community work for Celery: ids in, one service call, safe to run twice."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from communities.services import audit, imports, lifecycle

# A database that dropped the connection or is restarting; the import simply runs again.
DATABASE_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=5, max_retries=5, acks_late=True)
def member_import_check_task(*, import_id: int) -> str:
    return imports.member_import_check(import_id=import_id)


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=5, max_retries=5, acks_late=True)
def member_import_commit_task(*, import_id: int) -> str:
    return imports.member_import_commit(import_id=import_id)


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3)
def members_lifecycle_task() -> int:
    """Daily: move members between new/active/lapsed/churned and snapshot the counts."""
    return lifecycle.members_lifecycle_refresh()


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3)
def personal_data_expire_task() -> dict[str, int]:
    """Daily: delete unconfirmed joins and unconfirmed import files past their time."""
    return lifecycle.personal_data_expire()


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3)
def audit_entries_expire_task() -> int:
    """Daily: delete audit entries older than their organisation's retention."""
    return audit.audit_entries_expire()
