"""Reading one inbound message: is it a customer's reply, a bounce, a complaint, or none
of ours; and for a reply, the words the customer wrote, without the quoted history.

Nothing here touches the database. A message is data from anyone: parts are decoded as
text only, never saved as files or run, and every size is capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser

from feedback.inbound.addresses import tokens_in

REPLY = "reply"
BOUNCE = "bounce"
COMPLAINT = "complaint"
AUTO_REPLY = "auto_reply"
UNKNOWN = "unknown"

# Where an email client starts quoting what it answers: everything from here is history.
QUOTE_STARTS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^\s*On\b.{0,200}\bwrote:\s*$",  # Gmail, Apple Mail, Thunderbird (en)
        r"^\s*-{2,}\s*Original Message\s*-{2,}",  # Outlook
        r"^\s*_{10,}\s*$",  # Outlook's rule above the quoted header block
        r"^\s*From:\s.+$",  # a quoted header block (Outlook without the rule)
        r"^.{0,200}(wrote|schrieb|a écrit|escribió)\s*:\s*$",
        r"^.{0,200}เขียนว่า\s*:?\s*$",  # Thai clients: "… wrote:"
        r"^.{0,200}כתב(ה)?\s*:\s*$",  # Hebrew: "… wrote:"
        r"^.{0,200}(のメッセージ|書きました|記述)\s*[:：]\s*$",  # Japanese clients
    )
]
# "-- " alone on a line starts a signature (RFC 3676 §4.3); mobile clients add their own.
SIGNATURE_STARTS = [
    re.compile(r"^--\s?$"),
    re.compile(r"^(Sent from my|Get Outlook for|iPhoneから送信|ส่งจาก)", re.IGNORECASE),
]
# Filenames noted on the event for a refused attachment: a few, each short.
MAX_NOTED_ATTACHMENTS = 10
MAX_FILENAME = 100


@dataclass
class Delivery:
    """One recipient's outcome in a delivery-status notification or a complaint."""

    recipient: str
    action: str
    status: str
    diagnostic: str = ""

    @property
    def is_hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


@dataclass
class Inbound:
    """What one message turned out to be, and what matters of it."""

    kind: str
    message_id: str = ""
    sender: str = ""
    tokens: list[str] = field(default_factory=list)
    text: str = ""
    truncated: bool = False
    attachments: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    # The headers of the email that bounced or was complained about (whatever came back).
    original_outbox_id: int | None = None
    original_message_id: str = ""
    original_to: str = ""
    feedback_type: str = ""


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML part: tags dropped, scripts and styles skipped, blocks
    on lines of their own, blockquotes (the quoted history) left out."""

    SKIP = {"script", "style", "head", "title", "blockquote"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(lines)


def reply_trim(text: str) -> str:
    """The customer's own words: quoted history (">" lines, "On … wrote:" and what
    follows) and the signature cut off; blank runs squeezed."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if any(p.match(line) for p in QUOTE_STARTS) or any(p.match(line) for p in SIGNATURE_STARTS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    out = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", out)


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        # An unknown charset or a broken encoding: the bytes, decoded leniently.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _fields(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    # Some reporters send the report as text: read it as header blocks.
    text = payload if isinstance(payload, str) else ""
    return [
        message_from_bytes(block.encode(), policy=policy.compat32)
        for block in text.split("\n\n")
        if block.strip()
    ]


def _address(value: str) -> str:
    """ "rfc822; a@b" → "a@b"."""
    value = (value or "").split(";", 1)[-1]
    found = getaddresses([value])
    return (found[0][1] if found else value).strip().lower()


def _original(message: Message, inbound: Inbound) -> None:
    """Read the returned headers of our own email (a message/rfc822 or
    text/rfc822-headers part) for the outbox row they name."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            headers = inner[0] if isinstance(inner, list) and inner else None
        elif ctype == "text/rfc822-headers":
            headers = message_from_bytes(_part_text(part).encode(), policy=policy.compat32)
        else:
            continue
        if headers is None:
            continue
        outbox = str(headers.get("X-Chorus-Outbox", "") or "").strip()
        message_id = str(headers.get("Message-ID", "") or "").strip()
        if outbox.isdigit():
            inbound.original_outbox_id = int(outbox)
        else:
            match = re.search(r"<outbox-(\d+)\.", message_id)
            if match:
                inbound.original_outbox_id = int(match.group(1))
        inbound.original_message_id = message_id[:300]
        inbound.original_to = _address(str(headers.get("To", "") or ""))
        return


def _dsn(message: Message, inbound: Inbound) -> None:
    for part in message.walk():
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        for block in _fields(part)[1:] or _fields(part):
            recipient = _address(
                str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            )
            if not recipient:
                continue
            status = str(block.get("Status", "") or "").strip().split(" ")[0]
            inbound.deliveries.append(
                Delivery(
                    recipient=recipient,
                    action=str(block.get("Action", "") or "").strip().lower(),
                    status=status[:16],
                    diagnostic=" ".join(str(block.get("Diagnostic-Code", "") or "").split())[:300],
                )
            )
    _original(message, inbound)


def _arf(message: Message, inbound: Inbound) -> None:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        for block in _fields(part):
            inbound.feedback_type = str(block.get("Feedback-Type", "") or "").strip().lower()[:40]
            recipient = _address(
                str(block.get("Original-Rcpt-To", "") or block.get("Removal-Recipient", "") or "")
            )
            if recipient:
                inbound.deliveries.append(
                    Delivery(recipient=recipient, action="complained", status="")
                )
    _original(message, inbound)
    if not inbound.deliveries and inbound.original_to:
        # Many feedback loops redact the recipient in the report but keep our To header.
        inbound.deliveries.append(
            Delivery(recipient=inbound.original_to, action="complained", status="")
        )


def inbound_read(raw: bytes, *, max_chars: int) -> Inbound:
    """Classify one raw message and pull out what the poller needs."""
    message: EmailMessage = message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    inbound = Inbound(kind=UNKNOWN)
    inbound.message_id = str(message.get("Message-ID", "") or "").strip()[:300]
    inbound.sender = _address(str(message.get("From", "") or ""))
    ctype = message.get_content_type()
    report_type = (
        (message.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    )
    if report_type == "delivery-status":
        inbound.kind = BOUNCE
        _dsn(message, inbound)
        return inbound
    if report_type == "feedback-report":
        inbound.kind = COMPLAINT
        _arf(message, inbound)
        return inbound
    headers = [
        str(message.get(name, "") or "") for name in ("To", "Cc", "Delivered-To", "X-Original-To")
    ]
    inbound.tokens = tokens_in(headers)
    if not inbound.tokens:
        return inbound
    auto = str(message.get("Auto-Submitted", "no") or "no").strip().lower()
    if auto != "no" or str(message.get("Precedence", "")).lower() in ("auto_reply", "bulk", "junk"):
        # An out-of-office answer is not the customer writing back.
        inbound.kind = AUTO_REPLY
        return inbound
    inbound.kind = REPLY
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = _part_text(body)
        if body.get_content_type() == "text/html":
            text = html_text(text)
    text = reply_trim(text)
    if len(text) > max_chars:
        text, inbound.truncated = text[:max_chars], True
    inbound.text = text
    for part in message.iter_attachments():
        name = part.get_filename() or part.get_content_type()
        if len(inbound.attachments) < MAX_NOTED_ATTACHMENTS:
            inbound.attachments.append(" ".join(str(name).split())[:MAX_FILENAME])
    return inbound
