"""Reading one inbound message: reply, bounce, complaint or none of ours."""

import pytest

from feedback.inbound.mail import (
    AUTO_REPLY,
    BOUNCE,
    COMPLAINT,
    REPLY,
    UNKNOWN,
    html_text,
    inbound_read,
    reply_trim,
)
from tests.factories.inbound import arf_message, dsn_message, reply_message

pytestmark = pytest.mark.django_db

ADDRESS = "reply+1.2.abc.0123456789abcdef0123456789abcdef@replies.chorus.example"


@pytest.fixture(autouse=True)
def _domain(settings):
    settings.INBOUND_REPLY_DOMAIN = "replies.chorus.example"


def test_reply_keeps_the_customers_words_and_drops_the_quoted_email():
    raw = reply_message(
        to=ADDRESS, body="Thanks, it was sorted.", quoted="What went wrong?\nReply here."
    )
    inbound = inbound_read(raw, max_chars=1000)
    assert inbound.kind == REPLY
    assert inbound.tokens == [ADDRESS.split("@")[0].removeprefix("reply+")]
    assert inbound.text == "Thanks, it was sorted."


@pytest.mark.parametrize(
    "text",
    [
        "ขอบคุณครับ\n\nเมื่อ 1 ธ.ค. 2026 Siam Coffee เขียนว่า:\n> เกิดอะไรขึ้น",
        "תודה רבה\n\nב-1 בדצמבר 2026, Siam Coffee כתב:\n> מה השתבש",
        "ありがとうございます\n\n2026年12月1日 9:00 Siam Coffee <a@b>:のメッセージ:\n> 何が",
        "Thanks\n\n-----Original Message-----\nFrom: Siam",
        "Thanks\n\n-- \nKim, sent on the go",
        "Thanks\n\nSent from my iPhone",
    ],
)
def test_reply_trim_cuts_history_and_signatures_in_every_product_language(text):
    assert reply_trim(text).splitlines()[0] in {
        "ขอบคุณครับ",
        "תודה רבה",
        "ありがとうございます",
        "Thanks",
    }
    assert len(reply_trim(text).splitlines()) == 1


def test_html_only_reply_is_read_as_text_without_scripts_or_quotes():
    html = (
        "<html><head><style>p{}</style></head><body><p>Fixed, <b>thanks</b>!</p>"
        "<script>alert(1)</script><blockquote>old email</blockquote></body></html>"
    )
    assert html_text(html).strip() == "Fixed, thanks!"


def test_reply_over_the_cap_is_cut_and_says_so():
    inbound = inbound_read(reply_message(to=ADDRESS, body="x" * 500), max_chars=100)
    assert inbound.text == "x" * 100
    assert inbound.truncated


def test_attachments_are_named_never_kept():
    raw = reply_message(to=ADDRESS, attachment=("receipt.exe", b"MZ\x90\x00" * 100))
    inbound = inbound_read(raw, max_chars=1000)
    assert inbound.kind == REPLY
    assert inbound.attachments == ["receipt.exe"]
    assert "MZ" not in inbound.text


def test_out_of_office_answer_is_not_a_reply():
    raw = reply_message(to=ADDRESS, headers={"Auto-Submitted": "auto-replied"})
    assert inbound_read(raw, max_chars=1000).kind == AUTO_REPLY


def test_mail_to_no_reply_address_is_none_of_ours():
    raw = reply_message(to="someone@replies.chorus.example")
    assert inbound_read(raw, max_chars=1000).kind == UNKNOWN


def test_hard_bounce_names_recipient_status_and_the_outbox_row():
    raw = dsn_message(row=None, recipient="gone@example.com", status="5.1.1")
    inbound = inbound_read(raw, max_chars=1000)
    assert inbound.kind == BOUNCE
    [delivery] = inbound.deliveries
    assert (delivery.recipient, delivery.action, delivery.status) == (
        "gone@example.com",
        "failed",
        "5.1.1",
    )
    assert delivery.is_hard


def test_soft_bounce_is_not_hard():
    raw = dsn_message(row=None, recipient="full@example.com", status="4.2.2", action="delayed")
    [delivery] = inbound_read(raw, max_chars=1000).deliveries
    assert not delivery.is_hard


def test_feedback_loop_report_is_a_complaint():
    inbound = inbound_read(arf_message(row=None, recipient="kim@example.com"), max_chars=1000)
    assert inbound.kind == COMPLAINT
    assert inbound.feedback_type == "abuse"
    assert [d.recipient for d in inbound.deliveries] == ["kim@example.com"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno parts",
        b"To: "
        + ADDRESS.encode()
        + b"\r\nContent-Type: text/plain; charset=klingon\r\n\r\n\xff\xfe",
    ],
)
def test_malformed_messages_are_read_without_error(raw):
    inbound = inbound_read(raw, max_chars=1000)
    assert inbound.kind in {UNKNOWN, BOUNCE, REPLY}
    assert inbound.deliveries == []
