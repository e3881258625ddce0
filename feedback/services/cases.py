"""A case's life: opened by the follow-up rules, then assigned, moved through its statuses
and annotated by staff (on the staff pages or through the API).

Each change is one service call, in one transaction: it locks the case (`_case_locked`,
the one place cases are locked), writes the change and its timeline event (CaseEvent),
records a person's change in the audit log, and queues the webhook event for the
organisation's other systems (communities.webhooks), so none of them can commit without
the others. A change made with an API key has no person to record: the event and the
audit entry name no actor, and the event names the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import ApiToken, StaffRole, User
from communities.permissions import WORK_CASES_ROLES
from communities.services.audit import audit_record
from communities.webhooks.choices import WebhookEvent
from config.sql import insert_rows
from feedback.choices import (
    CASE_DONE_STATUSES,
    CASE_TRANSITIONS,
    CaseEventKind,
    CasePriority,
    CaseStatus,
)
from feedback.models import Case, CaseEvent, RootCause, Team
from feedback.reasons import Reason
from feedback.services.case_rows import (
    case_and_event_insert,
    case_fields,
    case_new,
    opened_event,
)
from feedback.services.case_webhooks import (  # noqa: F401 - case_webhook_payload re-exported
    _person,
    case_webhook_payload,
    case_webhook_send,
)
from feedback.services.mentions import mention_email_write, note_mentions
from feedback.services.sla import case_resolution_due
from surveys.models import Response

# A note is a working paper, not a document: long enough for a call's summary.
NOTE_MAX_LENGTH = 10_000
RESOLUTION_MAX_LENGTH = 10_000

# The audit log's codes for cases, registered in feedback.apps (labels shown translated).
AUDIT_ACTIONS = {
    "case.assign": gettext_lazy("Case assigned"),
    "case.status": gettext_lazy("Case status changed"),
    "case.note_add": gettext_lazy("Case note added"),
    "case.team": gettext_lazy("Case moved to a team"),
    "team.save": gettext_lazy("Team saved"),
    "team.delete": gettext_lazy("Team deleted"),
    "root_cause.save": gettext_lazy("Root cause saved"),
    "sla.save": gettext_lazy("Service levels saved"),
    "case.priority": gettext_lazy("Case priority changed"),
    "root_cause.delete": gettext_lazy("Root cause deleted"),
    "sla_policy.save": gettext_lazy("Service level of a priority saved"),
    "sla_policy.delete": gettext_lazy("Service level of a priority removed"),
}
AUDIT_TARGETS = {"case": Case, "team": Team, "root_cause": RootCause}
AUDIT_TARGET_LABELS = {
    "case": gettext_lazy("Case"),
    "team": gettext_lazy("Team"),
    "root_cause": gettext_lazy("Root cause"),
}


class CaseTransitionRefused(ValidationError):
    """The case cannot move to that status from the one it is in (someone moved it first,
    or a resolved case was asked for anything but reopening): a conflict, not bad input."""


def _event_record(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    api_key: ApiToken | None,
    data: dict[str, Any],
) -> CaseEvent:
    if api_key is not None:
        data = {**data, "api_key": api_key.name}
    return CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
    )


def _case_locked(case: Case) -> Case:
    """The case's row, locked until the caller's transaction ends, read afresh (a
    colleague may have changed it since the caller read it)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("organisation", "response__member", "assignee", "team", "root_cause")
        .get(pk=case.pk, organisation_id=case.organisation_id)
    )


