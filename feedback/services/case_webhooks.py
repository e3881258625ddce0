"""What a case's change tells the outside world: the webhook payload (no free text, the
respondent only where they may be contacted) and its queueing in the caller's
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from communities.models import User
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.services import webhook_emit, webhook_subscribed
from feedback.choices import CaseEventKind
from feedback.models import Case, CaseEvent
from feedback.services.contact import followup_recipient


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _person(user: User | None) -> str:
    """How a staff member is named in the timeline (kept as it was when it happened)."""
    if user is None:
        return ""
    return user.name or user.email


def case_webhook_payload(*, case: Case, event: CaseEvent) -> dict[str, Any]:
    """What a webhook receiver is told about a case and the change that happened to it.

    No free text (notes, resolutions, answers: they may quote anyone), and the respondent
    only where a follow-up email could go to them (identified, consent to contact given
    and not withdrawn; see followup_recipient): nothing about the person behind an
    anonymous response or one who did not agree to be contacted.
    """
    response = case.response
    email = followup_recipient(response=response)
    respondent = None
    if email is not None:
        respondent = {
            "member_id": response.member_id,
            "name": response.member.name if response.member_id else "",
            "email": email,
        }
    change: dict[str, Any] = {
        "id": event.pk,
        "kind": event.kind,
        "at": _iso(event.created_at),
        "actor_id": event.actor_id,
        "api_key": event.data.get("api_key"),
    }
    if event.kind == CaseEventKind.STATUS_CHANGED:
        change.update(status_from=event.data.get("from"), status_to=event.data.get("to"))
    if event.kind == CaseEventKind.ASSIGNED:
        change.update(
            assignee_id=event.data.get("assignee"), previous_id=event.data.get("previous")
        )
    return {
        "case": {
            "id": case.pk,
            "status": case.status,
            "priority": case.priority,
            "reasons": case.reasons,
            "assignee_id": case.assignee_id,
            "survey_id": response.survey_id,
            "response_id": response.pk,
            "is_anonymous": response.is_anonymous,
            "created_at": _iso(case.created_at),
            "updated_at": _iso(case.updated_at),
            "due_at": _iso(case.due_at),
            "first_response_due_at": _iso(case.first_response_due_at),
            "first_response_at": _iso(case.first_response_at),
            "team_id": case.team_id,
            "root_cause_id": case.root_cause_id,
            "resolved_at": _iso(case.resolved_at),
            "closed_at": _iso(case.closed_at),
        },
        "respondent": respondent,
        "change": change,
    }


def case_webhook_send(*, case: Case, event: CaseEvent, webhook_event: WebhookEvent) -> None:
    """Queue the webhook event for the change, in the caller's transaction; its id names
    the timeline event, so a receiver sees each change once however often it is sent. The
    payload is built only when some endpoint wants the event (usually known without a
    query): opening a case is on the path of every answer."""
    if not webhook_subscribed(organisation=case.organisation_id, event=webhook_event):
        return
    webhook_emit(
        organisation=case.organisation_id,
        event=webhook_event,
        data=case_webhook_payload(case=case, event=event),
        event_id=f"{webhook_event.value}:{case.pk}:{event.pk}",
    )
