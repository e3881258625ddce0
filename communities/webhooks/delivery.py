"""Sending webhook deliveries in batches: claim the due ones, sign and POST them, record
every attempt, then deliver, retry later (exponential backoff, full jitter) or give up;
disable an endpoint that has failed for too long (communities.webhooks.disabling).

A batch costs a fixed handful of statements whatever its size: one claim (a conditional
UPDATE … RETURNING; on PostgreSQL over rows locked with SKIP LOCKED, so concurrent
drains take disjoint batches), one read of the batch's endpoints, and one transaction
that inserts every attempt row and moves every delivery on with one UPDATE per outcome.
The requests go out concurrently (WEBHOOK_SEND_CONCURRENCY threads, which touch no
database) over kept-alive connections, one pinned client per endpoint host per batch.

Whoever claims a row owns that attempt; no lock is held across the HTTP requests. A claim
older than WEBHOOK_SENDING_STALE_SECONDS is a worker that died mid-request, and the row is
claimed again; the results are written only where the row still carries our claim.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections import defaultdict
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, Q, Value, When
from django.utils import timezone

from communities.webhooks.choices import AttemptError, DeliveryStatus
from communities.webhooks.disabling import endpoint_disable_failing, owners_notify_disabled
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from communities.webhooks.net import HttpAnswer, WebhookSession
from config.queue import enqueue_on_commit, redrive
from config.sql import insert_rows

__all__ = [
    "backoff_seconds",
    "delivery_body",
    "endpoint_disable_failing",
    "owners_notify_disabled",
    "signature_header",
    "webhook_deliver",
    "webhook_drain",
    "webhook_redrive",
]

logger = logging.getLogger(__name__)

USER_AGENT = "Chorus-Webhooks/1"
# A retry's task may arrive a moment before the row's time on the database's clock.
_CLAIM_SLACK = timedelta(seconds=2)
_UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# Attempt rows per INSERT: well inside both databases' limits on statement parameters.
_CHUNK = 500


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


# --- claiming ---------------------------------------------------------------------------------


def _claim(
    *, now: datetime, limit: int, first: int | None = None, only: int | None = None
) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries for one attempt each and read them, in one
    UPDATE … RETURNING: unsent ones whose time has come, and sends abandoned by a dead
    worker. `first` is also taken when due within _CLAIM_SLACK (its own task is here);
    `only` takes that one delivery or nothing."""
    qn = connection.ops.quote_name
    meta = WebhookDelivery._meta
    table = qn(meta.db_table)

    def col(name: str) -> str:
        return qn(meta.get_field(name).column)

    def stamp(value: datetime):
        return meta.get_field("claimed_at").get_db_prep_save(value, connection)

    stale = now - timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS)
    unsent = f"{col('status')} IN (%s, %s)"
    early = f"({col('id')} = %s AND {unsent} AND {col('next_attempt_at')} <= %s)"
    early_params = [first if only is None else only, *_UNSENT, stamp(now + _CLAIM_SLACK)]
    due = (
        f"({unsent} AND {col('next_attempt_at')} <= %s) "
        f"OR ({col('status')} = %s AND {col('claimed_at')} < %s)"
    )
    due_params = [*_UNSENT, stamp(now), DeliveryStatus.SENDING, stamp(stale)]
    if only is not None:
        where = f"{col('id')} = %s AND ({early} OR {due})"
        where_params = [only, *early_params, *due_params]
    else:
        if first is not None:
            due, due_params = f"{early} OR {due}", [*early_params, *due_params]
        # SKIP LOCKED: a concurrent drain's rows are passed over, not waited for, so two
        # drains take disjoint batches. (SQLite runs one writer at a time: the UPDATE is
        # the claim on its own.)
        lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
        where = (
            f"{col('id')} IN (SELECT {col('id')} FROM {table} WHERE {due} "
            f"ORDER BY {col('next_attempt_at')} LIMIT %s{lock})"
        )
        where_params = [*due_params, limit]
    sql = (
        f"UPDATE {table} SET {col('status')} = %s, {col('claimed_at')} = %s, "
        f"{col('attempts')} = {col('attempts')} + 1 WHERE {where} RETURNING *"
    )
    params = [DeliveryStatus.SENDING, stamp(now), *where_params]
    return list(WebhookDelivery.objects.raw(sql, params))


def _endpoints(deliveries: list[WebhookDelivery]) -> dict[int, WebhookEndpoint]:
    """The batch's endpoints by id, in one query; an endpoint is only used for the
    deliveries of its own organisation."""
    ids = {d.endpoint_id for d in deliveries}
    found = WebhookEndpoint.objects.filter(pk__in=ids).only(
        "id", "organisation_id", "url", "secret", "active", "failing_since"
    )
    return {e.pk: e for e in found}


# --- sending ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sent:
    delivery: WebhookDelivery
    endpoint: WebhookEndpoint | None
    answer: HttpAnswer
    started: datetime


