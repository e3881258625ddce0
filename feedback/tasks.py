from celery import shared_task

from feedback import services


@shared_task(acks_late=True)
def response_analyse_task(*, response_id: int) -> bool:
    return services.response_analyse(response_id=response_id)


@shared_task
def analysis_redrive_task() -> int:
    return services.analysis_redrive()


@shared_task
def case_escalation_sweep_task() -> int:
    """Escalate the cases past an SLA target (beat, every CASES_ESCALATION_SWEEP_SECONDS);
    each breach once, however often the sweep runs or however many workers run it."""
    from feedback.services.sla import case_escalation_sweep

    return case_escalation_sweep()
