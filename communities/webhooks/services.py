"""Webhooks: the services every app calls (`webhook_emit`, from communities.webhooks.emit)
and the ones staff pages and the API call to register, change, test and resend.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Organisation, User
from communities.services.audit import audit_record, audit_register
from communities.webhooks.choices import AttemptError, DeliveryStatus, DisabledReason, WebhookEvent
from communities.webhooks.emit import (
    deliveries_write,
    webhook_emit,
    webhook_emit_many,
    webhook_envelope,
    webhook_subscribed,
)
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from communities.webhooks.net import WebhookRefused, host_allow_listed, url_parse, url_resolve
from config.queue import enqueue_on_commit

__all__ = [
    "webhook_delivery_resend",
    "webhook_emit",
    "webhook_emit_many",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_secret_rotate",
    "webhook_endpoint_update",
    "webhook_subscribed",
    "webhook_test_send",
    "webhook_url_check",
]


# --- endpoints: registered, changed and removed by staff (pages and the API) -----------

audit_register(
    actions={
        "webhook.create": _("Webhook endpoint created"),
        "webhook.update": _("Webhook endpoint changed"),
        "webhook.secret_rotate": _("Webhook signing secret replaced"),
        "webhook.delete": _("Webhook endpoint deleted"),
        "webhook.test_send": _("Webhook test event sent"),
        "webhook.resend": _("Webhook delivery sent again"),
    },
    targets={"webhook_endpoint": WebhookEndpoint},
    target_labels={"webhook_endpoint": _("Webhook endpoint")},
)

URL_MAX_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
SUBSCRIBABLE = tuple(e for e in WebhookEvent.values if e != WebhookEvent.PING)


def webhook_url_check(*, url: str) -> str:
    """The URL cleaned, or a ValidationError on "url": too long, not http(s), credentials
    in it, http:// outside DEBUG for a host not allow-listed, or a host that is (or
    resolves to) a private, loopback, link-local or reserved address. A host that does not
    resolve yet is accepted: each delivery resolves and checks it again."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": [_("Enter the URL to send events to.")]})
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            {"url": [_("The URL is too long (at most %(n)d characters).") % {"n": URL_MAX_LENGTH}]}
        )
    invalid = ValidationError({"url": [_("Enter a valid http:// or https:// URL.")]})
    try:
        credentials = "@" in urlsplit(url).netloc
    except ValueError as exc:
        raise invalid from exc
    if credentials:
        raise ValidationError({"url": [_("The URL must not contain a user name or password.")]})
    try:
        URLValidator(schemes=["http", "https"])(url)
        parts, host, _port = url_parse(url)
    except (ValidationError, WebhookRefused) as exc:
        raise invalid from exc
    if parts.scheme != "https" and not settings.DEBUG and not host_allow_listed(host=host):
        raise ValidationError({"url": [_("The URL must start with https://.")]})
    try:
        url_resolve(url)
    except WebhookRefused as refused:
        if refused.code == AttemptError.BLOCKED_ADDRESS:
            raise ValidationError(
                {"url": [_("The URL points to a private or reserved network address.")]}
            ) from refused
    return url


def _events_check(events: Iterable[str]) -> list[str]:
    chosen = sorted({str(e) for e in events or ()})
    if not chosen:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    unknown = [e for e in chosen if e not in SUBSCRIBABLE]
    if unknown:
        raise ValidationError(
            {"events": [_("Unknown event: %(events)s.") % {"events": ", ".join(unknown)}]}
        )
    return chosen


def _url_unique(*, organisation_id: int, url: str, exclude_id: int | None = None) -> None:
    taken = WebhookEndpoint.objects.filter(organisation_id=organisation_id, url=url)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"url": [_("This organisation already sends to this URL.")]})


def _secret_new() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _audit(endpoint: WebhookEndpoint, *, actor: User | None, action: str, changes=None) -> None:
    audit_record(
        organisation=endpoint.organisation,
        actor=actor,
        action=action,
        target=endpoint,
        target_type="webhook_endpoint",
        changes=changes,
    )


