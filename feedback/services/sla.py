"""Service levels: when a case's first response and resolution are due, counted in the
organisation's business hours and time zone, and the escalation of a missed target to
the team's lead by email, once per breach.

A case's targets are set when it opens (`case_sla_times`), its resolution target again
when it is reopened. The beat's sweep (`case_escalation_sweep`, run by
feedback.tasks.case_escalation_sweep_task) finds cases past a target that was not yet
escalated and escalates each in its own transaction: a timeline event, the due time it
escalated stamped on the case (a reopened case's new due time is a new breach), and one
email per recipient through the outbox under a key naming the breach, so a sweep that
runs twice, or two workers that race, send one email.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, FilteredRelation, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import Role
from communities.models import Organisation, StaffRole, User
from communities.outbox.services import outbox_write
from communities.views.settings import organisation_time_zone
from config.sql import PreparedQuery
from feedback.choices import CASE_DONE_STATUSES, CaseEventKind, SlaBreach
from feedback.models import BusinessHours, Case, CaseEvent, SlaPolicy

UTC = dt.UTC
# Monday to Friday, 09:00–17:00: the hours of an organisation that has not set its own.
DEFAULT_DAYS = (1, 2, 3, 4, 5)
DEFAULT_OPENS, DEFAULT_CLOSES = dt.time(9, 0), dt.time(17, 0)
# Ten years of days: a target past that is no target (hours with no working day at all
# are read as round the clock before it comes to this).
_MAX_DAYS = 3660


@dataclass(frozen=True)
class Hours:
    """Business hours as the arithmetic reads them."""

    days: tuple[int, ...]
    opens: dt.time
    closes: dt.time
    zone: dt.tzinfo


def business_hours_of(*, organisation: Organisation) -> Hours:
    """The organisation's business hours (its own row, else the default week), in its
    time zone."""
    row = BusinessHours.objects.filter(organisation=organisation).first()
    zone = organisation_time_zone(organisation)
    if row is None:
        return Hours(DEFAULT_DAYS, DEFAULT_OPENS, DEFAULT_CLOSES, zone)
    days = tuple(sorted({int(d) for d in row.days if str(d).isdigit() and 1 <= int(d) <= 7}))
    return Hours(days, row.opens, row.closes, zone)


def _windows(start: dt.datetime, hours: Hours):
    """The working windows (UTC start, UTC end) from `start` on, the first one cut at it."""
    local = start.astimezone(hours.zone)
    day = local.date()
    for _ in range(_MAX_DAYS):
        if day.isoweekday() in hours.days:
            opens = dt.datetime.combine(day, hours.opens, tzinfo=hours.zone).astimezone(UTC)
            closes = dt.datetime.combine(day, hours.closes, tzinfo=hours.zone).astimezone(UTC)
            begin = max(opens, start.astimezone(UTC))
            if begin < closes:
                yield begin, closes
        day += dt.timedelta(days=1)


def business_time_add(*, start: dt.datetime, minutes: int, hours: Hours) -> dt.datetime:
    """The moment `minutes` of business time after `start` (round the clock when the
    hours name no working day). Wall-clock hours are read in the organisation's zone, so
    a day that changes its clocks still works its set hours."""
    if not hours.days:
        return start + dt.timedelta(minutes=minutes)
    remaining = dt.timedelta(minutes=minutes)
    for begin, end in _windows(start, hours):
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    return start + dt.timedelta(minutes=minutes)


def business_minutes_between(*, start: dt.datetime, end: dt.datetime, hours: Hours) -> int:
    """Business minutes from `start` to `end` (negative when `end` is earlier)."""
    if end < start:
        return -business_minutes_between(start=end, end=start, hours=hours)
    if not hours.days:
        return int((end - start).total_seconds() // 60)
    total = dt.timedelta()
    for begin, close in _windows(start, hours):
        if begin >= end:
            break
        total += min(close, end) - begin
    return int(total.total_seconds() // 60)


def sla_targets(*, organisation: Organisation | int, priority: str) -> tuple[int, int]:
    """(first response, resolution) business minutes for a case of `priority`: the
    organisation's policy, else settings.CASES_SLA_DEFAULTS."""
    policy = (
        SlaPolicy.objects.filter(organisation=organisation, priority=priority)
        .values_list("first_response_minutes", "resolution_minutes")
        .first()
    )
    if policy is not None:
        return policy
    default = settings.CASES_SLA_DEFAULTS.get(priority) or settings.CASES_SLA_DEFAULTS["normal"]
    return default["first_response"], default["resolution"]


