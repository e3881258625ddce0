"""The bytes of an outbox email, written straight from its row.

Django's EmailMultiAlternatives builds a tree of MIME objects and the stdlib generator
folds every header and compiles a fresh regular expression for each boundary: about
3 ms of CPU per message, more than the SMTP conversation itself on loopback, so a burst
drained at a fraction of what the connection carries. A row is already rendered (subject,
text, html, headers), so its message is a few strings joined: the same headers, parts and
encodings Django writes (8bit UTF-8 parts, quoted-printable when a line is too long for
SMTP; RFC 2047 words for non-ASCII headers, IDNA for non-ASCII domains), at a tenth of
the cost. tests/communities/test_outbox_mime.py holds it to what Django writes.
"""

from __future__ import annotations

import functools
import re
import secrets
from email.header import Header
from email.quoprimime import body_encode
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import BadHeaderError
from django.core.mail.message import sanitize_address

# RFC 5321 4.5.3.1.6: a line of the message, CRLF included, fits 1,000 octets.
_MAX_LINE = 998
# Headers that carry addresses: non-ASCII names and domains need their own encoding.
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})
# A bare ASCII addr-spec (what a row's To almost always is): parseaddr would hand it back
# unchanged, and costs a tenth of a millisecond a message to say so.
_BARE_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def _header(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        # What Django refuses too: a line break would start a header of the attacker's.
        raise BadHeaderError(f"Header values can't contain newlines (got {value!r} for {name})")
    if name.lower() in _ADDRESS_HEADERS:
        if not value.isascii():
            value = sanitize_address(value, "utf-8")
    elif not value.isascii() or len(value) > _MAX_LINE - len(name) - 2:
        value = Header(value, "utf-8", header_name=name).encode()
    return f"{name}: {value}\r\n"


def _part(body: str, subtype: str) -> str:
    data = body.replace("\r\n", "\n").replace("\r", "\n")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    if data.isascii() and all(len(line) <= _MAX_LINE for line in data.split("\n")):
        encoding, payload = "7bit", data
    elif all(len(line.encode()) <= _MAX_LINE for line in data.split("\n")):
        encoding, payload = "8bit", data
    else:
        # quoprimime encodes one character per octet: hand it the UTF-8 octets.
        octets = data.encode().decode("latin-1")
        encoding, payload = "quoted-printable", body_encode(octets, eol="\n")
    return f"{head}Content-Transfer-Encoding: {encoding}\r\n\r\n" + payload.replace("\n", "\r\n")


@functools.lru_cache(maxsize=64)
def _parsed_envelope(address: str) -> str:
    if address.isascii():
        return parseaddr(address)[1] or address
    return parseaddr(sanitize_address(address, "utf-8"))[1]


def envelope_address(address: str) -> str:
    """The bare address for SMTP's MAIL FROM / RCPT TO (its domain IDNA-encoded)."""
    if address.isascii() and _BARE_ADDRESS.fullmatch(address):
        return address
    # The rest is mostly the one From of a burst, parsed once.
    return _parsed_envelope(address)


def message_bytes(
    *,
    subject: str,
    body_text: str,
    body_html: str,
    from_email: str,
    to_email: str,
    headers: dict[str, str],
) -> bytes:
    """The whole message, CRLF line ends, ready for SMTP DATA.

    `headers` come after From/To/Subject/Date, in order (Message-ID, Reply-To, the row's
    own); a single text part, or multipart/alternative with the HTML when there is one.
    """
    lines = [
        _header("Subject", subject),
        _header("From", from_email),
        _header("To", to_email),
        _header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
    ]
    lines += [_header(name, str(value)) for name, value in headers.items()]
    text = _part(body_text, "plain")
    if not body_html:
        return ("".join(lines) + text).encode()
    boundary = f"==============={secrets.randbelow(10**19):019d}=="
    html = _part(body_html, "html")
    head = (
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\nMIME-Version: 1.0\r\n'
    )
    return (
        f"{head}{''.join(lines)}\r\n--{boundary}\r\n{text}\r\n--{boundary}\r\n{html}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
