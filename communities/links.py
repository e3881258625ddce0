"""Signed links in emails: one place that makes and reads them, by kind.

Like `django.contrib.auth.tokens`, a link carries just enough to find its object and a
signature; everything else is looked up when it is opened. Each kind keeps the salt and
payload format it was first sent with, so links already in people's inboxes keep working.
Whatever goes wrong, the caller gets one error type whose `reason` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing


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
    format: str = "json"


LINK_KINDS: dict[str, LinkKind] = {
    "member_invitation": LinkKind("chorus.member-invitation", timedelta(days=30)),
    "member_confirm": LinkKind("chorus.member-confirm", timedelta(days=7)),
    "staff_invitation": LinkKind("chorus.staff-invitation", timedelta(days=7)),
    "survey_invitation": LinkKind("chorus.surveys.invitation", format="plain"),
    "unsubscribe": LinkKind("chorus.surveys.unsubscribe"),
}


def link_make(kind: str, payload: Any) -> str:
    """The signed token of a link of `kind` carrying `payload` (a string for plain kinds)."""
    spec = LINK_KINDS[kind]
    if spec.format == "plain":
        return signing.TimestampSigner(salt=spec.salt).sign(payload)
    return signing.dumps(payload, salt=spec.salt, compress=True)


def _load(spec: LinkKind, signed: str, max_age: timedelta | None) -> Any:
    if spec.format == "plain":
        return signing.TimestampSigner(salt=spec.salt).unsign(signed, max_age=max_age)
    return signing.loads(signed, salt=spec.salt, max_age=max_age)


def link_read(kind: str, signed: str, *, max_age: timedelta | None = None) -> Any:
    """The payload of a genuine, unexpired link, or LinkError.

    `max_age` overrides the kind's own. An expired link's error still carries its
    payload (the signature is good, only old), so a page can offer a fresh link.
    """
    spec = LINK_KINDS[kind]
    try:
        return _load(spec, signed, max_age or spec.max_age)
    except signing.SignatureExpired:
        raise LinkError(LinkError.EXPIRED, payload=_load(spec, signed, None)) from None
    except signing.BadSignature:
        raise LinkError(LinkError.FORGED) from None


def link_is_genuine(kind: str, signed: str) -> bool:
    """Whether the link was signed by us, whatever its age."""
    try:
        _load(LINK_KINDS[kind], signed, None)
    except signing.BadSignature:
        return False
    return True
