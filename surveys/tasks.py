"""Survey channel work for Celery: ids in, one service call, safe to run twice."""

from celery import shared_task

# The exports' tasks live with them; imported here, where the worker looks for tasks.
from surveys.exports.tasks import export_job_run_task, exports_sweep_task  # noqa: F401
from surveys.services import events, invitations, pool


@shared_task(acks_late=True)
def invitation_batch_send_task(*, batch_id: int) -> int:
    return invitations.invitation_batch_send(batch_id=batch_id)


@shared_task(acks_late=True)
def event_process_task(*, event_id: int) -> str | None:
    return events.event_process(event_id=event_id)


@shared_task
def events_sweep_task() -> int:
    return events.events_sweep()


@shared_task
def reminders_send_task() -> int:
    return invitations.reminders_send()


@shared_task(acks_late=True)
def anonymous_pool_release_task(*, survey_id: int) -> int:
    return pool.anonymous_pool_settle(survey_id=survey_id)


@shared_task
def anonymous_pool_sweep_task() -> int:
    return pool.anonymous_pool_sweep()