# The organisation's hours and one priority's policy, in one query compiled once per
# process: a case opens on the path of an answer, and compiling this through the ORM cost
# more than running it.
_sla_row = PreparedQuery(
    lambda organisation_id, priority: (
        Organisation.objects.filter(pk=organisation_id)
        .annotate(
            policy=FilteredRelation("sla_policies", condition=Q(sla_policies__priority=priority))
        )
        .values(
            "business_hours__id",
            "business_hours__days",
            "business_hours__opens",
            "business_hours__closes",
            "policy__first_response_minutes",
            "policy__resolution_minutes",
        )
    ),
    ("int", "str"),
)


# What `_sla_row` found, per (organisation, its updated_at, priority): a case opens on the
# path of every detractor's answer, and these settings seldom change. A change to the hours
# or a policy moves the organisation's updated_at (sla_signals_connect), so a key read
# before it is never asked again; the follow-up rules are kept the same way.
SLA_KEPT = 1024
_lock = threading.Lock()
_kept: OrderedDict[tuple[int, str, str], dict[str, Any]] = OrderedDict()


def _sla_values(*, organisation: Organisation, priority: str) -> dict[str, Any]:
    key = (organisation.pk, organisation.updated_at.isoformat(), priority)
    with _lock:
        row = _kept.get(key)
        if row is not None:
            _kept.move_to_end(key)
            return row
    row = _sla_row.values_first(organisation.pk, priority) or {}
    with _lock:
        _kept[key] = row
        while len(_kept) > SLA_KEPT:
            _kept.popitem(last=False)
    return row


def sla_forget(*, organisation_id: int | None = None) -> None:
    """Plumbing for a change of hours or targets: the organisation's key moves (in the
    change's own transaction), and this process forgets what it kept."""
    if organisation_id is not None:
        Organisation.objects.filter(pk=organisation_id).update(updated_at=timezone.now())
    with _lock:
        _kept.clear()


def _sla_changed(sender, instance: BusinessHours | SlaPolicy, **kwargs) -> None:
    sla_forget(organisation_id=instance.organisation_id)


def sla_signals_connect() -> None:
    """Start-up plumbing: any write of business hours or a policy (a service, a factory, the
    shell) moves its organisation's key."""
    from django.db.models.signals import post_delete, post_save

    for model in (BusinessHours, SlaPolicy):
        name = model._meta.model_name
        post_save.connect(_sla_changed, sender=model, dispatch_uid=f"sla-{name}-saved")
        post_delete.connect(_sla_changed, sender=model, dispatch_uid=f"sla-{name}-deleted")


def _sla_of(*, organisation: Organisation, priority: str) -> tuple[Hours, int, int]:
    """The organisation's hours and `priority`'s (first response, resolution) minutes: one
    query, the first time this process is asked for them since they last changed."""
    row = _sla_values(organisation=organisation, priority=priority)
    zone = organisation_time_zone(organisation)
    if row.get("business_hours__id") is None:
        hours = Hours(DEFAULT_DAYS, DEFAULT_OPENS, DEFAULT_CLOSES, zone)
    else:
        days = row["business_hours__days"] or []
        days = tuple(sorted({int(d) for d in days if str(d).isdigit() and 1 <= int(d) <= 7}))
        hours = Hours(days, row["business_hours__opens"], row["business_hours__closes"], zone)
    if row.get("policy__first_response_minutes") is not None:
        return hours, row["policy__first_response_minutes"], row["policy__resolution_minutes"]
    default = settings.CASES_SLA_DEFAULTS.get(priority) or settings.CASES_SLA_DEFAULTS["normal"]
    return hours, default["first_response"], default["resolution"]


