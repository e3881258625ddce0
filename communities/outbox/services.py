"""The outbox every app sends email through: write a row in the caller's transaction,
send it after commit (communities.outbox.sending claims and sends it, in batches over one
connection), re-drive what was left behind."""

from __future__ import annotations

import logging
import math
import threading
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db import connection as db_connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from communities.models import EmailSuppression, Organisation
from communities.outbox.choices import EmailStatus
from communities.outbox.emails import email_render
from communities.outbox.models import OutboundEmail
from communities.outbox.sending import (  # noqa: F401 - the outbox's public API
    outbox_drain,
    outbox_send,
    outbox_send_many,
    sending_stale_after,
    unsent_sql,
)
from communities.services.consent import unsubscribe_token
from config.breaker import broker_breaker
from config.queue import enqueue_on_commit
from config.sql import insert_rows

logger = logging.getLogger(__name__)


def unsubscribe_url(*, organisation_id: int, email: str) -> str:
    """The one-click unsubscribe link for an address (stops the organisation's mail). Its
    token is opaque: the URL, which ends up in logs, names no address."""
    return settings.SITE_URL + reverse(
        "surveys:unsubscribe",
        args=[unsubscribe_token(organisation_id=organisation_id, email=email)],
    )


def unsubscribe_headers(*, url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: a mail client POSTs to the link, no page in between."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def sender_headers(*, organisation: Organisation | None) -> dict[str, str]:
    """From and Reply-To for an email on the organisation's behalf.

    From keeps the site's own address (the one SPF and DKIM vouch for) with the
    organisation's sender name in front; Reply-To is the organisation's reply address, so
    an answer reaches people rather than the site's no-reply box. Either is left out when
    the organisation has not set it. The send step turns them into the message's From and
    Reply-To (`outbox_send`).
    """
    headers: dict[str, str] = {}
    if organisation is None:
        return headers
    # A header cannot carry a line break (Django refuses it); the settings form should
    # never let one through, but a name pasted into the admin might.
    name = " ".join((organisation.sender_name or "").split())
    if name:
        address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        local, _at, domain = address.rpartition("@")
        headers["From"] = str(Address(display_name=name, username=local, domain=domain))
    if organisation.reply_to_email:
        headers["Reply-To"] = organisation.reply_to_email
    return headers


def outbox_enqueue(
    *,
    organisation: Organisation | None,
    to_email: str,
    template: str,
    context: dict,
    language: str,
    idempotency_key: str,
    headers: dict | None = None,
    enqueue: bool = True,
    new_key: bool = False,
    unless_suppressed: bool = False,
    send_after: datetime | None = None,
) -> OutboundEmail | None:
    """Write an email to the outbox in the caller's transaction; send it after commit
    (not before `send_after`, when given).

    With enqueue=False the caller sends it (a batch sends many over one connection);
    the re-drive still picks it up if that never happens. With new_key=True the caller
    has just created what the key names (a response's follow-up), so no email can hold
    the key yet and it is not looked up before rendering. With unless_suppressed=True the
    row is written only if the address is not on the organisation's suppression list,
    checked in the INSERT itself (None when it is).
    """
    if not new_key:
        existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    subject, text, html = email_render(template=template, context=context, language=language)
    return outbox_write(
        enqueue=enqueue,
        organisation=organisation,
        to_email=to_email,
        template=template,
        context=context,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=headers or {},
        idempotency_key=idempotency_key,
        unless_suppressed=unless_suppressed,
        send_after=send_after,
    )


def outbox_write(
    *,
    idempotency_key: str,
    enqueue: bool = True,
    unless_suppressed: bool = False,
    **fields: Any,
) -> OutboundEmail | None:
    """Insert an already-rendered email once per key and send it after commit.

    One INSERT … ON CONFLICT DO NOTHING: no savepoint, and a key written before (a
    retried caller) returns that email, sent or not, without a second send. With
    unless_suppressed=True nothing is written, and None returned, for an address on the
    organisation's suppression list (checked in the same statement).
    """
    from communities.outbox.tasks import outbox_send_task

    email = OutboundEmail(idempotency_key=idempotency_key, **fields)
    row = {
        field.name: getattr(email, field.attname)
        for field in OutboundEmail._meta.concrete_fields
        if not field.primary_key
    }
    unless = None
    if unless_suppressed and email.organisation_id is not None:
        unless = (
            EmailSuppression,
            {"organisation": email.organisation_id, "email": email.to_email.lower()},
        )
    inserted = insert_rows(
        OutboundEmail, [row], conflict=("idempotency_key",), returning=("id",), unless=unless
    )
    if not inserted:
        # Written before under this key, or (with `unless`) an address that asked for none.
        return OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
    email.pk = inserted[0][0]
    email._state.adding = False
    email._state.db = DEFAULT_DB_ALIAS
    if enqueue:
        wait = (email.send_after - timezone.now()).total_seconds() if email.send_after else 0
        if wait > 0:
            # The countdown only saves a sweep's wait; a row is never sent before its time.
            enqueue_on_commit(outbox_send_task, countdown=math.ceil(wait), email_id=email.pk)
        else:
            _send_after_commit(email.pk)
    return email


_written = threading.local()


def _send_after_commit(email_id: int) -> None:
    """Send the row once the caller's transaction commits.

    Rows written in one transaction (a burst of follow-ups) leave in tasks of
    OUTBOX_BATCH_SIZE rows, not one task each: thousands of tasks that find their row
    already sent by a batch would queue ahead of everything else, a sweep's take-over of
    a dead worker's rows included. Every row registers the same flush; the first to run
    publishes them all. A transaction rolled back never flushes: its ids are dropped when
    the next transaction writes its first row (no flush of ours is pending then). A row of
    a savepoint rolled back inside a committed transaction is published and its task finds
    nothing to send.
    """
    from communities.outbox.tasks import outbox_send_task

    if not db_connection.in_atomic_block:
        enqueue_on_commit(outbox_send_task, email_id=email_id)
        return
    pending = any(hook[1] is _flush_written for hook in db_connection.run_on_commit)
    if not pending or not hasattr(_written, "ids"):
        _written.ids = []
    _written.ids.append(email_id)
    transaction.on_commit(_flush_written)


def _flush_written() -> None:
    from communities.outbox.tasks import outbox_send_many_task, outbox_send_task

    ids, _written.ids = getattr(_written, "ids", []), []
    if len(ids) == 1:
        # One row: its task also drains whatever else is waiting.
        _publish(outbox_send_task, email_id=ids[0])
        return
    size = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(ids), size):
        # The first task to run sends the whole burst, batch after batch over one
        # connection (keep_going); the others find their rows sent.
        _publish(outbox_send_many_task, email_ids=ids[start : start + size], keep_going=True)


