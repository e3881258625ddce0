"""Rewards' daily work for Celery: one service call each, safe to run twice (idempotency
keys and unique constraints stop a second run from writing anything again)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from rewards import services

# A database that dropped the connection or is restarting; the run simply starts again.
DATABASE_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3, acks_late=True)
def points_expire_task() -> int:
    """Daily: expire the points of members inactive past their community's policy."""
    return services.points_expire()


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3, acks_late=True)
def points_expiry_notify_task() -> int:
    """Daily: warn members whose points expire soon, and give them a last chance."""
    return services.points_expiry_notify()


@shared_task(autoretry_for=DATABASE_TRANSIENT, retry_backoff=60, max_retries=3, acks_late=True)
def standings_compute_task(*, community_id: int | None = None) -> dict[str, int]:
    """Daily (or for one community after its tiers change): tiers, then badges."""
    return {
        "standings": services.standings_compute(community_id=community_id),
        "badges": services.badges_award(),
    }
