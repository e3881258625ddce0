"""Polling the inbound mailbox over IMAP, the way self-hosted helpdesks read theirs.

Each unseen message is downloaded without marking it (BODY.PEEK), handled in its own
transaction, and flagged \\Seen only after that commit: a poll that dies half-way leaves
the message unseen, and the next poll finds its Message-ID (or UID) already recorded and
writes nothing twice. One poll at a time: a cache lock keeps a slow poll and the next
beat from reading the same messages side by side.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from feedback.inbound.addresses import ReplyTokenInvalid
from feedback.inbound.mail import (
    BOUNCE,
    COMPLAINT,
    REPLY,
    inbound_read,
)
from feedback.inbound.services import SOURCE_EMAIL, bounce_record, reply_receive

logger = logging.getLogger(__name__)

LOCK_KEY = "inbound:poll:lock"


class MailboxUrlInvalid(ValueError):
    """INBOUND_EMAIL_URL is not imap://…, imaps://… or imap+ssl://… with a user and a host."""


@dataclass(frozen=True)
class MailboxUrl:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool


def mailbox_url_parse(url: str) -> MailboxUrl:
    """imaps://user:pass@host:993/INBOX (imap+ssl:// is the same) or
    imap://user:pass@host:143/INBOX."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imap+ssl", "imaps") or not parts.hostname:
        raise MailboxUrlInvalid("INBOUND_EMAIL_URL must be imap://…, imaps://… or imap+ssl://…")
    if not parts.username:
        raise MailboxUrlInvalid("INBOUND_EMAIL_URL names no user")
    tls = parts.scheme != "imap"
    return MailboxUrl(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        tls=tls,
    )


def _connect(mailbox: MailboxUrl) -> imaplib.IMAP4:
    timeout = settings.INBOUND_IMAP_TIMEOUT
    if mailbox.tls:
        # A private CA (INBOUND_EMAIL_CAFILE) replaces the system's; verification of the
        # certificate and the host name stays on either way.
        context = ssl.create_default_context(cafile=settings.INBOUND_EMAIL_CAFILE or None)
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
    conn.login(mailbox.user, mailbox.password)
    return conn


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inbound_handle(*, raw: bytes, fallback_id: str) -> str:
    """Handle one raw message (each write in its own transaction); returns what it was:
    "reply", "duplicate", "bounce", "complaint", "auto_reply", "unknown", "empty" or
    "rejected:<why>" for a reply whose token must not be trusted."""
    inbound = inbound_read(raw, max_chars=settings.INBOUND_MAX_REPLY_CHARS)
    if inbound.kind in (BOUNCE, COMPLAINT):
        outcome = bounce_record(inbound=inbound)
        return inbound.kind if outcome.unmatched < len(inbound.deliveries) else "unmatched"
    if inbound.kind != REPLY:
        return inbound.kind
    result = "empty"
    for token in inbound.tokens:
        try:
            event = reply_receive(
                token=token,
                text=inbound.text,
                source=SOURCE_EMAIL,
                message_id=inbound.message_id or fallback_id,
                attachments=inbound.attachments,
                truncated=inbound.truncated,
            )
        except ReplyTokenInvalid as refused:
            # Never attached anywhere; the sender is logged for whoever looks into it.
            logger.warning(
                "inbound: reply refused (%s) from %s, Message-ID %s",
                refused.code,
                inbound.sender,
                inbound.message_id,
            )
            result = f"rejected:{refused.code}"
            continue
        return REPLY if event is not None else "duplicate"
    return result


def _size(fetched) -> int:
    for item in fetched:
        text = item.decode() if isinstance(item, bytes) else str(item)
        match = re.search(r"RFC822\.SIZE (\d+)", text)
        if match:
            return int(match.group(1))
    return 0


def _body(fetched) -> bytes | None:
    for item in fetched:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def inbound_poll(*, url: str | None = None, limit: int | None = None) -> Counter:
    """Read the mailbox's unseen messages once; returns counts by outcome (logged too)."""
    url = url if url is not None else settings.INBOUND_EMAIL_URL
    counts: Counter = Counter()
    if not url:
        return counts
    mailbox = mailbox_url_parse(url)
    lock_seconds = int(settings.INBOUND_IMAP_TIMEOUT * 4 + 60)
    if not cache.add(LOCK_KEY, 1, timeout=lock_seconds):
        counts["locked"] += 1
        return counts
    try:
        conn = _connect(mailbox)
        try:
            counts.update(_poll(conn, mailbox, limit or settings.INBOUND_POLL_BATCH))
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
    finally:
        cache.delete(LOCK_KEY)
    if counts:
        logger.info("inbound poll: %s", dict(counts))
    return counts


def _poll(conn: imaplib.IMAP4, mailbox: MailboxUrl, limit: int) -> Counter:
    counts: Counter = Counter()
    typ, _data = conn.select(_quoted(mailbox.folder))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"cannot open folder {mailbox.folder!r}")
    validity = (conn.untagged_responses.get("UIDVALIDITY") or [b"0"])[0]
    validity = validity.decode() if isinstance(validity, bytes) else str(validity)
    typ, data = conn.uid("SEARCH", None, "UNSEEN", "UNFLAGGED")
    uids = (data[0] or b"").split()[:limit] if typ == "OK" else []
    for uid in uids:
        typ, fetched = conn.uid("FETCH", uid, "(RFC822.SIZE)")
        if typ != "OK":
            continue
        if _size(fetched) > settings.INBOUND_MAX_MESSAGE_BYTES:
            logger.warning("inbound: message UID %s over the size cap, left unread", uid)
            outcome = "oversized"
        else:
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _body(fetched) if typ == "OK" else None
            if raw is None:
                continue
            try:
                outcome = inbound_handle(
                    raw=raw, fallback_id=f"<imap-{validity}-{uid.decode()}@inbound>"
                )
            except DatabaseError:
                # Left unseen: the next poll tries again.
                logger.exception("inbound: message UID %s not stored, retried later", uid)
                outcome = "failed"
            except Exception:
                # A message that breaks the reader would break it on every poll: flagged
                # (and skipped from now on) for a person to look at.
                logger.exception("inbound: message UID %s could not be read", uid)
                conn.uid("STORE", uid, "+FLAGS", "(\\Flagged)")
                outcome = "unreadable"
        if outcome != "failed":
            # After the commit: the write is durable before the mailbox forgets it.
            conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        counts[outcome] += 1
    return counts
