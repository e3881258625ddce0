"""Changing a case's priority: its SLA targets follow the new priority's policy."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.models import ApiToken, User
from communities.services.audit import audit_record
from communities.webhooks.choices import WebhookEvent
from feedback.choices import CASE_DONE_STATUSES, CaseEventKind, CasePriority
from feedback.models import Case, CaseEvent
from feedback.services.cases import _case_locked, _event_record, case_webhook_send
from feedback.services.sla import case_sla_times


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _resolution_clock_start(case: Case) -> datetime:
    """When the case's resolution clock last started: its latest reopening, else when it
    was opened (a reopened case was given its full target anew from then)."""
    reopened = (
        CaseEvent.objects.filter(
            case=case,
            kind=CaseEventKind.STATUS_CHANGED,
            data__from__in=sorted(CASE_DONE_STATUSES),
        )
        .exclude(data__to__in=sorted(CASE_DONE_STATUSES))
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return reopened or case.created_at


@transaction.atomic
def case_priority_set(
    *,
    case: Case,
    priority: str,
    actor: User | None = None,
    api_key: ApiToken | None = None,
) -> CaseEvent | None:
    """Give the case `priority` (else ValidationError on "priority") and recompute its due
    times from the organisation's SLA policy for it: the first response target from when
    the case was opened, the resolution target from when its clock last started (opened or
    reopened). Records a "priority_changed" event with the due times before and after,
    audits it and queues case.updated; None when the case already had that priority."""
    if priority not in CasePriority.values:
        raise ValidationError(
            {"priority": ValidationError(_("Not a case priority."), code="invalid_choice")}
        )
    locked = _case_locked(case)
    if locked.priority == priority:
        return None
    before = {
        "priority": locked.priority,
        "first_response_due_at": locked.first_response_due_at,
        "due_at": locked.due_at,
    }
    first_due, _unused = case_sla_times(
        organisation=locked.organisation, priority=priority, start=locked.created_at
    )
    _unused, resolution_due = case_sla_times(
        organisation=locked.organisation,
        priority=priority,
        start=_resolution_clock_start(locked),
    )
    locked.priority = priority
    locked.first_response_due_at = first_due
    locked.due_at = resolution_due
    locked.save(update_fields=["priority", "first_response_due_at", "due_at", "updated_at"])
    event = _event_record(
        case=locked,
        kind=CaseEventKind.PRIORITY_CHANGED,
        actor=actor,
        api_key=api_key,
        data={
            "from": before["priority"],
            "to": priority,
            "first_response_due_at": [_iso(before["first_response_due_at"]), _iso(first_due)],
            "due_at": [_iso(before["due_at"]), _iso(resolution_due)],
        },
    )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="case.priority",
        target=locked,
        target_type="case",
        changes={
            "priority": [before["priority"], priority],
            "first_response_due_at": [before["first_response_due_at"], first_due],
            "due_at": [before["due_at"], resolution_due],
        },
    )
    case_webhook_send(case=locked, event=event, webhook_event=WebhookEvent.CASE_UPDATED)
    return event
