"""The reference check of a Chorus-Signature header, for receivers to copy (README,
"Webhooks", shows `signature_verify` verbatim; a test keeps the two the same). Standard
library only, so it runs in any Python service without Chorus installed."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature_verify(
    *, secret: str, header: str, body: bytes | str, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when `header` ("t=<unix time>,v1=<hex>") signs `body` with `secret` and was
    made at most `tolerance` seconds ago (an older one is a replay). `body` must be the
    request's raw bytes, before any JSON parsing."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8")
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
