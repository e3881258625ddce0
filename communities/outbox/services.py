"""The outbox every app sends email through: write a row in the caller's transaction,
send it after commit, claim it with one conditional UPDATE, re-drive what was left behind."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DEFAULT_DB_ALIAS
from django.db import connection as db_connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from communities.models import EmailSuppression, Organisation
from communities.outbox.choices import EmailStatus
from communities.outbox.emails import email_render
from communities.outbox.models import OutboundEmail
from communities.services.consent import unsubscribe_token
from config.queue import enqueue_on_commit, redrive
from config.sql import insert_rows

logger = logging.getLogger(__name__)

# A claimed row whose worker died is re-sent after this long.
SENDING_STALE_AFTER = timedelta(minutes=5)


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
) -> OutboundEmail | None:
    """Write an email to the outbox in the caller's transaction; send it after commit.

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
        enqueue_on_commit(outbox_send_task, email_id=email.pk)
    return email


def _outbox_claim(*, email_id: int) -> OutboundEmail | None:
    """Claim the row for this send and read it, in one UPDATE … RETURNING; None when
    another sender holds it or it is sent.

    Whoever changes the row owns the send; nobody holds a lock across the SMTP
    conversation. A claim older than SENDING_STALE_AFTER is a sender that died: taken over.
    """
    now = timezone.now()
    qn = db_connection.ops.quote_name
    meta = OutboundEmail._meta

    def col(name: str) -> str:
        return qn(meta.get_field(name).column)

    def stamp(value):
        return meta.get_field("claimed_at").get_db_prep_save(value, db_connection)

    sql = (
        f"UPDATE {qn(meta.db_table)} SET {col('status')} = %s, {col('claimed_at')} = %s, "
        f"{col('attempts')} = {col('attempts')} + 1 "
        f"WHERE {col('id')} = %s AND ({col('status')} = %s "
        f"OR ({col('status')} = %s AND {col('claimed_at')} < %s)) RETURNING *"
    )
    params = [
        EmailStatus.SENDING,
        stamp(now),
        email_id,
        EmailStatus.PENDING,
        EmailStatus.SENDING,
        stamp(now - SENDING_STALE_AFTER),
    ]
    return next(iter(OutboundEmail.objects.raw(sql, params)), None)


def outbox_send(*, email_id: int, connection=None) -> bool:
    """Send one outbox row if nobody has; returns True when this call sent it.

    Raises the SMTP error after recording it, so the task can retry.
    """
    email = _outbox_claim(email_id=email_id)
    if email is None:
        return False
    headers = dict(email.headers)
    # From and Reply-To travel in the row's headers (sender_headers); Django builds those
    # two from its own arguments, so they are handed over as such.
    reply_to = headers.pop("Reply-To", "")
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to_email],
        from_email=headers.pop("From", "") or settings.DEFAULT_FROM_EMAIL,
        reply_to=[reply_to] if reply_to else None,
        headers={
            "Message-ID": f"<outbox-{email.pk}.{email.idempotency_key.replace(':', '.')}@chorus>",
            **headers,
        },
        connection=connection or get_connection(),
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except Exception as exc:
        give_up = email.attempts >= settings.CHORUS["OUTBOX_MAX_ATTEMPTS"]
        OutboundEmail.objects.filter(pk=email_id).update(
            status=EmailStatus.FAILED if give_up else EmailStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    OutboundEmail.objects.filter(pk=email_id).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def outbox_send_many(*, email_ids: list[int]) -> tuple[int, list[int]]:
    """Send several outbox rows over one SMTP connection; returns (sent, failed ids).

    Each row is claimed on its own, so a row another worker holds, or one already
    sent before a crash, is skipped rather than sent twice.
    """
    sent, failed = 0, []
    with get_connection() as connection:
        for email_id in email_ids:
            try:
                sent += outbox_send(email_id=email_id, connection=connection)
            except Exception:
                logger.warning("outbox row %s failed; it will be retried", email_id)
                failed.append(email_id)
    return sent, failed


def outbox_redrive(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Enqueue unsent rows the broker never got (or whose worker died); returns the count."""
    from communities.outbox.tasks import outbox_send_task

    if older_than is None:
        older_than = timedelta(seconds=settings.CHORUS["OUTBOX_REDRIVE_AFTER_SECONDS"])
    now = timezone.now()
    return redrive(
        task=outbox_send_task,
        rows=OutboundEmail.objects.filter(
            Q(status=EmailStatus.PENDING, created_at__lt=now - older_than)
            | Q(status=EmailStatus.SENDING, claimed_at__lt=now - SENDING_STALE_AFTER)
        ),
        order_by="created_at",
        kwarg="email_id",
        limit=limit,
    )