def case_open(
    *,
    response: Response,
    reasons: list[Reason],
    priority: str = CasePriority.NORMAL,
    at: datetime | None = None,
    new_response: bool = False,
    team_id: int | None = None,
    assignee_id: int | None = None,
) -> Case:
    """Open the response's case, or return the one already open for it.

    `team_id` and `assignee_id` route a new case as a follow-up rule chose (a team, a person
    in it by turn, the store's manager); an assignee who no longer works the
    organisation's cases is left out rather than refusing the answer. A case opened
    assigned records its "assigned" event too, so the timeline and notifications see it.

    `at` stands for now in every time the case records (created, updated, due, and its
    "opened" timeline event). For a response written in this transaction (`new_response`)
    there can be no case yet: one INSERT, no lookup. A case opened here starts its
    timeline and is announced to webhooks (case.opened), in the caller's transaction.
    """
    opened = at or timezone.now()
    fields = case_fields(
        response=response, reasons=reasons, priority=priority, opened=opened, team_id=team_id
    )
    assignee = None
    if assignee_id is not None:
        assignee = (
            StaffRole.objects.for_organisation(response.organisation_id)
            .filter(user_id=assignee_id, user__is_active=True, role__in=WORK_CASES_ROLES)
            .select_related("user")
            .first()
        )
        fields["assignee_id"] = assignee.user_id if assignee else None
    event = None
    if new_response:
        case, row = case_new(response=response, fields=fields, opened=opened)
        if connection.vendor == "postgresql":
            # The case and its "opened" event in one statement: it runs on a detractor's
            # answer (issue 13's query budget).
            event = opened_event(case, reasons=reasons, priority=priority, at=opened)
            case.pk, event.pk = case_and_event_insert(row, event)
        else:
            (case.pk,) = insert_rows(Case, [row], returning=("id",))[0]
        case._state.adding = False
        case._state.db = DEFAULT_DB_ALIAS
    else:
        case, created = Case.objects.get_or_create(response=response, defaults=fields)
        if not created:
            return case
        if at is not None:
            # updated_at is auto_now; a pooled answer's case keeps the batch time there too.
            Case.objects.filter(pk=case.pk).update(updated_at=at)
            case.updated_at = at
    if event is None:
        event = opened_event(case, reasons=reasons, priority=priority, at=opened)
        row = {f.name: getattr(event, f.attname) for f in CaseEvent._meta.concrete_fields}
        del row["id"]
        (event.pk,) = insert_rows(CaseEvent, [row], returning=("id",))[0]
    event.case = case
    event._state.adding = False
    event._state.db = DEFAULT_DB_ALIAS
    if assignee is not None:
        CaseEvent.objects.create(
            organisation_id=case.organisation_id,
            case=case,
            kind=CaseEventKind.ASSIGNED,
            data={
                "assignee": assignee.user_id,
                "assignee_name": _person(assignee.user),
                "previous": None,
                "previous_name": "",
                "rule": True,
            },
            created_at=opened,
        )
    case_webhook_send(case=case, event=event, webhook_event=WebhookEvent.CASE_OPENED)
    return case


@transaction.atomic
def case_assign(
    *,
    case: Case,
    assignee: User | None,
    actor: User | None = None,
    api_key: ApiToken | None = None,
) -> CaseEvent | None:
    """Give the case to `assignee` (None: to nobody), who must work cases in the case's
    organisation (an owner, admin or agent), else ValidationError on "assignee".

    Records an "assigned" event, audits it and queues case.updated; returns the event, or
    None when the case already had this assignee (nothing is written).
    """
    if (
        assignee is not None
        and not StaffRole.objects.for_organisation(case.organisation_id)
        .filter(user=assignee, user__is_active=True, role__in=WORK_CASES_ROLES)
        .exists()
    ):
        raise ValidationError(
            {
                "assignee": ValidationError(
                    _(
                        "Assign the case to someone of this organisation who works cases "
                        "(an owner, admin or agent)."
                    ),
                    code="not_case_staff",
                )
            }
        )
    locked = _case_locked(case)
    previous = locked.assignee
    if locked.assignee_id == (assignee.pk if assignee else None):
        return None
    locked.assignee = assignee
    locked.save(update_fields=["assignee", "updated_at"])
    event = _event_record(
        case=locked,
        kind=CaseEventKind.ASSIGNED,
        actor=actor,
        api_key=api_key,
        data={
            "assignee": assignee.pk if assignee else None,
            "assignee_name": _person(assignee),
            "previous": previous.pk if previous else None,
            "previous_name": _person(previous),
        },
    )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="case.assign",
        target=locked,
        target_type="case",
        changes={"assignee": [previous, assignee]},
    )
    case_webhook_send(case=locked, event=event, webhook_event=WebhookEvent.CASE_UPDATED)
    return event


def _root_cause_pick(*, case: Case, root_cause: RootCause | int | None) -> RootCause:
    """The organisation's offered root cause `root_cause` names, else ValidationError on
    "root_cause" (none given, another organisation's, retired, or no such cause)."""
    pk = root_cause.pk if isinstance(root_cause, RootCause) else root_cause
    if pk is None:
        raise ValidationError(
            {
                "root_cause": ValidationError(
                    _("Pick the root cause the case is resolved under."),
                    code="root_cause_required",
                )
            }
        )
    found = RootCause.objects.for_organisation(case.organisation_id).filter(pk=pk, active=True)
    picked = found.first()
    if picked is None:
        raise ValidationError(
            {
                "root_cause": ValidationError(
                    _("Pick one of this organisation's root causes."), code="invalid_choice"
                )
            }
        )
    return picked