@transaction.atomic
def webhook_endpoint_create(
    *,
    organisation: Organisation,
    url: str,
    events: Iterable[str],
    description: str = "",
    actor: User | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (URL checked: webhook_url_check); returns it and its signing
    secret, which is shown to staff this once. Audited."""
    url = webhook_url_check(url=url)
    chosen = _events_check(events)
    _url_unique(organisation_id=organisation.pk, url=url)
    secret = _secret_new()
    endpoint = WebhookEndpoint(
        organisation=organisation,
        url=url,
        description=(description or "").strip(),
        events=chosen,
        secret=secret,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    endpoint.full_clean(exclude=["url", "secret"])
    endpoint.save()
    _audit(
        endpoint,
        actor=actor,
        action="webhook.create",
        changes={"url": [None, url], "events": [None, ", ".join(chosen)]},
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: User | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None leaves a field as it is). Turning a disabled endpoint
    back on clears why it was disabled and its failing run; turning it off is "staff".
    Audited with what changed."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = {
        "url": endpoint.url,
        "events": ", ".join(endpoint.events),
        "description": endpoint.description,
        "active": endpoint.active,
    }
    if url is not None:
        endpoint.url = webhook_url_check(url=url)
        _url_unique(
            organisation_id=endpoint.organisation_id, url=endpoint.url, exclude_id=endpoint.pk
        )
    if events is not None:
        endpoint.events = _events_check(events)
    if description is not None:
        endpoint.description = description.strip()
    if active is not None and active != endpoint.active:
        endpoint.active = active
        if active:
            endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        else:
            endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), DisabledReason.STAFF
    endpoint.full_clean(exclude=["url", "secret"])
    endpoint.save()
    _audit(
        endpoint,
        actor=actor,
        action="webhook.update",
        changes={
            field: [before[field], value]
            for field, value in {
                "url": endpoint.url,
                "events": ", ".join(endpoint.events),
                "description": endpoint.description,
                "active": endpoint.active,
            }.items()
        },
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint, actor: User | None = None) -> str:
    """Replace the signing secret; returns the new one (shown once). Deliveries not yet
    sent are signed with it. Audited (without the secret)."""
    secret = _secret_new()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    endpoint.secret = secret
    _audit(endpoint, actor=actor, action="webhook.secret_rotate")
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    """Delete the endpoint with its delivery log. Audited."""
    _audit(endpoint, actor=actor, action="webhook.delete")
    endpoint.delete()


def _must_be_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        raise ValidationError(
            {"endpoint": [_("The endpoint is disabled; turn it on before sending to it.")]}
        )


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, actor: User | None = None) -> WebhookDelivery:
    """Queue a "ping" event to the endpoint, whatever it subscribed to; sent after
    commit like any delivery. Audited."""
    _must_be_active(endpoint)
    event_id = f"ping:{uuid.uuid4().hex}"
    payload = webhook_envelope(
        event=WebhookEvent.PING,
        event_id=event_id,
        organisation_slug=endpoint.organisation.slug,
        data={"endpoint": endpoint.pk},
        created=timezone.now(),
    )
    (delivery_id,) = deliveries_write(
        organisation_id=endpoint.organisation_id,
        event=WebhookEvent.PING,
        items=[(endpoint.pk, event_id, payload)],
    )
    _audit(endpoint, actor=actor, action="webhook.test_send")
    return WebhookDelivery.objects.get(pk=delivery_id)


@transaction.atomic
def webhook_delivery_resend(
    *, delivery: WebhookDelivery, actor: User | None = None
) -> WebhookDelivery:
    """Send a delivery again (the same event id and body, so receivers can tell): it
    goes back to pending with a fresh retry window from now. One in flight (pending or
    sending) is left as it is. Audited."""
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint__organisation")
        .get(pk=delivery.pk, organisation_id=delivery.organisation_id)
    )
    _must_be_active(delivery.endpoint)
    if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        return delivery
    from communities.webhooks.tasks import webhook_deliver_task

    now = timezone.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    # The retry window (WEBHOOK_RETRY_FOR_HOURS) runs from created_at: a resend opens a
    # new one, and the log lists the delivery with what was sent last.
    delivery.created_at = now
    delivery.claimed_at = None
    delivery.delivered_at = None
    delivery.save(
        update_fields=["status", "next_attempt_at", "created_at", "claimed_at", "delivered_at"]
    )
    enqueue_on_commit(webhook_deliver_task, delivery_id=delivery.pk)
    _audit(
        delivery.endpoint,
        actor=actor,
        action="webhook.resend",
        changes={"delivery": [None, f"{delivery.event} {delivery.event_id}"]},
    )
    return delivery
