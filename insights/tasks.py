"""Beat tasks of the insights app: staff notifications. Each is a thin wrapper round one
idempotent function of insights.notify (see config/settings_notifications.py)."""

from celery import shared_task

from insights.notify.alerts import threshold_alerts_check
from insights.notify.cases import case_notifications_send
from insights.notify.digests import digests_send, reports_send


@shared_task
def case_notifications_task() -> int:
    return case_notifications_send()


@shared_task
def threshold_alerts_task() -> int:
    return threshold_alerts_check()


@shared_task
def digests_task() -> int:
    return digests_send()


@shared_task
def reports_task() -> int:
    return reports_send()
