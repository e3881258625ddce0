"""Sending the outbox: claim rows, send them over one SMTP connection, and mark each row
sent the moment the server has accepted it.

A claim is one UPDATE … RETURNING that moves rows from "pending" to "sending" (PostgreSQL
picks them with SELECT … FOR UPDATE SKIP LOCKED, so two workers never wait on, or take,
each other's rows; SQLite runs one writing statement at a time, so the same UPDATE, with
its conditions re-checked in it, is as safe there). Nobody holds a lock or a transaction
across the SMTP conversation: whoever changed the row owns the send. A claim older than
OUTBOX_SENDING_STALE_SECONDS is a sender that died, and is taken over. Over SMTP each
message is written straight from its row (communities.outbox.mime) and given to smtplib
on the pass's one connection; any other backend gets Django's message object.

Exactly once, but for one window: between the server's 250 for a message and the UPDATE
that marks its row sent. A worker killed there leaves a row that was delivered but still
says "sending", and the sweep sends it again (same Message-ID, so receivers can tell).
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection as db_connection
from django.db import connections as db_connections
from django.db.models import F
from django.utils import timezone

from communities.models import EmailSuppression
from communities.outbox.choices import EmailStatus
from communities.outbox.mime import envelope_address, message_bytes
from communities.outbox.models import OutboundEmail

logger = logging.getLogger(__name__)

# The header that names the outbox row in every email (inbound mail reads it back from a
# bounce or a reply to find the row).
ROW_HEADER = "X-Chorus-Outbox"


def sending_stale_after() -> timedelta:
    """How old a claim is before its sender counts as dead (OUTBOX_SENDING_STALE_SECONDS)."""
    return timedelta(seconds=settings.OUTBOX_SENDING_STALE_SECONDS)


@dataclass
class Batch:
    """What one pass over claimed rows did, by row id."""

    sent: list[int] = field(default_factory=list)
    suppressed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Claimed but not tried (after a broken connection, or the claim grew old): back to
    # pending, their attempt not counted.
    released: list[int] = field(default_factory=list)
    error: Exception | None = None


# --- claiming ------------------------------------------------------------------------------


def _columns() -> tuple[str, dict[str, str]]:
    qn = db_connection.ops.quote_name
    meta = OutboundEmail._meta
    names = ("id", "status", "claimed_at", "attempts", "send_after", "created_at")
    return qn(meta.db_table), {n: qn(meta.get_field(n).column) for n in names}


def unsent_sql() -> str:
    """_unsent for a query of the outbox alone (the ORM's: RawSQL)."""
    return _unsent(_columns()[1])


def _unsent(c: dict[str, str]) -> str:
    """The condition of the index of unsent rows (outbox_unsent), as its definition writes
    it, constants and all. SQLite reads a partial index only for a query that states the
    index's condition in the same words: it deduces nothing from `status = 'pending'`,
    nor from a bound parameter, and without it every claim read the whole outbox (52 ms a
    claim with 200,000 sent rows). The values are the enum's own, never anyone's input."""
    values = (EmailStatus.PENDING, EmailStatus.SENDING)
    assert all(v.isalpha() for v in values)
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{c['status']} IN ({listed})"


def _stamp(value: datetime):
    return OutboundEmail._meta.get_field("claimed_at").get_db_prep_save(value, db_connection)


def _suppressed_sql(table: str) -> str:
    """Whether the outbox row being updated is to an address its organisation suppresses
    (compared lower-cased on both sides: an address typed "Ana@…" once is the same person).
    A row of no organisation never is."""
    qn = db_connection.ops.quote_name
    meta = EmailSuppression._meta
    org, email = (qn(meta.get_field(n).column) for n in ("organisation", "email"))
    row_org = qn(OutboundEmail._meta.get_field("organisation").column)
    row_to = qn(OutboundEmail._meta.get_field("to_email").column)
    return (
        f"EXISTS (SELECT 1 FROM {qn(meta.db_table)} s WHERE s.{org} = {table}.{row_org} "
        f"AND LOWER(s.{email}) = LOWER({table}.{row_to}))"
    )


def _set_claimed(table: str, c: dict[str, str], now: datetime) -> tuple[str, list]:
    """The SET of a claim. A row whose address is on its organisation's suppression list
    now is claimed as suppressed, its attempt not counted: an address that unsubscribed or
    bounced after its email was written gets nothing, and finding out costs no statement
    of its own."""
    suppressed = _suppressed_sql(table)
    sql = (
        f"{c['status']} = CASE WHEN {suppressed} THEN %s ELSE %s END, {c['claimed_at']} = %s, "
        f"{c['attempts']} = {table}.{c['attempts']} + CASE WHEN {suppressed} THEN 0 ELSE 1 END"
    )
    return sql, [EmailStatus.SUPPRESSED, EmailStatus.SENDING, _stamp(now)]


def _claim(where: str, params: list, *, limit: int, now: datetime) -> list[OutboundEmail]:
    """Claim up to `limit` rows matching `where` (oldest first), in one statement."""
    table, c = _columns()
    set_sql, set_params = _set_claimed(table, c, now)
    pick = f"SELECT {c['id']} FROM {table} WHERE {where} ORDER BY {c['created_at']} LIMIT %s"
    if db_connection.vendor == "postgresql":
        sql = (
            f"WITH picked AS ({pick} FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} SET {set_sql} FROM picked "
            f"WHERE {table}.{c['id']} = picked.{c['id']} RETURNING {table}.*"
        )
        all_params = [*params, limit, *set_params]
    else:
        # One writer at a time: the conditions, re-checked in the same statement that
        # changes the rows, cannot go stale between the pick and the update.
        sql = f"UPDATE {table} SET {set_sql} WHERE {c['id']} IN ({pick}) AND ({where}) RETURNING *"
        all_params = [*set_params, *params, limit, *params]
    rows = list(OutboundEmail.objects.raw(sql, all_params))
    return sorted(rows, key=lambda row: (row.created_at, row.pk))


def _claim_named_first(
    named: tuple[str, list], waiting: tuple[str, list], ids: list[int], *, limit: int, now: datetime
) -> list[OutboundEmail]:
    """Claim the `named` rows (`ids`, when they match) and then the oldest `waiting` rows,
    up to `limit` in all, in one statement; returned named first, each group oldest first.

    On PostgreSQL each group is picked as _claim picks it (the waiting ones in the unsent
    index's order, so a claim reads `limit` rows however long the queue), and the waiting
    ones fill what the named ones leave of `limit`.
    """
    table, c = _columns()
    set_sql, set_params = _set_claimed(table, c, now)
    marks = ", ".join(["%s"] * len(ids))
    if db_connection.vendor == "postgresql":
        sql = (
            f"WITH n AS (SELECT {c['id']} FROM {table} WHERE {named[0]} FOR UPDATE SKIP LOCKED), "
            f"w AS (SELECT {c['id']}, {c['created_at']} FROM {table} WHERE ({waiting[0]}) "
            f"AND {c['id']} NOT IN ({marks}) ORDER BY {c['created_at']} LIMIT %s "
            "FOR UPDATE SKIP LOCKED), "
            f"picked AS (SELECT {c['id']} FROM n UNION ALL (SELECT {c['id']} FROM w "
            f"ORDER BY {c['created_at']} LIMIT GREATEST(%s - (SELECT count(*) FROM n), 0))) "
            f"UPDATE {table} SET {set_sql} FROM picked "
            f"WHERE {table}.{c['id']} = picked.{c['id']} RETURNING {table}.*"
        )
        all_params = [*named[1], *waiting[1], *ids, limit, limit, *set_params]
    else:
        # Each group picked by its own index (the named by id, the waiting by the unsent
        # rows'), as two queries: SQLite reads an OR of the two with a scan of the table.
        # A named row that is waiting too is picked as named, once.
        where = f"({named[0]}) OR ({waiting[0]})"
        pick = (
            f"SELECT {c['id']} FROM (SELECT {c['id']}, 0 AS k, {c['created_at']} FROM {table} "
            f"WHERE {named[0]} UNION ALL SELECT * FROM (SELECT {c['id']}, 1, {c['created_at']} "
            f"FROM {table} WHERE ({waiting[0]}) AND {c['id']} NOT IN ({marks}) "
            f"ORDER BY {c['created_at']} LIMIT %s)) ORDER BY k, {c['created_at']} LIMIT %s"
        )
        sql = f"UPDATE {table} SET {set_sql} WHERE {c['id']} IN ({pick}) AND ({where}) RETURNING *"
        all_params = [*set_params, *named[1], *waiting[1], *ids, limit, limit]
        all_params += [*named[1], *waiting[1]]
    first = set(ids)
    rows = list(OutboundEmail.objects.raw(sql, all_params))
    return sorted(rows, key=lambda row: (row.pk not in first, row.created_at, row.pk))


def outbox_claim(
    *,
    email_ids: Sequence[int] = (),
    more: int = 0,
    now: datetime | None = None,
    stale_after: timedelta | None = None,
) -> list[OutboundEmail]:
    """Claim the named rows (each only when unsent and due, or abandoned by a dead sender)
    and other rows waiting for their first attempt, oldest first, up to `more` beyond the
    named ones in all (a named row that cannot be claimed leaves its place to a waiting
    one) — in one statement.

    Returns the claimed rows, the named ones first. Rows another sender holds are skipped.
    """
    now = now or timezone.now()
    _table, c = _columns()
    due = f"({c['send_after']} IS NULL OR {c['send_after']} <= %s)"
    # Only rows never tried: one that failed waits for its own retry's back-off.
    waiting = (
        f"{_unsent(c)} AND {c['status']} = %s AND {c['attempts']} = 0 AND {due}",
        [EmailStatus.PENDING, _stamp(now)],
    )
    ids = list(dict.fromkeys(email_ids))
    if not ids:
        return _claim(*waiting, limit=more, now=now) if more > 0 else []
    named = (
        f"{c['id']} IN ({', '.join(['%s'] * len(ids))}) AND "
        f"(({c['status']} = %s AND {due}) OR ({c['status']} = %s AND {c['claimed_at']} < %s))",
        [
            *ids,
            EmailStatus.PENDING,
            _stamp(now),
            EmailStatus.SENDING,
            _stamp(now - (sending_stale_after() if stale_after is None else stale_after)),
        ],
    )
    if more <= 0:
        return _claim(*named, limit=len(ids), now=now)
    return _claim_named_first(named, waiting, ids, limit=len(ids) + more, now=now)


# --- sending -------------------------------------------------------------------------------


def message_id_of(email: OutboundEmail) -> str:
    """The row's Message-ID (rows written before it was stored get the older form)."""
    return email.message_id or (
        f"<outbox-{email.pk}.{email.idempotency_key.replace(':', '.')}@chorus>"
    )


def _message(email: OutboundEmail, connection) -> EmailMultiAlternatives:
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
        headers={"Message-ID": message_id_of(email), ROW_HEADER: str(email.pk), **headers},
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def _deliver(email: OutboundEmail, connection) -> None:
    """Hand one row's message to the connection.

    Over an open SMTP connection the message is written straight from the row
    (communities.outbox.mime: a tenth of the CPU of Django's MIME tree) and given to
    smtplib; any other backend (locmem in tests, console, a provider's) gets Django's
    message, as before.
    """
    smtp = getattr(connection, "connection", None) if type(connection) is SMTPBackend else None
    if smtp is None:
        _message(email, connection).send()
        return
    headers = dict(email.headers)
    from_email = headers.pop("From", "") or settings.DEFAULT_FROM_EMAIL
    reply_to = headers.pop("Reply-To", "")
    first = {"Message-ID": message_id_of(email), ROW_HEADER: str(email.pk)}
    if reply_to:
        first["Reply-To"] = reply_to
    data = message_bytes(
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        from_email=from_email,
        to_email=email.to_email,
        headers={**first, **headers},
    )
    smtp.sendmail(envelope_address(from_email), [envelope_address(email.to_email)], data)


def _release(ids: list[int]) -> None:
    """Hand claimed rows that were never tried back to pending; their attempt is undone."""
    if ids:
        OutboundEmail.objects.filter(pk__in=ids, status=EmailStatus.SENDING).update(
            status=EmailStatus.PENDING, claimed_at=None, attempts=F("attempts") - 1
        )


def _failed(email: OutboundEmail, exc: Exception) -> None:
    give_up = email.attempts >= settings.CHORUS["OUTBOX_MAX_ATTEMPTS"]
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED if give_up else EmailStatus.PENDING,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )


