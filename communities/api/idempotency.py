"""Idempotency-Key on API writes, Stripe's model: a retried write gets the first answer.

A write sent with `Idempotency-Key: <up to 255 visible characters>` first claims the key
for its caller in the organisation: a record is committed at once, before the view runs,
so a second request with the key sees it. When the view has answered, the answer is kept
on the record (2xx and 4xx; not a 5xx, a 409 or a 429, which a client should retry for
real) or the record is let go. Then the same key:

- with the same method, path and body, answers the kept answer again (the header
  `Idempotent-Replayed: true` says so) and does not run the view;
- with another method, path or body is a 422 problem: the key was meant for something else;
- while the first request still runs is a 409 problem (try again in a moment).

A record is forgotten after API_IDEMPOTENCY_TTL_HOURS (a key sent after that is new), and
`idempotency_records_expire` deletes such records (a beat task). A record still "running"
after IN_PROGRESS_ABANDONED_AFTER belongs to a request that died; the next request with its
key runs afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

from communities.models import IdempotencyRecord, Organisation
from communities.models.idempotency import IDEMPOTENCY_KEY_MAX_LENGTH

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The answer's headers a replay repeats; the rest (rate limits, dates) are the replay's own.
STORED_HEADERS = ("Location",)
# No request runs this long (gunicorn's worker timeout is 30 s): a record still running
# after it was left by a request that died before it could let go.
IN_PROGRESS_ABANDONED_AFTER = timedelta(minutes=5)
# Statuses a client is told to retry (a conflict, a rate limit): never kept as the answer.
RETRYABLE_STATUSES = frozenset({409, 429})
# Printable ASCII with at least one visible character: HTTP strips a header value's outer
# spaces, so a key of spaces only would arrive empty. The schema publishes this pattern.
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]*[!-~][ -~]*$"
IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)


class IdempotencyKeyInvalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "Send an Idempotency-Key of 1 to 255 visible ASCII characters, such as a UUID."
    )
    default_code = "idempotency_key_invalid"


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "A request with this Idempotency-Key is still running; retry once it has answered."
    )
    default_code = "idempotency_key_in_use"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was sent with another request (method, path or body); "
        "use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord
    # True: the key's request has been answered; send `record`'s answer again.
    replay: bool


def idempotency_key_check(*, key: str) -> str:
    """The header's key, or IdempotencyKeyInvalid (400)."""
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise IdempotencyKeyInvalid
    return key


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the request body (Django's request: its body is read and kept, so the
    parsers read it afterwards as they would have)."""
    try:
        raw = request.body
    except RawPostDataException:
        # A multipart form that the CSRF check parsed already: its fields stand for it.
        raw = json.dumps(sorted(request.POST.lists())).encode()
    return hashlib.sha256(raw).hexdigest()


def _expired_before(now: datetime) -> datetime:
    return now - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)


def idempotency_claim(
    *,
    organisation: Organisation,
    credential: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
) -> Claim:
    """Claim `key` for this request, or find the answer it already has.

    The claim is committed before this returns (the caller is not in a transaction), so a
    concurrent request with the key sees it. Raises IdempotencyKeyInUse (409) while the
    key's first request runs, IdempotencyKeyReused (422) for a different request.
    """
    fields = {"method": method, "path": path[:1000], "fingerprint": fingerprint}
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                organisation=organisation, credential=credential, key=key, **fields
            )
        return Claim(record=record, replay=False)
    except IntegrityError:
        pass
    now = timezone.now()
    with transaction.atomic():
        record = (
            IdempotencyRecord.objects.select_for_update()
            .filter(organisation=organisation, credential=credential, key=key)
            .first()
        )
        if record is None:
            # Expired and deleted between the insert and this read: claim it again.
            record = IdempotencyRecord.objects.create(
                organisation=organisation, credential=credential, key=key, **fields
            )
            return Claim(record=record, replay=False)
        expired = record.created_at < _expired_before(now)
        abandoned = record.status is None and record.created_at < now - IN_PROGRESS_ABANDONED_AFTER
        if expired or abandoned:
            for name, value in fields.items():
                setattr(record, name, value)
            record.status, record.body, record.headers, record.created_at = None, None, {}, now
            record.save()
            return Claim(record=record, replay=False)
        if (record.method, record.path, record.fingerprint) != tuple(fields.values()):
            raise IdempotencyKeyReused
        if record.status is None:
            raise IdempotencyKeyInUse
        return Claim(record=record, replay=True)


def idempotency_answer_keep(
    *, record: IdempotencyRecord, status_code: int, body: Any, headers: dict[str, str]
) -> bool:
    """Keep the first answer on the key's record, or let the key go when the answer is one
    to retry (5xx, 409, 429). True when kept."""
    if status_code >= 500 or status_code in RETRYABLE_STATUSES:
        idempotency_release(record=record)
        return False
    kept = {name: headers[name] for name in STORED_HEADERS if name in headers}
    IdempotencyRecord.objects.filter(pk=record.pk, status__isnull=True).update(
        status=status_code, body=body, headers=kept
    )
    return True


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Let go of a claim whose request did not finish with an answer to keep."""
    IdempotencyRecord.objects.filter(pk=record.pk, status__isnull=True).delete()


def idempotency_records_expire(*, now: datetime | None = None) -> int:
    """Delete the records older than API_IDEMPOTENCY_TTL_HOURS; how many went."""
    cutoff = _expired_before(now or timezone.now())
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
