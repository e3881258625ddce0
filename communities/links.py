"""Links in emails: one place that makes and reads them, by kind.

Links to a member or an address (join confirmation, invitation to join, unsubscribe)
carry an opaque token: a random string whose SHA-256 finds a `LinkToken` row saying what it
names. Nothing in the URL names a person, so access logs and browser history hold no
address. The other kinds (staff invitation, survey invitation) carry a signed reference
to their own row, as they always did.

Links sent before tokens were stored carried a signed payload (for some kinds the address
itself); `link_read` still accepts them until they expire, with the salt and payload
format they were sent with. Whatever goes wrong, the caller gets one error type whose
`reason` says why.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from communities.models import LinkToken
from config.sql import insert_rows


class LinkError(Exception):
    """A link that cannot be used. `reason` is one of the constants below; `obj` is what
    the link named, when it named something real (an expired or used invitation)."""

    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"

    def __init__(self, reason: str, obj: Any = None, *, payload: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.obj = obj
        self.payload = payload


@dataclass(frozen=True)
class LinkKind:
    salt: str
    # None: the link never expires, or the caller decides (a survey's validity period).
    max_age: timedelta | None = None
    # "json": signing.dumps of a small payload; "plain": a TimestampSigner over a string.
    # The format of links signed the old way (and still of the kinds that are not stored).
    format: str = "json"
    # New links are random tokens looked up in LinkToken (link_mint), not signed payloads.
    stored: bool = False
    # One token per organisation and address, minted again for every email (unsubscribe):
    # derived from the address with the site's secret, so the table grows with addresses,
    # not with emails sent.
    per_address: bool = False


LINK_KINDS: dict[str, LinkKind] = {
    "member_invitation": LinkKind("chorus.member-invitation", timedelta(days=30), stored=True),
    "member_confirm": LinkKind("chorus.member-confirm", timedelta(days=7), stored=True),
    "staff_invitation": LinkKind("chorus.staff-invitation", timedelta(days=7)),
    "survey_invitation": LinkKind("chorus.surveys.invitation", format="plain"),
    "unsubscribe": LinkKind("chorus.surveys.unsubscribe", stored=True, per_address=True),
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _is_token(signed: str) -> bool:
    # Signed payloads always carry "timestamp:signature" after a colon; tokens never do.
    return ":" not in signed


def _address_token(spec: LinkKind, organisation_id: int, email: str) -> str:
    mac = salted_hmac(spec.salt, f"{organisation_id}:{email}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def link_mint(
    kind: str,
    *,
    organisation_id: int,
    member: Any = None,
    email: str = "",
    data: dict[str, Any] | None = None,
) -> str:
    """The token of a new link of a stored `kind` naming `member` (and/or `email`).

    Single-use kinds get a fresh random token per email; an unsubscribe link is the one
    token of its organisation and address (it never expires, and using it twice is
    harmless).
    """
    spec = LINK_KINDS[kind]
    if not spec.stored:
        raise ValueError(f"{kind} links are signed, not stored: use link_make")
    email = (email or (member.email if member is not None else "")).strip().lower()
    now = timezone.now()
    fields = {
        "kind": kind,
        "organisation_id": organisation_id,
        "member": member,
        "email": email,
        "data": data or {},
        "created_at": now,
        "expires_at": now + spec.max_age if spec.max_age else None,
    }
    if spec.per_address:
        token = _address_token(spec, organisation_id, email)
        # The address's one token: written the first time, kept after (no read, no savepoint).
        fields["member"] = member.pk if member is not None else None
        insert_rows(LinkToken, [{"token_hash": _digest(token), **fields}], conflict=("token_hash",))
        return token
    token = secrets.token_urlsafe(32)
    LinkToken.objects.create(token_hash=_digest(token), **fields)
    return token


def link_make(kind: str, payload: Any) -> str:
    """A signed link of `kind` carrying `payload` (a string for plain kinds).

    For the stored kinds this is the format of links sent before tokens were stored;
    Chorus mints those with link_mint now.
    """
    spec = LINK_KINDS[kind]
    if spec.format == "plain":
        return signing.TimestampSigner(salt=spec.salt).sign(payload)
    return signing.dumps(payload, salt=spec.salt, compress=True)


def _load(spec: LinkKind, signed: str, max_age: timedelta | None) -> Any:
    if spec.format == "plain":
        return signing.TimestampSigner(salt=spec.salt).unsign(signed, max_age=max_age)
    return signing.loads(signed, salt=spec.salt, max_age=max_age)


def _stored_payload(row: Any) -> Any:
    """A stored link's payload, in the shape its signed form had, so callers read both."""
    if row.kind == "unsubscribe":
        return [row.organisation_id, row.email]
    if row.kind == "member_invitation":
        return {"m": row.member_id, "e": row.email}
    return {**row.data, "m": row.member_id, "e": row.email}


