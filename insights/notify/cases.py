"""Immediate emails to a case's assignee: when a case is assigned to them, and when one of
theirs goes overdue.

Why a poll and not a call from feedback: feedback sits below insights and may not import
it, and its case services send no signal (signals are for plumbing, not the story). So a
beat task each minute reads what changed in the last NOTIFY_LOOKBACK_MINUTES — the
"assigned" events of the cases' timelines, cases opened already assigned, due times just
passed — and the outbox key of each email (the case and the assignment event, or the
case and its due time) makes a second run, or an overlapping one, send nothing again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from communities.permissions import can_work_cases
from feedback.choices import CaseEventKind
from feedback.models import Case, CaseEvent
from insights.notify.emails import keys_written, staff_email_write, staff_roles
from insights.notify.preferences import preferences_for

# A case in one of these is done with: it cannot go overdue. Spelled out (not imported)
# because the case workflow's own list is being reworked in feedback.
DONE_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class _Due:
    case: Case
    key: str
    kind: str  # "assigned" or "overdue"


def _assignments(*, since: dt.datetime) -> list[_Due]:
    """Cases whose current assignee got them since `since`, by someone else."""
    due: list[_Due] = []
    events = (
        CaseEvent.objects.filter(kind=CaseEventKind.ASSIGNED, created_at__gte=since)
        .select_related("case__organisation", "case__assignee")
        .order_by("case_id", "-created_at", "-id")
    )
    seen: set[int] = set()
    for event in events:
        if event.case_id in seen:
            continue  # only the latest assignment of each case counts
        seen.add(event.case_id)
        case = event.case
        if case.assignee_id is None or event.data.get("assignee") != case.assignee_id:
            continue
        if event.actor_id == case.assignee_id:
            continue  # who takes a case knows they have it
        due.append(
            _Due(case=case, key=f"notify:case-assigned:{case.pk}:{event.pk}", kind="assigned")
        )
    opened = (
        Case.objects.filter(created_at__gte=since, assignee__isnull=False)
        .exclude(pk__in=seen)
        .exclude(events__kind=CaseEventKind.ASSIGNED)
        .select_related("organisation", "assignee")
    )
    for case in opened:
        due.append(_Due(case=case, key=f"notify:case-assigned:{case.pk}:opened", kind="assigned"))
    return due


def _overdue(*, now: dt.datetime) -> list[_Due]:
    """Cases whose due time passed within NOTIFY_OVERDUE_LOOKBACK_HOURS and that are not done."""
    since = now - dt.timedelta(hours=settings.NOTIFY_OVERDUE_LOOKBACK_HOURS)
    cases = (
        Case.objects.filter(due_at__lte=now, due_at__gt=since, assignee__isnull=False)
        .exclude(status__in=DONE_STATUSES)
        .select_related("organisation", "assignee")
    )
    return [
        # A new due time (a reopened case) is a new breach, with a key of its own.
        _Due(
            case=case,
            key=f"notify:case-overdue:{case.pk}:{int(case.due_at.timestamp())}",
            kind="overdue",
        )
        for case in cases
    ]


def case_notifications_send(*, now: dt.datetime | None = None) -> int:
    """Email each assignee about cases newly assigned to them and cases of theirs just gone
    overdue, as their preferences allow; returns how many emails were written."""
    now = now or timezone.now()
    since = now - dt.timedelta(minutes=settings.NOTIFY_LOOKBACK_MINUTES)
    due = _assignments(since=since) + _overdue(now=now)
    written = keys_written(item.key for item in due)
    sent = 0
    for item in due:
        if item.key in written:
            continue
        case = item.case
        organisation = case.organisation
        role = staff_roles(organisation=organisation, user_ids=[case.assignee_id]).get(
            case.assignee_id
        )
        if role is None or not can_work_cases(role.role):
            continue
        pref = preferences_for(organisation=organisation, user_ids=[case.assignee_id])[
            case.assignee_id
        ]
        if not (pref.case_assigned if item.kind == "assigned" else pref.case_overdue):
            continue
        path = reverse("staff:case_detail", args=[organisation.slug, case.pk])
        email = staff_email_write(
            organisation=organisation,
            user=role.user,
            base=f"case_{item.kind}",
            context={"case": case, "case_url": f"{settings.SITE_URL}{path}"},
            record={"case_id": case.pk},
            key=item.key,
        )
        sent += email is not None
    return sent
