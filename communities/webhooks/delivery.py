"""Sending a webhook delivery: claim it, sign and POST it, record the attempt, then
deliver, retry later (exponential backoff, full jitter) or give up; disable an endpoint
that has failed for too long and tell the organisation's owners.

Whoever claims the row (one conditional UPDATE) owns that attempt; no lock is held across
the HTTP request. A claim older than WEBHOOK_SENDING_STALE_SECONDS is a worker that died
mid-request, and the row is claimed again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import Role
from communities.models import Organisation, StaffRole
from communities.webhooks.cache import endpoints_forget
from communities.webhooks.choices import AttemptError, DeliveryStatus, DisabledReason
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from communities.webhooks.net import HttpAnswer, webhook_post
from config.queue import enqueue_on_commit, redrive

logger = logging.getLogger(__name__)

USER_AGENT = "Chorus-Webhooks/1"
# A retry's task may arrive a moment before the row's time on the database's clock.
_CLAIM_SLACK = timedelta(seconds=2)
_UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """Chorus-Signature: `t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def delivery_body(*, delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed): the stored envelope as compact UTF-8 JSON."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def backoff_seconds(*, attempts: int) -> float:
    """Full jitter (AWS's "Exponential Backoff and Jitter"): a uniformly random wait up to
    base·2^(attempts−1), capped, so receivers coming back from an outage are not hit by
    every retry at once."""
    ceiling = min(
        settings.WEBHOOK_BACKOFF_CAP_SECONDS,
        settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30),
    )
    return random.uniform(0, ceiling)


def _claim(*, delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take the delivery for one attempt and read it, in one UPDATE … RETURNING; None
    when it is not due, another worker holds it, or it is finished."""
    qn = connection.ops.quote_name
    meta = WebhookDelivery._meta

    def col(name: str) -> str:
        return qn(meta.get_field(name).column)

    def stamp(value: datetime):
        return meta.get_field("claimed_at").get_db_prep_save(value, connection)

    stale = now - timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS)
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {col('status')} = %s, {col('claimed_at')} = %s, "
        f"{col('attempts')} = {col('attempts')} + 1 "
        f"WHERE {col('id')} = %s AND (({col('status')} IN (%s, %s) "
        f"AND {col('next_attempt_at')} <= %s) "
        f"OR ({col('status')} = %s AND {col('claimed_at')} < %s)) RETURNING *"
    )
    params = [
        DeliveryStatus.SENDING,
        stamp(now),
        delivery_id,
        *_UNSENT,
        stamp(now + _CLAIM_SLACK),
        DeliveryStatus.SENDING,
        stamp(stale),
    ]
    return next(iter(WebhookDelivery.objects.raw(sql, params)), None)


def webhook_deliver(*, delivery_id: int) -> str | None:
    """Make one attempt at a due delivery if nobody else is; returns its new status, or
    None when there was nothing to do. Records a WebhookAttempt for every request."""
    now = timezone.now()
    delivery = _claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return None
    endpoint = WebhookEndpoint.objects.filter(
        pk=delivery.endpoint_id, organisation_id=delivery.organisation_id
    ).first()
    if endpoint is None or not endpoint.active:
        answer = HttpAnswer(None, AttemptError.ENDPOINT_INACTIVE, "", 0)
        _attempt_record(delivery=delivery, answer=answer, started=now)
        _delivery_finish(delivery=delivery, status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED
    body = delivery_body(delivery=delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Chorus-Event": delivery.event,
        "Chorus-Delivery": str(delivery.pk),
        "Chorus-Signature": signature_header(
            secret=endpoint.secret, body=body, timestamp=int(time.time())
        ),
    }
    answer = webhook_post(url=endpoint.url, body=body, headers=headers)
    _attempt_record(delivery=delivery, answer=answer, started=now)
    if answer.ok:
        _delivery_finish(delivery=delivery, status=DeliveryStatus.DELIVERED)
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        return DeliveryStatus.DELIVERED
    return _delivery_failed(delivery=delivery, endpoint=endpoint)


def _attempt_record(*, delivery: WebhookDelivery, answer: HttpAnswer, started: datetime) -> None:
    WebhookAttempt.objects.create(
        organisation_id=delivery.organisation_id,
        delivery_id=delivery.pk,
        started_at=started,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        error=str(answer.error),
        response_excerpt=answer.excerpt[:500],
    )


def _delivery_finish(*, delivery: WebhookDelivery, status: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        claimed_at=None,
        delivered_at=timezone.now() if status == DeliveryStatus.DELIVERED else None,
    )


def _delivery_failed(*, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> str:
    """After a failed attempt: mark the endpoint failing, disable it when it has failed
    for too long, and schedule the next attempt or give the delivery up."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    failing_since = (
        WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).get()
    )
    disable_after = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if failing_since is not None and now - failing_since >= disable_after:
        endpoint_disable_failing(endpoint_id=endpoint.pk)
        _delivery_finish(delivery=delivery, status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED
    deadline = delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS)
    if now >= deadline:
        _delivery_finish(delivery=delivery, status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED
    wait = backoff_seconds(attempts=delivery.attempts)
    next_at = min(now + timedelta(seconds=wait), deadline)
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.RETRYING, claimed_at=None, next_attempt_at=next_at
    )
    if updated:
        # (The tasks module imports this one, hence here.)
        from communities.webhooks.tasks import webhook_deliver_task

        # The beat sweep re-drives it too, should this message be lost.
        enqueue_on_commit(
            webhook_deliver_task,
            countdown=max(int((next_at - now).total_seconds() + 0.999), 0),
            delivery_id=delivery.pk,
        )
    return DeliveryStatus.RETRYING


@transaction.atomic
def endpoint_disable_failing(*, endpoint_id: int) -> bool:
    """Disable an endpoint that has failed without a break for too long and email the
    organisation's owners, once; False when it was already disabled."""
    now = timezone.now()
    updated = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).update(
        active=False, disabled_at=now, disabled_reason=DisabledReason.FAILING
    )
    if not updated:
        return False
    endpoint = WebhookEndpoint.objects.select_related("organisation").get(pk=endpoint_id)
    endpoints_forget(organisation_id=endpoint.organisation_id)
    owners_notify_disabled(endpoint=endpoint)
    logger.info("webhook endpoint %s disabled after failing since %s", endpoint_id, now)
    return True


def owners_notify_disabled(*, endpoint: WebhookEndpoint) -> int:
    """Email each owner of the endpoint's organisation, in their language, that it was
    disabled (through the outbox, once per owner per disabling); returns how many."""
    # Here, not at the top: the outbox imports communities.services, whose member events
    # import this module (through the delivery task).
    from communities.outbox.services import outbox_write

    organisation: Organisation = endpoint.organisation
    owners = (
        StaffRole.objects.for_organisation(organisation)
        .filter(role=Role.OWNER, user__is_active=True)
        .select_related("user")
    )
    path = reverse("staff:webhook_detail", args=[organisation.slug, endpoint.pk])
    stamp = int(endpoint.disabled_at.timestamp()) if endpoint.disabled_at else 0
    context = {
        "organisation_name": organisation.name,
        "endpoint_url": endpoint.url,
        "hours": int(settings.WEBHOOK_DISABLE_AFTER_HOURS),
        "link": f"{settings.SITE_URL}{path}",
    }
    sent = 0
    for role in owners:
        language = role.user.locale or organisation.default_language
        subject, text, html = _render(context=context, language=language)
        written = outbox_write(
            idempotency_key=f"webhook-disabled:{endpoint.pk}:{stamp}:user:{role.user_id}",
            organisation=organisation,
            to_email=role.user.email,
            template="webhook_disabled",
            context=context,
            language=language,
            subject=subject,
            body_text=text,
            body_html=html,
            headers={},
        )
        sent += written is not None
    return sent


def _render(*, context: dict, language: str) -> tuple[str, str, str]:
    base = "communities/emails/webhook_disabled"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    return " ".join(subject.strip().splitlines()), text, html


def webhook_redrive(*, limit: int = 500) -> int:
    """Enqueue deliveries that are due but have no message on the way (a lost enqueue, a
    retry whose message expired) or whose worker died mid-send; returns how many."""
    from communities.webhooks.tasks import webhook_deliver_task

    now = timezone.now()
    # A fresh row's own message is surely on its way; leave it a moment.
    grace = now - timedelta(seconds=30)
    stale = now - timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS)
    return redrive(
        task=webhook_deliver_task,
        rows=WebhookDelivery.objects.filter(
            Q(status__in=_UNSENT, next_attempt_at__lt=grace)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
        ),
        order_by="next_attempt_at",
        kwarg="delivery_id",
        limit=limit,
    )
