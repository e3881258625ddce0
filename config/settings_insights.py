"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule."""

import environ

env = environ.Env()

# Seconds between folds of new responses into the dashboard roll-ups; the dashboard reads
# the not-yet-folded tail live, so this bounds only how long that tail grows.
INSIGHTS_ROLLUP_FOLD_SECONDS = env.int("INSIGHTS_ROLLUP_FOLD_SECONDS", default=60)

BEAT: dict = {
    "insights-rollups-fold": {
        "task": "insights.rollups.tasks.rollups_fold_task",
        "schedule": INSIGHTS_ROLLUP_FOLD_SECONDS,
    },
}
