"""Enqueue background work only after the transaction that caused it commits."""

import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import QuerySet

from config.breaker import broker_breaker

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, countdown: int | None = None, **kwargs: Any) -> None:
    """Register `task.delay(**kwargs)` (after `countdown` seconds) to run after commit.

    A broker outage is logged and swallowed: the rows are committed and the periodic
    re-drive sweeps find whatever was not enqueued, so the request still succeeds. After
    one failure the breaker skips publishing for a while, so requests do not each wait
    for the broker's connect timeout during an outage.
    """

    def _send() -> None:
        # Eager mode has no broker to break; its task errors are logged as before.
        guarded = not task.app.conf.task_always_eager
        if guarded and not broker_breaker.allows():
            logger.info("Broker down: %s(%s) is left to the sweep", task.name, kwargs)
            return
        try:
            task.apply_async(kwargs=kwargs, countdown=countdown)
        except Exception:  # noqa: BLE001 - any broker failure; the sweep recovers it
            if guarded:
                broker_breaker.failed()
            logger.warning(
                "Could not enqueue %s(%s); the sweep will retry", task.name, kwargs, exc_info=True
            )
        else:
            if guarded:
                broker_breaker.succeeded()

    transaction.on_commit(_send)


def redrive(*, task: Task, rows: QuerySet, order_by: str, kwarg: str, limit: int = 500) -> int:
    """Enqueue `task(<kwarg>=pk)` for the oldest `limit` rows left behind; returns how many.

    The beat sweeps call this for work whose enqueue was lost (broker down at commit, a
    worker killed mid-task). Every task is idempotent, so a row enqueued twice is harmless.
    """
    ids = list(rows.order_by(order_by).values_list("pk", flat=True)[:limit])
    for pk in ids:
        task.delay(**{kwarg: pk})
    return len(ids)
