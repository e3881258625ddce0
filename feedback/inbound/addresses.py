"""The per-case reply address (and reply link) a follow-up or case email carries.

A token names the case and its organisation and is signed with Django's salted HMAC (the
primitive `django.core.signing` is built on), stamped with when it was made so it expires
after INBOUND_REPLY_MAX_AGE_DAYS. It is lower-case hex and base-36 only: it travels in
an address's local part, which some mail servers fold to lower case, and a
`django.core.signing` token (mixed-case base64) would not survive that.
"""

from __future__ import annotations

import hmac
import re
import time
from email.utils import getaddresses
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from feedback.models import Case

SALT = "chorus.feedback.inbound.reply"
LOCAL_PREFIX = "reply+"
# 128 bits of the SHA-256 HMAC: far past guessing, short enough for a local part (≤ 64).
SIGNATURE_HEX = 32
TOKEN_RE = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([0-9a-z]{1,10})\.([0-9a-f]{32})$")


class ReplyTokenInvalid(ValueError):
    """A reply token that must not be trusted; `code` says why (logged and counted)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _signature(value: str) -> str:
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:SIGNATURE_HEX]


def reply_token(*, case: Case, at: float | None = None) -> str:
    """A signed token naming `case` and its organisation, made now (or at `at`)."""
    stamp = _base36(int(time.time() if at is None else at))
    value = f"{case.pk}.{case.organisation_id}.{stamp}"
    return f"{value}.{_signature(value)}"


def reply_token_read(token: str) -> tuple[int, int]:
    """(case id, organisation id) from a genuine, unexpired token; else ReplyTokenInvalid
    with code "malformed", "forged" or "expired"."""
    match = TOKEN_RE.match((token or "").strip().lower())
    if match is None:
        raise ReplyTokenInvalid("malformed")
    case_id, organisation_id, stamp, signature = match.groups()
    value = f"{case_id}.{organisation_id}.{stamp}"
    if not hmac.compare_digest(signature, _signature(value)):
        raise ReplyTokenInvalid("forged")
    age = time.time() - int(stamp, 36)
    if age > settings.INBOUND_REPLY_MAX_AGE_DAYS * 86400:
        raise ReplyTokenInvalid("expired")
    return int(case_id), int(organisation_id)


def reply_address(*, case: Case) -> str:
    """reply+<token>@<INBOUND_REPLY_DOMAIN>, or "" when no reply domain is configured."""
    domain = settings.INBOUND_REPLY_DOMAIN
    if not domain:
        return ""
    return f"{LOCAL_PREFIX}{reply_token(case=case)}@{domain}"


def reply_link(*, case: Case) -> str:
    """The absolute URL of the page where the customer writes a reply to `case`."""
    return settings.SITE_URL + reverse("inbound:reply", args=[reply_token(case=case)])


def reply_headers(*, case: Case) -> dict[str, str]:
    """Headers that route a customer's reply back to `case` (empty when not configured).

    Merged after the sender's headers, its Reply-To wins over the organisation's reply
    address: a reply then reaches the case, and staff are alerted from there.
    """
    address = reply_address(case=case)
    return {"Reply-To": address} if address else {}


def tokens_in(addresses: list[str]) -> list[str]:
    """The reply tokens of every reply+<token>@<our domain> among header values."""
    domain = (settings.INBOUND_REPLY_DOMAIN or "").lower()
    found: list[str] = []
    if not domain:
        return found
    for _name, address in getaddresses(addresses):
        local, _at, host = address.lower().rpartition("@")
        if local.startswith(LOCAL_PREFIX) and host == domain:
            token = local[len(LOCAL_PREFIX) :]
            if token not in found:
                found.append(token)
    return found
