"""An organisation's active follow-up rules, kept by each process between edits.

Every stored response is held against its organisation's rules, which change when staff
edit them and otherwise never: reading them per response was a query on every submit.
A process keeps them under (organisation id, organisation.updated_at), read from the
organisation row the request has already loaded with its survey; a change to a rule
moves the organisation's updated_at (so every other process asks for a new key) and
clears this process's copy (so an object loaded before the change cannot find the old
one). Without the organisation loaded, the rules are read as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from communities.models import Organisation
from feedback.models import FollowUpRule

RULES_KEPT = 1024

# The audit log's codes for rules (registered with signals_connect, at start-up).
AUDIT_ACTIONS = {
    "followup_rule.create": gettext_lazy("Follow-up rule created"),
    "followup_rule.update": gettext_lazy("Follow-up rule changed"),
    "followup_rule.delete": gettext_lazy("Follow-up rule deleted"),
    "followup_rule.reorder": gettext_lazy("Follow-up rules reordered"),
}
AUDIT_TARGETS = {"followup_rule": FollowUpRule}
AUDIT_TARGET_LABELS = {"followup_rule": gettext_lazy("Follow-up rule")}


@dataclass(frozen=True)
class CompiledRule:
    """A rule as evaluated: a stored row's fields, or one of the defaults (pk None)."""

    pk: int | None
    name: str
    match: str
    scope: dict[str, Any]
    conditions: tuple[dict[str, Any], ...]
    actions: dict[str, Any]
    stop: bool = False

    @classmethod
    def of(cls, row: FollowUpRule) -> CompiledRule:
        return cls(
            pk=row.pk,
            name=row.name,
            match=row.match,
            scope=row.scope or {},
            conditions=tuple(row.conditions or ()),
            actions=row.actions or {},
            stop=row.stop,
        )

    def kinds(self) -> frozenset[str]:
        return frozenset(c.get("kind") for c in self.conditions)


_lock = threading.Lock()
_kept: OrderedDict[Hashable, tuple[CompiledRule, ...]] = OrderedDict()


def organisation_rules(
    *, organisation_id: int, organisation: Organisation | None = None
) -> tuple[CompiledRule, ...]:
    """The organisation's active rules (for every survey), in their order."""
    key = (organisation_id, organisation.updated_at.isoformat()) if organisation else None
    if key is not None:
        with _lock:
            kept = _kept.get(key)
            if kept is not None:
                _kept.move_to_end(key)
                return kept
    rules = tuple(
        CompiledRule.of(row)
        for row in FollowUpRule.objects.for_organisation(organisation_id)
        .filter(active=True)
        .order_by("position", "pk")
    )
    if key is not None:
        with _lock:
            _kept[key] = rules
            while len(_kept) > RULES_KEPT:
                _kept.popitem(last=False)
    return rules


def rules_forget(*, organisation_id: int | None = None) -> None:
    """Plumbing for a rule change: the organisation's key moves, this process forgets."""
    if organisation_id is not None:
        Organisation.objects.filter(pk=organisation_id).update(updated_at=timezone.now())
    with _lock:
        _kept.clear()


def _rule_changed(sender, instance: FollowUpRule, **kwargs) -> None:
    rules_forget(organisation_id=instance.organisation_id)


def signals_connect() -> None:
    """Start-up plumbing for rules: cache flushes on a change, and the audit log's codes."""
    from django.db.models.signals import post_delete, post_save

    from communities.services.audit import audit_register

    audit_register(actions=AUDIT_ACTIONS, targets=AUDIT_TARGETS, target_labels=AUDIT_TARGET_LABELS)
    post_save.connect(_rule_changed, sender=FollowUpRule, dispatch_uid="rules-saved")
    post_delete.connect(_rule_changed, sender=FollowUpRule, dispatch_uid="rules-deleted")