def _first_response_mark(locked: Case, *, actor: User | None, api_key: ApiToken | None) -> list:
    """Record the case's first response when a person (or an API key acting for one) acts
    on it first; the fields to save (none once it is recorded)."""
    if locked.first_response_at is not None:
        return []
    if api_key is None and not getattr(actor, "is_authenticated", False):
        return []
    locked.first_response_at = timezone.now()
    return ["first_response_at"]


@transaction.atomic
def case_status_change(
    *,
    case: Case,
    status: str,
    resolution: str = "",
    root_cause: RootCause | int | None = None,
    actor: User | None = None,
    api_key: ApiToken | None = None,
    event_data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move the case to `status`, along CASE_TRANSITIONS; resolving needs a `resolution`
    and one of the organisation's root causes.

    A status that does not exist, or resolving without saying how and why, is a
    ValidationError on the field; a move the case's current status does not allow (it is
    already there, or it is resolved or closed and may only be reopened or closed) is
    CaseTransitionRefused. Resolving stamps resolved_at and keeps the resolution and root
    cause; closing stamps closed_at and keeps them; reopening clears all of them (the
    timeline keeps them) and gives the case its full resolution target again. The first
    change a person makes is the case's first response. Records a "status_changed" event,
    audits it, and queues case.resolved for a resolution, case.updated for any other move.
    """
    if status not in CaseStatus.values:
        raise ValidationError(
            {"status": ValidationError(_("Not a case status."), code="invalid_choice")}
        )
    resolution = (resolution or "").strip()
    if status == CaseStatus.RESOLVED and not resolution:
        raise ValidationError(
            {
                "resolution": ValidationError(
                    _("Say how the case was resolved."), code="resolution_required"
                )
            }
        )
    if len(resolution) > RESOLUTION_MAX_LENGTH:
        raise ValidationError(
            {
                "resolution": ValidationError(
                    _("Keep the resolution to %(n)s characters.") % {"n": RESOLUTION_MAX_LENGTH},
                    code="max_length",
                )
            }
        )
    cause = _root_cause_pick(case=case, root_cause=root_cause) if status == "resolved" else None
    locked = _case_locked(case)
    before = {
        "status": locked.status,
        "resolution": locked.resolution,
        "root_cause": locked.root_cause_id,
    }
    if status not in CASE_TRANSITIONS.get(locked.status, frozenset()):
        message = (
            _("The case is already in that status.")
            if status == locked.status
            else _("A resolved case can only be reopened or closed.")
            if locked.status == CaseStatus.RESOLVED
            else _("A closed case can only be reopened.")
            if locked.status == CaseStatus.CLOSED
            else _("The case cannot move to that status from the one it is in.")
        )
        raise CaseTransitionRefused(message, code="transition_refused")
    now = timezone.now()
    reopened = before["status"] in CASE_DONE_STATUSES and status not in CASE_DONE_STATUSES
    locked.status = status
    fields = ["status", "resolution", "resolved_at", "closed_at", "root_cause", "updated_at"]
    if status == CaseStatus.RESOLVED:
        locked.resolution = resolution
        locked.root_cause = cause
        locked.resolved_at = now
    elif status == CaseStatus.CLOSED:
        locked.closed_at = now
    else:
        locked.resolution = ""
        locked.root_cause = None
        locked.resolved_at = None
        locked.closed_at = None
    if reopened:
        locked.due_at = case_resolution_due(case=locked, start=now)
        fields.append("due_at")
    fields += _first_response_mark(locked, actor=actor, api_key=api_key)
    locked.full_clean(exclude=["response", "organisation", "assignee", "team", "root_cause"])
    locked.save(update_fields=fields)
    # `event_data`: what made the move, when no person did (a recovery check's answer).
    data: dict[str, Any] = {**(event_data or {}), "from": before["status"], "to": status}
    if status == CaseStatus.RESOLVED:
        data.update(resolution=resolution, root_cause=cause.pk, root_cause_name=cause.name)
    event = _event_record(
        case=locked,
        kind=CaseEventKind.STATUS_CHANGED,
        actor=actor,
        api_key=api_key,
        data=data,
    )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="case.status",
        target=locked,
        target_type="case",
        changes={
            "status": [before["status"], locked.status],
            "resolution": [before["resolution"], locked.resolution],
            "root_cause": [before["root_cause"], locked.root_cause_id],
        },
    )
    resolved = status == CaseStatus.RESOLVED
    case_webhook_send(
        case=locked,
        event=event,
        webhook_event=WebhookEvent.CASE_RESOLVED if resolved else WebhookEvent.CASE_UPDATED,
    )
    return event


@transaction.atomic
def case_team_set(
    *,
    case: Case,
    team: Team | None,
    actor: User | None = None,
    api_key: ApiToken | None = None,
) -> CaseEvent | None:
    """Route the case to `team` (one of its organisation's, else ValidationError on
    "team"; None: to no team). Records a "assigned" event naming the team, audits it and
    queues case.updated; None when the case was already with that team."""
    if team is not None and team.organisation_id != case.organisation_id:
        raise ValidationError(
            {"team": ValidationError(_("Pick one of this organisation's teams."), code="invalid")}
        )
    locked = _case_locked(case)
    previous = locked.team
    if locked.team_id == (team.pk if team else None):
        return None
    locked.team = team
    locked.save(update_fields=["team", "updated_at"])
    event = _event_record(
        case=locked,
        kind=CaseEventKind.ASSIGNED,
        actor=actor,
        api_key=api_key,
        data={
            "team": team.pk if team else None,
            "team_name": team.name if team else "",
            "previous_team": previous.pk if previous else None,
            "previous_team_name": previous.name if previous else "",
        },
    )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="case.team",
        target=locked,
        target_type="case",
        changes={"team": [previous, team]},
    )
    case_webhook_send(case=locked, event=event, webhook_event=WebhookEvent.CASE_UPDATED)
    return event


def _note_body_clean(body: str) -> str:
    body = (body or "").strip()
    if not body or len(body) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "body": ValidationError(
                    _("Write a note of 1 to %(n)s characters.") % {"n": NOTE_MAX_LENGTH},
                    code="invalid_length",
                )
            }
        )
    return body


def _note_record(
    *,
    locked: Case,
    data: dict[str, Any],
    actor: User | None,
    api_key: ApiToken | None,
) -> CaseEvent:
    # The case changed: the inbox's "last changed" reads updated_at.
    fields = _first_response_mark(locked, actor=actor, api_key=api_key)
    # "New" means nobody has acted on the case yet; a person's note is acting on it, so
    # the case is being worked from now: open (as a reply moves it on to waiting).
    by_person = api_key is not None or getattr(actor, "is_authenticated", False)
    opened = by_person and locked.status == CaseStatus.NEW
    if opened:
        locked.status = CaseStatus.OPEN
        fields.append("status")
    locked.save(update_fields=["updated_at", *fields])
    event = _event_record(
        case=locked, kind=CaseEventKind.NOTE, actor=actor, api_key=api_key, data=data
    )
    if opened:
        _event_record(
            case=locked,
            kind=CaseEventKind.STATUS_CHANGED,
            actor=actor,
            api_key=api_key,
            data={"from": CaseStatus.NEW, "to": CaseStatus.OPEN, "after_note": event.pk},
        )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="case.note_add",
        target=locked,
        target_type="case",
    )
    case_webhook_send(case=locked, event=event, webhook_event=WebhookEvent.CASE_UPDATED)
    return event


@transaction.atomic
def case_note_add(
    *,
    case: Case,
    body: str,
    actor: User | None = None,
    api_key: ApiToken | None = None,
) -> CaseEvent:
    """Add a note (1 to NOTE_MAX_LENGTH characters, else ValidationError on "body") to the
    case's timeline; audits it (without its text) and queues case.updated."""
    body = _note_body_clean(body)
    locked = _case_locked(case)
    return _note_record(locked=locked, data={"body": body}, actor=actor, api_key=api_key)


