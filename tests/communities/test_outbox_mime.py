"""The outbox writes each message straight from its row (communities.outbox.mime) when it
sends over SMTP: what arrives at a real SMTP server reads exactly as the message Django
builds for the same row — headers, parts, encodings — in every language the product
speaks, with long lines, non-ASCII names and without an HTML part."""

from __future__ import annotations

import email
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from communities.outbox.choices import EmailStatus
from communities.outbox.mime import message_bytes
from communities.outbox.sending import _message, outbox_send
from tests.factories.communities import OutboundEmailFactory
from tests.worker_fixtures import _free_port

pytestmark = pytest.mark.django_db


class Server:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self._lock:
            self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def server(settings):
    handler = Server()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def reading(message: email.message.EmailMessage) -> dict:
    """What a mail client shows of a message: its headers (decoded) and each part's text."""
    names = ("Subject", "From", "To", "Reply-To", "Message-ID", "X-Chorus-Outbox")
    names += ("List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version")
    parts = [
        (part.get_content_type(), part.get_content_charset(), part.get_content())
        for part in (message.walk() if message.is_multipart() else [message])
        if not part.is_multipart()
    ]
    return {
        # Stripped: Django folds a long encoded Subject onto a continuation line, which a
        # reader decodes with a leading space.
        "headers": {name: str(message.get(name, "")).strip() for name in names},
        "type": message.get_content_type(),
        "parts": parts,
    }


ROWS = {
    "english with html": {
        "subject": "We are sorry about your visit",
        "body_text": "Hello Ana,\nthank you for telling us.\n",
        "body_html": "<p>Hello Ana,</p><p>thank you for telling us.</p>",
    },
    "thai from a named sender": {
        "subject": "ขออภัยสำหรับประสบการณ์ของคุณที่สาขาสยาม",
        "body_text": "สวัสดีค่ะ คุณอานา\nขอบคุณที่บอกเรา\n",
        "body_html": "<p>สวัสดีค่ะ</p>",
        "headers": {
            "From": "ร้านสยาม <noreply@example.com>",
            "Reply-To": "support@example.com",
            "List-Unsubscribe": "<https://chorus.example/u/abc/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    },
    "hebrew and japanese, text only": {
        "subject": "מצטערים — 申し訳ございません",
        "body_text": "שלום\nこんにちは\n",
        "body_html": "",
    },
    "a line too long for smtp": {
        "subject": "Long " * 59,
        "body_text": "x" * 1500 + "\nété " * 300,
        "body_html": "<p>" + "y" * 2000 + "</p>",
    },
}


@pytest.mark.parametrize("case", ROWS)
def test_the_message_sent_over_smtp_reads_as_djangos_for_the_same_row(server, case):
    # Given a rendered row
    row = OutboundEmailFactory(**ROWS[case])
    expected = reading(parsed(_message(row, connection=None).message().as_bytes(linesep="\r\n")))

    # When it is sent over SMTP
    assert outbox_send(email_id=row.pk) is True

    # Then the server got one message that reads as Django's, to the row's address
    [(mail_from, rcpts, data)] = server.received
    assert rcpts == [row.to_email]
    assert mail_from == "webmaster@localhost" or "@" in mail_from
    assert reading(parsed(data)) == expected
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT


def test_other_backends_still_get_djangos_message(settings):
    # Given the in-memory backend (no SMTP connection to write to)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = OutboundEmailFactory(subject="Hi", body_text="Hello")

    # When it is sent
    assert outbox_send(email_id=row.pk) is True

    # Then Django's message object reached the backend
    [sent] = mail.outbox
    assert sent.extra_headers["X-Chorus-Outbox"] == str(row.pk)


def test_a_header_with_a_line_break_is_refused():
    # Given a header value that would start a header of its own
    from django.core.mail import BadHeaderError

    # When the message is written / Then it is refused, as Django refuses it
    with pytest.raises(BadHeaderError):
        message_bytes(
            subject="Hi\r\nBcc: everyone@example.com",
            body_text="x",
            body_html="",
            from_email="a@example.com",
            to_email="b@example.com",
            headers={},
        )


def test_a_non_ascii_recipient_domain_is_sent_in_idna(server):
    # Given an address at an internationalised domain
    row = OutboundEmailFactory(to_email="ana@bücher.example")

    # When it is sent
    outbox_send(email_id=row.pk)

    # Then the envelope and the To header carry the ASCII (IDNA) form
    [(_from, rcpts, data)] = server.received
    assert rcpts == ["ana@xn--bcher-kva.example"]
    assert str(parsed(data)["To"]) == "ana@xn--bcher-kva.example"
