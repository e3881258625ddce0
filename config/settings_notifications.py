"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule.

Staff notifications (insights.notify): the beat tasks below find what is due and write
outbox rows under keys that name what each email is about, so any of them may run more
often, late, or twice without anyone being emailed twice.
"""

import environ
from celery.schedules import crontab

env = environ.Env()

# How far back each minute's run looks for cases newly assigned: longer than the beat's
# period, so a run that was late or failed is caught up by the next one.
NOTIFY_LOOKBACK_MINUTES = env.int("NOTIFY_LOOKBACK_MINUTES", default=60)
# A case that went overdue longer ago than this (while the beat was down, or before the
# feature existed) is not emailed about any more: its team lead's escalation covers it.
NOTIFY_OVERDUE_LOOKBACK_HOURS = env.int("NOTIFY_OVERDUE_LOOKBACK_HOURS", default=24)
# Digests go from this hour of each organisation's day (its time zone) on.
NOTIFY_DIGEST_HOUR = env.int("NOTIFY_DIGEST_HOUR", default=7)
NOTIFY_SWEEP_SECONDS = env.float("NOTIFY_SWEEP_SECONDS", default=60.0)

BEAT: dict = {
    "notify-cases": {
        "task": "insights.tasks.case_notifications_task",
        "schedule": NOTIFY_SWEEP_SECONDS,
    },
    "notify-threshold-alerts": {
        "task": "insights.tasks.threshold_alerts_task",
        "schedule": NOTIFY_SWEEP_SECONDS,
    },
    # Every quarter hour, so a digest or report goes within 15 minutes of its hour in any
    # time zone (some are offset by 30 or 45 minutes).
    "notify-digests": {"task": "insights.tasks.digests_task", "schedule": crontab(minute="*/15")},
    "notify-reports": {"task": "insights.tasks.reports_task", "schedule": crontab(minute="*/15")},
}
