"""The beat task that folds new responses into the roll-ups (config/settings_insights.py
schedules it; CELERY_IMPORTS there makes the worker load this module)."""

from celery import shared_task

from insights.rollups.fold import rollups_fold


@shared_task(acks_late=True)
def rollups_fold_task() -> int:
    """Idempotent: a fold recomputes whole survey-days, under one row lock."""
    return rollups_fold()
