"""Inbound mail as mail servers write it: a customer's reply to a case's reply address,
an RFC 3464 delivery-status notification, an RFC 5965 (ARF) complaint — raw bytes for
IMAP APPEND or the reader, built with the standard library's email package.

(Inbound mail adds no model: the suppression list's factory is EmailSuppressionFactory.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from communities.outbox.models import OutboundEmail


def reply_message(
    *,
    to: str,
    body: str = "The new order arrived, thank you.",
    quoted: str = "",
    html: str | None = None,
    sender: str = "kim@example.com",
    message_id: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A reply as an email client sends it: the customer's words, then the quoted email."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: What went wrong?"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    text = body
    if quoted:
        text += "\n\nOn Mon, 1 Dec 2026 at 09:00, Siam Coffee <noreply@chorus.example> wrote:\n"
        text += "\n".join(f"> {line}" for line in quoted.splitlines())
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        name, data = attachment
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def _original_headers(row: OutboundEmail | None, *, to: str, message_id: str = "") -> str:
    lines = [
        "From: Chorus <noreply@chorus.example>",
        f"To: {to}",
        "Subject: What went wrong?",
    ]
    if row is not None:
        lines.append(f"Message-ID: {message_id or row.message_id}")
        lines.append(f"X-Chorus-Outbox: {row.pk}")
    elif message_id:
        lines.append(f"Message-ID: {message_id}")
    return "\r\n".join(lines) + "\r\n"


def _report(report_type: str, human: str, fields: list[dict[str, str]], original: str) -> bytes:
    """A multipart/report written out as a reporting mail server writes it."""
    boundary = uuid.uuid4().hex
    part_type = (
        "message/delivery-status" if report_type == "delivery-status" else "message/feedback-report"
    )
    blocks = "\r\n\r\n".join("\r\n".join(f"{k}: {v}" for k, v in block.items()) for block in fields)
    text = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        "To: noreply@chorus.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"{human}\r\n\r\n"
        f"--{boundary}\r\n"
        f"Content-Type: {part_type}\r\n\r\n"
        f"{blocks}\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"{original}\r\n"
        f"--{boundary}--\r\n"
    )
    return text.encode()


def dsn_message(
    *,
    row: OutboundEmail | None,
    recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    with_outbox_header: bool = True,
    message_id: str = "",
) -> bytes:
    """A delivery-status notification (RFC 3464) for the outbox row's email."""
    original = _original_headers(row, to=recipient, message_id=message_id)
    if not with_outbox_header:
        original = "\r\n".join(
            line for line in original.split("\r\n") if not line.startswith("X-Chorus-Outbox")
        )
    fields = [
        {"Reporting-MTA": "dns; mx.example", "Arrival-Date": format_datetime(datetime.now(UTC))},
        {
            "Final-Recipient": f"rfc822; {recipient}",
            "Action": action,
            "Status": status,
            "Diagnostic-Code": f"smtp; 550 {status} User unknown",
        },
    ]
    return _report("delivery-status", "Your message could not be delivered.", fields, original)


def arf_message(*, row: OutboundEmail | None, recipient: str) -> bytes:
    """A feedback-loop complaint (RFC 5965 ARF): the recipient marked our email as spam."""
    fields = [
        {
            "Feedback-Type": "abuse",
            "User-Agent": "ExampleFBL/1.0",
            "Version": "1",
            "Original-Rcpt-To": recipient,
        }
    ]
    return _report(
        "feedback-report",
        "This is an email abuse report.",
        fields,
        _original_headers(row, to=recipient),
    )
