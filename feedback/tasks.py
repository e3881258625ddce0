from celery import shared_task

from feedback import services


@shared_task(acks_late=True)
def response_analyse_task(*, response_id: int) -> bool:
    return services.response_analyse(response_id=response_id)


@shared_task
def analysis_redrive_task() -> int:
    return services.analysis_redrive()