def _publish(task, **kwargs: Any) -> None:
    """Publish now (after the commit), as config.queue.enqueue_on_commit does: a broker
    outage is logged and left to the sweep, and the breaker skips a broker that is down."""
    guarded = not task.app.conf.task_always_eager
    if guarded and not broker_breaker.allows():
        logger.info("Broker down: %s is left to the sweep", task.name)
        return
    try:
        task.apply_async(kwargs=kwargs)
    except Exception:  # noqa: BLE001 - any broker failure; the sweep recovers it
        if guarded:
            broker_breaker.failed()
        logger.warning("Could not enqueue %s; the sweep will retry", task.name, exc_info=True)
    else:
        if guarded:
            broker_breaker.succeeded()


def outbox_redrive(
    *,
    older_than: timedelta | None = None,
    stale_after: timedelta | None = None,
    limit: int = 500,
) -> int:
    """Enqueue rows left behind: pending and due for longer than `older_than` (the broker
    never got their task, or a retry was lost) and claimed longer ago than `stale_after`
    (their worker died). Sent in batches of OUTBOX_BATCH_SIZE; returns the row count.

    Defaults: OUTBOX_REDRIVE_AFTER_SECONDS and OUTBOX_SENDING_STALE_SECONDS.
    """
    from communities.outbox.tasks import outbox_send_many_task

    if older_than is None:
        older_than = timedelta(seconds=settings.CHORUS["OUTBOX_REDRIVE_AFTER_SECONDS"])
    if stale_after is None:
        stale_after = sending_stale_after()
    now = timezone.now()
    ids = list(
        OutboundEmail.objects.filter(
            # The index of unsent rows, in its own words, or SQLite reads every row.
            RawSQL(unsent_sql(), (), output_field=BooleanField()),
            Q(status=EmailStatus.PENDING, created_at__lt=now - older_than)
            & (Q(send_after__isnull=True) | Q(send_after__lte=now))
            | Q(status=EmailStatus.SENDING, claimed_at__lt=now - stale_after),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    size = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(ids), size):
        outbox_send_many_task.delay(
            email_ids=ids[start : start + size], stale_seconds=stale_after.total_seconds()
        )
    return len(ids)