def case_sla_times(
    *, organisation: Organisation, priority: str, start: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """(first response due, resolution due) for a case of `priority` opened at `start`."""
    hours, first, resolution = _sla_of(organisation=organisation, priority=priority)
    return (
        business_time_add(start=start, minutes=first, hours=hours),
        business_time_add(start=start, minutes=resolution, hours=hours),
    )


def case_resolution_due(*, case: Case, start: dt.datetime) -> dt.datetime:
    """When a case reopened at `start` is due again: its full resolution target anew."""
    hours, _first, resolution = _sla_of(organisation=case.organisation, priority=case.priority)
    return business_time_add(start=start, minutes=resolution, hours=hours)


# --- escalation ----------------------------------------------------------------------


def _breached(now: dt.datetime) -> dict[str, Q]:
    """Each breach as a filter: past its due time, the case still being worked, and that
    due time not escalated yet."""
    working = ~Q(status__in=CASE_DONE_STATUSES)
    return {
        SlaBreach.FIRST_RESPONSE: working
        & Q(first_response_at__isnull=True, first_response_due_at__lt=now)
        & (
            Q(response_escalated_for__isnull=True)
            | ~Q(response_escalated_for=F("first_response_due_at"))
        ),
        SlaBreach.RESOLUTION: working
        & Q(due_at__lt=now)
        & (Q(resolution_escalated_for__isnull=True) | ~Q(resolution_escalated_for=F("due_at"))),
    }


def cases_breached(*, now: dt.datetime, limit: int) -> list[tuple[int, str]]:
    """(case id, breach) for up to `limit` breaches not yet escalated, oldest due first."""
    found: list[tuple[int, str]] = []
    for breach, condition in _breached(now).items():
        due = "first_response_due_at" if breach == SlaBreach.FIRST_RESPONSE else "due_at"
        ids = Case.objects.filter(condition).order_by(due, "id").values_list("id", flat=True)
        found.extend((pk, breach) for pk in ids[: max(0, limit - len(found))])
    return found


def escalation_recipients(*, case: Case) -> list[User]:
    """Who hears of a missed target: the case's team lead; without a team or a lead, the
    organisation's owners (someone must)."""
    if case.team_id and case.team.lead_id and case.team.lead.is_active:
        return [case.team.lead]
    roles = StaffRole.objects.for_organisation(case.organisation_id).filter(
        role=Role.OWNER, user__is_active=True
    )
    return [role.user for role in roles.select_related("user").order_by("user_id")]


def _escalation_email_write(*, case: Case, breach: str, due: dt.datetime, user: User) -> None:
    organisation = case.organisation
    path = reverse("staff:case_detail", args=[organisation.slug, case.pk])
    zone = organisation_time_zone(organisation)
    context: dict[str, Any] = {
        "organisation_name": organisation.name,
        "case_id": case.pk,
        "breach": breach,
        "due": due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "time_zone": str(zone),
        "team": case.team.name if case.team_id else "",
        "assignee": (case.assignee.name or case.assignee.email) if case.assignee_id else "",
        "case_url": f"{settings.SITE_URL}{path}",
    }
    language = user.locale or organisation.default_language
    base = "feedback/emails/case_escalation"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    outbox_write(
        idempotency_key=f"case-escalation:{case.pk}:{breach}:{due.isoformat()}:user:{user.pk}",
        organisation=organisation,
        to_email=user.email,
        template="case_escalation",
        context=context,
        language=language,
        subject=" ".join(subject.strip().splitlines()),
        body_text=text,
        body_html=html,
        headers={},
    )


@transaction.atomic
def case_escalate(*, case_id: int, breach: str, now: dt.datetime | None = None) -> bool:
    """Escalate the case's `breach` if it is still breached and not yet escalated: an
    "escalated" timeline event, the due time stamped as escalated, and an email to each
    recipient through the outbox (after commit). False when there is nothing to do."""
    now = now or timezone.now()
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("organisation", "team__lead", "assignee")
        .filter(_breached(now)[breach], pk=case_id)
        .first()
    )
    if case is None:
        return False
    if breach == SlaBreach.FIRST_RESPONSE:
        due = case.first_response_due_at
        case.response_escalated_for = due
        field = "response_escalated_for"
    else:
        due = case.due_at
        case.resolution_escalated_for = due
        field = "resolution_escalated_for"
    Case.objects.filter(pk=case.pk).update(**{field: due})
    recipients = escalation_recipients(case=case)
    CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=CaseEventKind.ESCALATED,
        data={
            "breach": breach,
            "due_at": due.isoformat(),
            "to": [{"id": u.pk, "name": u.name or u.email} for u in recipients],
        },
        created_at=now,
    )
    for user in recipients:
        _escalation_email_write(case=case, breach=breach, due=due, user=user)
    return True


def case_escalation_sweep(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Escalate every breach not yet escalated (up to settings.CASES_ESCALATION_BATCH),
    each in its own transaction; returns how many were escalated."""
    now = now or timezone.now()
    limit = settings.CASES_ESCALATION_BATCH if limit is None else limit
    return sum(
        case_escalate(case_id=pk, breach=breach, now=now)
        for pk, breach in cases_breached(now=now, limit=limit)
    )