def _post_one(
    session: WebhookSession, delivery: WebhookDelivery, endpoint: WebhookEndpoint
) -> _Sent:
    started = timezone.now()
    body = delivery_body(delivery=delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Chorus-Event": delivery.event,
        "Chorus-Delivery": str(delivery.pk),
        # Signed as it leaves: a receiver's replay window runs from the send.
        "Chorus-Signature": signature_header(
            secret=endpoint.secret, body=body, timestamp=int(time.time())
        ),
    }
    answer = session.post(url=endpoint.url, body=body, headers=headers)
    return _Sent(delivery, endpoint, answer, started)


def _send_all(
    deliveries: list[WebhookDelivery],
    endpoints: dict[int, WebhookEndpoint],
    *,
    now: datetime,
    pool: Executor | None,
) -> list[_Sent]:
    """POST every delivery whose endpoint is active (concurrently through `pool`, when
    there are several); the others are not sent, and are answered ENDPOINT_INACTIVE."""
    sent: list[_Sent] = []
    jobs: list[tuple[WebhookDelivery, WebhookEndpoint]] = []
    for delivery in deliveries:
        endpoint = endpoints.get(delivery.endpoint_id)
        if (
            endpoint is None
            or not endpoint.active
            or endpoint.organisation_id != delivery.organisation_id
        ):
            answer = HttpAnswer(None, AttemptError.ENDPOINT_INACTIVE, "", 0)
            sent.append(_Sent(delivery, None, answer, now))
        else:
            jobs.append((delivery, endpoint))
    connections = settings.WEBHOOK_SEND_CONCURRENCY
    with WebhookSession(connections=connections) as session:
        if pool is None or len(jobs) < 2:
            sent += [_post_one(session, d, e) for d, e in jobs]
        else:
            sent += pool.map(lambda job: _post_one(session, *job), jobs)
    return sent


# --- recording --------------------------------------------------------------------------------


def _outcomes(sent: list[_Sent], *, now: datetime) -> tuple[dict[int, str], dict[int, datetime]]:
    """Each delivery's new status, and the next attempt's time of those to retry; marks
    endpoints failing, clears those that answered, and disables those failing too long.
    Runs inside the batch's transaction."""
    status: dict[int, str] = {}
    retry_at: dict[int, datetime] = {}
    by_endpoint: dict[int, list[_Sent]] = defaultdict(list)
    for item in sent:
        if item.endpoint is None:
            status[item.delivery.pk] = DeliveryStatus.FAILED
        elif item.answer.ok:
            status[item.delivery.pk] = DeliveryStatus.DELIVERED
        else:
            by_endpoint[item.endpoint.pk].append(item)
    endpoints = {item.endpoint.pk: item.endpoint for item in sent if item.endpoint is not None}
    # One success in the batch breaks the endpoint's run of failures.
    answered = {i.endpoint.pk for i in sent if i.endpoint is not None and i.answer.ok}
    healthy = [pk for pk in answered if endpoints[pk].failing_since is not None]
    failing = [pk for pk in by_endpoint if pk not in answered]
    if healthy:
        WebhookEndpoint.objects.filter(pk__in=healthy, failing_since__isnull=False).update(
            failing_since=None
        )
    starting = [pk for pk in failing if endpoints[pk].failing_since is None]
    if starting:
        WebhookEndpoint.objects.filter(pk__in=starting, failing_since__isnull=True).update(
            failing_since=now
        )
    disabled = _disable_failing_too_long(
        [pk for pk in failing if endpoints[pk].failing_since is not None], now=now
    )
    retry_window = timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS)
    for endpoint_id, items in by_endpoint.items():
        for item in items:
            delivery = item.delivery
            deadline = delivery.created_at + retry_window
            if endpoint_id in disabled or now >= deadline:
                status[delivery.pk] = DeliveryStatus.FAILED
                continue
            wait = backoff_seconds(attempts=delivery.attempts)
            status[delivery.pk] = DeliveryStatus.RETRYING
            retry_at[delivery.pk] = min(now + timedelta(seconds=wait), deadline)
    return status, retry_at


def _disable_failing_too_long(candidates: list[int], *, now: datetime) -> set[int]:
    """Disable (and email about) the endpoints among `candidates` failing without a break
    for WEBHOOK_DISABLE_AFTER_HOURS, re-read here (another worker's success may have just
    cleared them); their ids."""
    if not candidates:
        return set()
    since = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    overdue = WebhookEndpoint.objects.filter(pk__in=candidates, failing_since__lte=since)
    disabled = set(overdue.values_list("pk", flat=True))
    for endpoint_id in disabled:
        endpoint_disable_failing(endpoint_id=endpoint_id)
    return disabled


def _attempts_insert(sent: list[_Sent]) -> None:
    rows = [
        {
            "organisation": item.delivery.organisation_id,
            "delivery": item.delivery.pk,
            "started_at": item.started,
            "status_code": item.answer.status_code,
            "duration_ms": item.answer.duration_ms,
            "error": str(item.answer.error),
            "response_excerpt": item.answer.excerpt[:500],
        }
        for item in sent
    ]
    for start in range(0, len(rows), _CHUNK):
        insert_rows(WebhookAttempt, rows[start : start + _CHUNK])


