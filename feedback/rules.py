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

from django.utils import timezone

from communities.models import Organisation
from feedback.models import FollowUpRule

RULES_KEPT = 1024

_lock = threading.Lock()
_kept: OrderedDict[Hashable, tuple[FollowUpRule, ...]] = OrderedDict()


def organisation_rules(
    *, organisation_id: int, organisation: Organisation | None = None
) -> tuple[FollowUpRule, ...]:
    """The organisation's active rules (for every survey), as stored."""
    key = (organisation_id, organisation.updated_at.isoformat()) if organisation else None
    if key is not None:
        with _lock:
            kept = _kept.get(key)
            if kept is not None:
                _kept.move_to_end(key)
                return kept
    rules = tuple(FollowUpRule.objects.for_organisation(organisation_id).filter(active=True))
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
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_rule_changed, sender=FollowUpRule, dispatch_uid="rules-saved")
    post_delete.connect(_rule_changed, sender=FollowUpRule, dispatch_uid="rules-deleted")
