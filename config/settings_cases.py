"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule."""

import environ

env = environ.Env()

# The SLA a priority has until the organisation sets its own (Settings → Service levels):
# business minutes to a first response and to a resolution.
CASES_SLA_DEFAULTS: dict = {
    "high": {"first_response": 60, "resolution": 8 * 60},
    "normal": {"first_response": 4 * 60, "resolution": 16 * 60},
    "low": {"first_response": 8 * 60, "resolution": 40 * 60},
}
# How often the beat looks for cases past an SLA target to escalate to the team lead.
CASES_ESCALATION_SWEEP_SECONDS = env.int("CASES_ESCALATION_SWEEP_SECONDS", default=300)
# At most this many breaches escalated per sweep: a backlog drains over several sweeps
# instead of one long task.
CASES_ESCALATION_BATCH = env.int("CASES_ESCALATION_BATCH", default=500)
# The recovery survey's signed link stays answerable this long.
CASES_RECOVERY_LINK_MAX_AGE_DAYS = env.int("CASES_RECOVERY_LINK_MAX_AGE_DAYS", default=30)

BEAT: dict = {
    "case-escalation-sweep": {
        "task": "feedback.tasks.case_escalation_sweep_task",
        "schedule": float(CASES_ESCALATION_SWEEP_SECONDS),
    },
}

# A recovery answer ("Did we fix it?", 1 to 5) at or below this reopens the case.
CASES_RECOVERY_REOPEN_AT_MOST = env.int("CASES_RECOVERY_REOPEN_AT_MOST", default=2)