class _Marker:
    """Marks rows sent as their messages are accepted.

    In a worker (autocommit, PostgreSQL) a thread of its own marks every row after the
    first, so the database's commit — a disk flush, slower than an SMTP conversation on
    loopback — overlaps the next message instead of adding to it; each of its UPDATEs marks
    everything accepted since the last, so it never falls behind. A row is still marked as
    soon as the database can take it, and one whose mark never lands (the worker killed)
    says "sending" and is sent again: the accept-to-update window, a few milliseconds wide.
    The first row is marked inline: a pass of one message (a lone follow-up, the common
    case) has nothing to overlap, and a thread would cost it a database connection of its
    own. Inside a transaction (a caller's atomic block, the tests) rows are marked inline,
    in that transaction.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._threaded = db_connection.vendor == "postgresql" and db_connection.get_autocommit()
        self._marked = 0

    def sent(self, email: OutboundEmail) -> None:
        self._marked += 1
        if not self._threaded or self._marked == 1:
            _mark_sent([email])
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-marker", daemon=True)
            self._thread.start()
        self._queue.put(email)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            finished = False
            while not finished:
                emails = [self._queue.get()]
                while not self._queue.empty():
                    emails.append(self._queue.get())
                finished = None in emails
                try:
                    _mark_sent([e for e in emails if e is not None])
                except Exception:  # noqa: BLE001 - the rows stay "sending"; the sweep resends
                    logger.exception("could not mark outbox rows sent")
        finally:
            db_connections.close_all()


def _mark_sent(emails: list[OutboundEmail]) -> None:
    if not emails:
        return
    now = timezone.now()
    stored = [e.pk for e in emails if e.message_id]
    OutboundEmail.objects.filter(pk__in=stored).update(
        status=EmailStatus.SENT, sent_at=now, last_error=""
    )
    for email in emails:
        if not email.message_id:
            OutboundEmail.objects.filter(pk=email.pk).update(
                status=EmailStatus.SENT, sent_at=now, last_error="", message_id=message_id_of(email)
            )


def outbox_send_claimed(
    *,
    emails: Sequence[OutboundEmail],
    connection=None,
    refill: Callable[[], list[OutboundEmail]] | None = None,
) -> Batch:
    """Send rows this caller has claimed, in order, over one SMTP connection.

    Suppressed addresses are skipped (and marked so). Each row is marked sent right after
    the server accepts it. A refused recipient fails that row only; any other error ends
    the pass, and the rows not yet tried are released. So is the rest of a claim once it
    is half as old as the stale time, long before a sweep could take it over.

    With `refill`, once a claim is sent the caller claims more (refill returns them) and
    they go out over the same connection and marker, until refill finds none, an error
    ends the pass, or OUTBOX_DRAIN_MAX_SECONDS have passed: a burst costs one connection,
    one marker and one task rather than one of each per OUTBOX_BATCH_SIZE rows.
    """
    batch = Batch()
    own = connection is None
    connection = connection or get_connection()
    state = {"opened": False}
    marker: _Marker | None = None
    drain_deadline = time.monotonic() + settings.OUTBOX_DRAIN_MAX_SECONDS
    try:
        while emails:
            queue = _skip_suppressed(emails, batch)
            if queue:
                marker = marker or _Marker()
                if not _send_claim(queue, connection, own, state, marker, batch):
                    break
            if refill is None or time.monotonic() > drain_deadline:
                break
            emails = refill()
            if len(emails) < settings.OUTBOX_BATCH_SIZE:
                refill = None  # a short claim took all that was waiting
    finally:
        if marker is not None:
            marker.close()
        _release(batch.released)
        if state["opened"]:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - the messages are accepted; a failed QUIT is not ours
                logger.info("SMTP connection did not close cleanly", exc_info=True)
    return batch


def _skip_suppressed(emails: Sequence[OutboundEmail], batch: Batch) -> list[OutboundEmail]:
    """The claimed rows to send: those the claim found suppressed (_suppressed_sql) are
    recorded as such and skipped."""
    batch.suppressed += sorted(e.pk for e in emails if e.status == EmailStatus.SUPPRESSED)
    return [e for e in emails if e.status != EmailStatus.SUPPRESSED]


def _send_claim(
    queue: list[OutboundEmail], connection, own: bool, state: dict, marker: _Marker, batch: Batch
) -> bool:
    """Send one claim's rows; False when the pass must end (an error, or the claim grew
    old), with the untried rows in batch.released."""
    deadline = time.monotonic() + settings.OUTBOX_SENDING_STALE_SECONDS / 2
    for index, email in enumerate(queue):
        if time.monotonic() > deadline:
            batch.released += [e.pk for e in queue[index:]]
            return False
        try:
            if own and not state["opened"]:
                # Opened here, so every message of the pass shares it (Django's SMTP
                # backend otherwise connects once per message).
                connection.open()
                state["opened"] = True
            _deliver(email, connection)
        except smtplib.SMTPRecipientsRefused as exc:
            _failed(email, exc)
            batch.failed.append(email.pk)
            batch.error = exc
            continue
        except Exception as exc:  # noqa: BLE001 - recorded on the row; the caller retries
            _failed(email, exc)
            batch.failed.append(email.pk)
            batch.error = exc
            batch.released += [e.pk for e in queue[index + 1 :]]
            return False
        marker.sent(email)
        batch.sent.append(email.pk)
    return True


def outbox_send(*, email_id: int, connection=None) -> bool:
    """Send one outbox row if nobody has; returns True when this call sent it.

    Raises the SMTP error after recording it, so the task can retry.
    """
    batch = outbox_send_claimed(emails=outbox_claim(email_ids=[email_id]), connection=connection)
    if batch.error is not None:
        raise batch.error
    return bool(batch.sent)


def _more_waiting() -> list[OutboundEmail]:
    return outbox_claim(more=settings.OUTBOX_BATCH_SIZE)


def outbox_drain(
    *, email_id: int | None = None, limit: int | None = None, keep_going: bool = False
) -> Batch:
    """Send the named row and, over the same connection, other rows waiting for their first
    attempt, up to OUTBOX_BATCH_SIZE in all: a burst goes out in batches, one connection
    per worker. The named row is tried first; its error is in the result. With keep_going
    (the send task) further batches of waiting rows follow over the same connection until
    none is left (bounded by OUTBOX_DRAIN_MAX_SECONDS).
    """
    limit = limit or settings.OUTBOX_BATCH_SIZE
    # One statement: the named row (when it is still to send) first, then the oldest rows
    # waiting, up to `limit` in all.
    named = [email_id] if email_id else []
    claimed = outbox_claim(email_ids=named, more=limit - len(named))
    # A claim that came back short took every row waiting: one more would find none (a row
    # written since has a task of its own), so a lone follow-up costs no extra statement.
    full = len(claimed) >= limit
    return outbox_send_claimed(
        emails=claimed, refill=_more_waiting if keep_going and full else None
    )


def outbox_send_many(
    *, email_ids: list[int], stale_after: timedelta | None = None, keep_going: bool = False
) -> Batch:
    """Send the named rows over one SMTP connection (a chunk of invitations, a sweep's
    batch); rows another sender holds, or already sent, are skipped. A sweep passes the
    `stale_after` it found abandoned rows by, so they are taken over under the same rule.
    With keep_going (the task) rows waiting for their first attempt follow, as in
    outbox_drain: the first task of a burst sends it all, the others find their rows sent."""
    claimed = outbox_claim(email_ids=email_ids, stale_after=stale_after)
    return outbox_send_claimed(emails=claimed, refill=_more_waiting if keep_going else None)
