"""Enqueue background work only after the transaction that caused it commits."""

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, countdown: int | None = None, **kwargs: Any) -> None:
    """Register `task.delay(**kwargs)` (after `countdown` seconds) to run after commit.

    A broker outage is logged and swallowed: the rows are committed and the periodic
    re-drive sweeps find whatever was not enqueued, so the request still succeeds.
    """

    def _send() -> None:
        try:
            task.apply_async(kwargs=kwargs, countdown=countdown)
        except Exception:  # noqa: BLE001 - any broker failure; the sweep recovers it
            logger.warning(
                "Could not enqueue %s(%s); the sweep will retry", task.name, kwargs, exc_info=True
            )

    transaction.on_commit(_send)
