"""Each process's copy of which endpoints an organisation has, so that `webhook_emit` on
the survey submit path costs no query for the many organisations with none.

A copy is trusted for WEBHOOK_ENDPOINT_CACHE_SECONDS. Saving or deleting an endpoint
drops the organisation's copy in this process at once (and again after commit, so a
reader in between cannot keep the old list); other processes see the change when their
copy expires. An organisation created drops any copy under its id too: a database that
reuses ids (SQLite after a rollback) must not inherit a deleted organisation's list.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from communities.models.organisations import Organisation
from communities.webhooks.models import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class CachedEndpoint:
    id: int
    events: frozenset[str]


@dataclass(frozen=True, slots=True)
class OrganisationEndpoints:
    slug: str
    endpoints: tuple[CachedEndpoint, ...]

    def subscribed(self, event: str) -> list[int]:
        return [e.id for e in self.endpoints if event in e.events]


_NONE = OrganisationEndpoints(slug="", endpoints=())
_copies: dict[int, tuple[float, OrganisationEndpoints]] = {}
_lock = threading.Lock()


def endpoints_active(*, organisation_id: int) -> OrganisationEndpoints:
    """The organisation's active endpoints and their events (cached; one query on a miss)."""
    now = time.monotonic()
    copy = _copies.get(organisation_id)
    if copy is not None and copy[0] > now:
        return copy[1]
    rows = list(
        WebhookEndpoint.objects.filter(organisation_id=organisation_id, active=True)
        .order_by("id")
        .values_list("id", "events", "organisation__slug")
    )
    found = (
        OrganisationEndpoints(
            slug=rows[0][2],
            endpoints=tuple(
                CachedEndpoint(id=pk, events=frozenset(ev or ())) for pk, ev, _ in rows
            ),
        )
        if rows
        else _NONE
    )
    with _lock:
        _copies[organisation_id] = (now + settings.WEBHOOK_ENDPOINT_CACHE_SECONDS, found)
    return found


def endpoints_forget(*, organisation_id: int | None = None) -> None:
    """Drop this process's copy for one organisation (all of them with None)."""
    with _lock:
        if organisation_id is None:
            _copies.clear()
        else:
            _copies.pop(organisation_id, None)


def _endpoint_changed(sender, instance: WebhookEndpoint, **kwargs) -> None:
    organisation_id = instance.organisation_id
    endpoints_forget(organisation_id=organisation_id)
    transaction.on_commit(lambda: endpoints_forget(organisation_id=organisation_id))


def _organisation_created(sender, instance: Organisation, created: bool = True, **kwargs) -> None:
    if created:
        endpoints_forget(organisation_id=instance.pk)


post_save.connect(_endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhook_endpoints_save")
post_delete.connect(
    _endpoint_changed, sender=WebhookEndpoint, dispatch_uid="webhook_endpoints_delete"
)
post_save.connect(_organisation_created, sender=Organisation, dispatch_uid="webhook_org_created")
post_delete.connect(_organisation_created, sender=Organisation, dispatch_uid="webhook_org_deleted")