@transaction.atomic
def case_note_post(
    *,
    case: Case,
    body: str,
    actor: User,
    staff: list[User],
    submission: str = "",
) -> CaseEvent:
    """A staff member's note from the case page: as case_note_add, and each of `staff`
    (the organisation's case workers) the note @mentions is kept on the event (for the
    timeline to highlight) and emailed through the outbox in their language, after
    commit; the author is not emailed about their own mention.

    `submission` names the form the note came from: a second note from the same form (a
    double submit) is refused with a ValidationError on "body" and nothing is written.
    """
    body = _note_body_clean(body)
    locked = _case_locked(case)
    if (
        submission
        and CaseEvent.objects.filter(
            case=locked, kind=CaseEventKind.NOTE, data__submission=submission
        ).exists()
    ):
        raise ValidationError(
            {
                "body": ValidationError(
                    _("This note was already added (the form was sent twice)."),
                    code="duplicate_submission",
                )
            }
        )
    mentioned = note_mentions(body=body, staff=staff)
    data: dict[str, Any] = {"body": body}
    if mentioned:
        data["mentions"] = [
            {"id": user.pk, "name": _person(user), "text": text} for user, text in mentioned
        ]
    if submission:
        data["submission"] = submission
    event = _note_record(locked=locked, data=data, actor=actor, api_key=None)
    for user, _text in mentioned:
        if user.pk != actor.pk:
            mention_email_write(case=locked, event=event, user=user, author=_person(actor))
    return event