def _deliveries_update(
    *, claimed_at: datetime, status: dict[int, str], retry_at: dict[int, datetime]
) -> None:
    """One UPDATE per outcome, each only where the row still carries this batch's claim
    (a row taken over from a worker thought dead is the new claimer's to write)."""
    mine = WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at=claimed_at)
    grouped: dict[str, list[int]] = defaultdict(list)
    for pk, new in status.items():
        grouped[new].append(pk)
    if grouped[DeliveryStatus.DELIVERED]:
        mine.filter(pk__in=grouped[DeliveryStatus.DELIVERED]).update(
            status=DeliveryStatus.DELIVERED, claimed_at=None, delivered_at=timezone.now()
        )
    if grouped[DeliveryStatus.FAILED]:
        mine.filter(pk__in=grouped[DeliveryStatus.FAILED]).update(
            status=DeliveryStatus.FAILED, claimed_at=None, delivered_at=None
        )
    if retry_at:
        mine.filter(pk__in=list(retry_at)).update(
            status=DeliveryStatus.RETRYING,
            claimed_at=None,
            next_attempt_at=Case(
                *(When(pk=pk, then=Value(at)) for pk, at in retry_at.items()),
                output_field=DateTimeField(),
            ),
        )


def _retries_enqueue(retry_at: dict[int, datetime], *, now: datetime) -> None:
    """A task for when the retries fall due, one per second that has any: each drains
    whatever is due by then. (The beat sweep re-drives them too, should one be lost.)"""
    # (The tasks module imports this one, hence here.)
    from communities.webhooks.tasks import webhook_deliver_task

    by_second: dict[int, int] = {}
    for pk, at in sorted(retry_at.items(), key=lambda kv: kv[1], reverse=True):
        by_second[max(int((at - now).total_seconds() + 0.999), 0)] = pk
    for countdown, pk in sorted(by_second.items()):
        enqueue_on_commit(webhook_deliver_task, countdown=countdown, delivery_id=pk)


def _batch_run(
    deliveries: list[WebhookDelivery], *, claimed_at: datetime, pool: Executor | None
) -> dict[int, str]:
    """Send a claimed batch and write what happened; each delivery's new status."""
    sent = _send_all(deliveries, _endpoints(deliveries), now=claimed_at, pool=pool)
    now = timezone.now()
    with transaction.atomic():
        _attempts_insert(sent)
        status, retry_at = _outcomes(sent, now=now)
        _deliveries_update(claimed_at=claimed_at, status=status, retry_at=retry_at)
        if retry_at:
            _retries_enqueue(retry_at, now=now)
    return status


# --- the entry points -------------------------------------------------------------------------


def webhook_deliver(*, delivery_id: int) -> str | None:
    """Make one attempt at this one delivery if it is due and nobody else is sending it;
    returns its new status, or None when there was nothing to do."""
    now = timezone.now()
    claimed = _claim(now=now, limit=1, only=delivery_id)
    if not claimed:
        return None
    return _batch_run(claimed, claimed_at=now, pool=None)[delivery_id]


def webhook_drain(*, first: int | None = None, batch_size: int | None = None) -> int:
    """Send due deliveries a batch at a time until a batch comes back short (`first` is
    taken even a moment early: its own task is here); returns how many attempts were made.

    Every delivery's task calls this, so a burst's first task sends the lot and the rest
    find nothing left. A drain that runs past WEBHOOK_DRAIN_MAX_SECONDS hands over to a
    fresh task, so a worker's task never runs unbounded."""
    size = batch_size or _batch_size()
    deadline = time.monotonic() + settings.WEBHOOK_DRAIN_MAX_SECONDS
    attempts = 0
    pool: ThreadPoolExecutor | None = None
    try:
        while True:
            now = timezone.now()
            claimed = _claim(now=now, limit=size, first=first)
            first = None
            if not claimed:
                return attempts
            if pool is None and len(claimed) > 1 and settings.WEBHOOK_SEND_CONCURRENCY > 1:
                pool = ThreadPoolExecutor(
                    max_workers=settings.WEBHOOK_SEND_CONCURRENCY, thread_name_prefix="webhook"
                )
            _batch_run(claimed, claimed_at=now, pool=pool)
            attempts += len(claimed)
            if len(claimed) < size:
                # All that was due is sent; what fell due since has a task of its own.
                return attempts
            if time.monotonic() > deadline:
                from communities.webhooks.tasks import webhook_deliver_task

                enqueue_on_commit(webhook_deliver_task, delivery_id=None)
                return attempts
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _batch_size() -> int:
    """WEBHOOK_SEND_BATCH, but never so many that a batch of receivers all timing out
    would outlive its claim (WEBHOOK_SENDING_STALE_SECONDS) and be sent twice."""
    rounds = settings.WEBHOOK_SENDING_STALE_SECONDS * 0.8 / settings.WEBHOOK_TIMEOUT_SECONDS
    safe = int(rounds) * max(settings.WEBHOOK_SEND_CONCURRENCY, 1)
    return max(1, min(settings.WEBHOOK_SEND_BATCH, safe))


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
