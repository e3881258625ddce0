"""Export work for Celery: ids in, one service call, safe to run twice."""

from celery import shared_task

from surveys.exports import services


@shared_task(acks_late=True)
def export_job_run_task(*, job_id: int) -> str:
    return services.export_job_run(job_id=job_id)


@shared_task
def exports_sweep_task() -> int:
    return services.exports_sweep()