def _read_stored(kind: str, token: str, max_age: timedelta | None) -> Any:
    # The row's own expiry was set from the kind's max_age when it was minted.
    row = LinkToken.objects.filter(kind=kind, token_hash=_digest(token)).first()
    if row is None or row.member_id is None and not row.email:
        raise LinkError(LinkError.FORGED)
    payload = _stored_payload(row)
    expires_at = row.created_at + max_age if max_age else row.expires_at
    if expires_at is not None and timezone.now() >= expires_at:
        raise LinkError(LinkError.EXPIRED, payload=payload)
    if row.used_at is not None:
        raise LinkError(LinkError.USED, payload=payload)
    return payload


def link_read(kind: str, signed: str, *, max_age: timedelta | None = None) -> Any:
    """The payload of a genuine, unexpired, unused link, or LinkError.

    `max_age` overrides the kind's own. An expired or used link's error still carries its
    payload (the link is genuine, only old or spent), so a page can offer a fresh link or
    a way to sign in.
    """
    spec = LINK_KINDS[kind]
    if spec.stored and _is_token(signed):
        return _read_stored(kind, signed, max_age)
    try:
        payload = _load(spec, signed, max_age or spec.max_age)
    except signing.SignatureExpired:
        raise LinkError(LinkError.EXPIRED, payload=_load(spec, signed, None)) from None
    except signing.BadSignature:
        raise LinkError(LinkError.FORGED) from None
    if spec.stored and not spec.per_address and _used_before_tokens(signed):
        raise LinkError(LinkError.USED, payload=payload)
    return payload


def _used_before_tokens(signed: str) -> bool:
    return LinkToken.objects.filter(token_hash=_digest(signed), used_at__isnull=False).exists()


def link_use(kind: str, signed: str, *, organisation_id: int, member: Any = None) -> bool:
    """Use up a single-use link; True when this call did (never twice, even at once).

    Call it in the transaction that does what the link is for, after link_read: a
    refusal later in that transaction gives the link back.
    """
    now = timezone.now()
    if _is_token(signed):
        return bool(
            LinkToken.objects.filter(
                kind=kind, token_hash=_digest(signed), used_at__isnull=True
            ).update(used_at=now)
        )
    # A link signed before tokens were stored: remember, by its hash, that it was used.
    try:
        with transaction.atomic():
            LinkToken.objects.create(
                kind=kind,
                token_hash=_digest(signed),
                organisation_id=organisation_id,
                member=member,
                created_at=now,
                expires_at=now,
                used_at=now,
            )
    except IntegrityError:
        return False
    return True


def link_is_genuine(kind: str, signed: str) -> bool:
    """Whether the link is one we made, whatever its age."""
    spec = LINK_KINDS[kind]
    if spec.stored and _is_token(signed):
        return LinkToken.objects.filter(kind=kind, token_hash=_digest(signed)).exists()
    try:
        _load(spec, signed, None)
    except signing.BadSignature:
        return False
    return True
