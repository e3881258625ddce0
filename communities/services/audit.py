"""The audit log's one writer: who changed what in an organisation, the values before and after.

A feature that changes an organisation's settings or data calls `audit_record` in the same
transaction as the change, with a stable action code ("location.create") and the fields it
changed as {field: [before, after]}. Codes are data; pages show them through
`audit_action_label`, in the reader's language. An app above communities names its own codes
and the models its targets are with `audit_register` in its AppConfig.ready.

The log is append-only (AuditEntry refuses to be saved twice or deleted one by one); the one
way entries leave is `audit_entries_expire`, after each organisation's retention.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from communities.models import (
    ApiToken,
    AuditEntry,
    Community,
    Location,
    Member,
    MemberImport,
    Organisation,
    StaffInvitation,
    StaffRole,
    User,
)

# Every action code a page may show, with its label (translated when shown).
AUDIT_ACTIONS: dict[str, Promise | str] = {
    "organisation.settings": _("Settings changed"),
    "location.create": _("Store created"),
    "location.update": _("Store changed"),
    "location.archive": _("Store archived"),
    "location.unarchive": _("Store brought back"),
    "staff.role_grant": _("Staff role granted"),
    "staff.role_change": _("Staff role changed"),
    "staff.role_remove": _("Staff role removed"),
    "staff_invitation.send": _("Staff invitation sent"),
    "staff_invitation.revoke": _("Staff invitation revoked"),
    "api_token.create": _("API key created"),
    "api_token.revoke": _("API key revoked"),
    "community.create": _("Community created"),
    "community.update": _("Community changed"),
    "community.policy_publish": _("Policy version published"),
    "member.export": _("Personal data downloaded"),
    "member.erase": _("Member erased"),
    "member_import.problems_download": _("Import problems downloaded"),
    "audit.export": _("Audit log exported"),
}
# target_type -> the model whose field names label the changes of such an entry.
AUDIT_TARGETS: dict[str, type[models.Model]] = {
    "organisation": Organisation,
    "location": Location,
    "staff_role": StaffRole,
    "staff_invitation": StaffInvitation,
    "api_token": ApiToken,
    "community": Community,
    "member": Member,
    "member_import": MemberImport,
}
# target_type -> what the audit page calls such an object (its filter and its rows).
AUDIT_TARGET_LABELS: dict[str, Promise | str] = {
    "organisation": _("Organisation"),
    "location": _("Store"),
    "staff_role": _("Staff role"),
    "staff_invitation": _("Staff invitation"),
    "api_token": _("API key"),
    "community": _("Community"),
    "member": _("Member"),
    "member_import": _("Member import"),
    "audit_log": _("Audit log"),
}

LABEL_MAX_LENGTH = AuditEntry._meta.get_field("target_label").max_length


def audit_register(
    *,
    actions: Mapping[str, Promise | str] | None = None,
    targets: Mapping[str, type[models.Model]] | None = None,
    target_labels: Mapping[str, Promise | str] | None = None,
) -> None:
    """Name more action codes, target models and target names (for apps above communities,
    at start-up)."""
    AUDIT_ACTIONS.update(actions or {})
    AUDIT_TARGETS.update(targets or {})
    AUDIT_TARGET_LABELS.update(target_labels or {})


def audit_action_label(code: str) -> str:
    """The action as people read it, in the active language; an unknown code as itself."""
    return str(AUDIT_ACTIONS.get(code, code))


def audit_target_label(target_type: str) -> str:
    """What kind of object an entry is about, in the active language; unknown as itself."""
    return str(AUDIT_TARGET_LABELS.get(target_type, target_type))


def audit_choice_label(target_type: str, field: str, value: Any) -> Any:
    """A logged value of a field with choices (a role, a join mode) as its label; any other
    value unchanged."""
    model = AUDIT_TARGETS.get(target_type)
    try:
        choices = dict(model._meta.get_field(field).flatchoices) if model else {}
    except FieldDoesNotExist:
        return value
    return str(choices[value]) if isinstance(value, str) and value in choices else value


def audit_field_label(target_type: str, field: str) -> str:
    """A changed field as people read it: the model field's verbose name, else the name."""
    model = AUDIT_TARGETS.get(target_type)
    try:
        return capfirst(str(model._meta.get_field(field).verbose_name)) if model else field
    except FieldDoesNotExist:  # a field since removed still reads as its name
        return field


def audit_value(value: Any) -> Any:
    """A value as the log keeps it: JSON, and readable without the row it came from."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, User):
        return value.email
    return str(value)


def audit_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field of `after` whose value differs from `before`."""
    changes = {}
    for field, new in after.items():
        old = audit_value(before.get(field))
        new = audit_value(new)
        if old != new:
            changes[field] = [old, new]
    return changes


@transaction.atomic
def audit_record(
    *,
    organisation: Organisation,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    changes: Mapping[str, Sequence[Any]] | None = None,
) -> AuditEntry | None:
    """Record one change to the organisation, in the caller's transaction.

    `changes` maps fields to (before, after); pairs whose values are equal are dropped, and
    when changes were given but none remain nothing is written (None is returned): saving
    an unchanged form leaves no entry. Leave `changes` None for an event with no fields
    (a store archived). `target` fills the type, id and label unless they are given.
    """
    kept: dict[str, list[Any]] = {}
    for field, pair in (changes or {}).items():
        before, after = (audit_value(v) for v in pair)
        if before != after:
            kept[field] = [before, after]
    if changes is not None and not kept:
        return None
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry.objects.create(
        organisation=organisation,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:LABEL_MAX_LENGTH],
        changes=kept,
    )


def audit_entries_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete every organisation's entries older than its `audit_retention_days`; returns how
    many went. The only way entries leave the log; running it twice deletes nothing more."""
    now = now or timezone.now()
    deleted = 0
    # One DELETE per distinct retention (a handful), not one per organisation.
    retentions = (
        Organisation.objects.order_by().values_list("audit_retention_days", flat=True).distinct()
    )
    for days in retentions:
        old = AuditEntry.objects.filter(
            organisation__audit_retention_days=days,
            created_at__lt=now - datetime.timedelta(days=days),
        )
        deleted += old.delete()[0]
    return deleted
