"""INBOUND_EMAIL_URL=imaps://…: replies are read over IMAP with TLS from a real server (a
private Dovecot whose certificate a throwaway CA signed), trusting that CA through
INBOUND_EMAIL_CAFILE; a certificate nobody told Chorus to trust is refused, never
accepted quietly."""

import ssl

import pytest

from communities.choices import Role
from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_address
from feedback.inbound.mailbox import inbound_poll, mailbox_url_parse
from feedback.models import CaseEvent
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.inbound import reply_message
from tests.feedback import inbound_server

pytestmark = pytest.mark.django_db

dovecot_tls = inbound_server.dovecot_tls


@pytest.fixture
def tls_mailbox(dovecot_tls, settings):
    dovecot_tls.clear()
    settings.INBOUND_REPLY_DOMAIN = "replies.chorus.example"
    settings.INBOUND_EMAIL_URL = dovecot_tls.tls_url
    return dovecot_tls


@pytest.fixture
def waiting_case():
    agent = UserFactory(email="agent@siam.example")
    case = CaseFactory(status=CaseStatus.WAITING, assignee=agent)
    StaffRoleFactory(organisation=case.organisation, user=agent, role=Role.AGENT)
    return case


def test_imaps_is_imap_over_tls_on_port_993_by_default():
    parsed = mailbox_url_parse("imaps://inbound:secret@mail.example/INBOX")

    assert (parsed.tls, parsed.port, parsed.host) == (True, 993, "mail.example")


def test_a_reply_is_read_over_imaps_trusting_the_configured_ca(tls_mailbox, waiting_case, settings):
    # given: the mailbox's CA is the one Chorus is told to trust
    settings.INBOUND_EMAIL_CAFILE = str(tls_mailbox.ca_file)
    tls_mailbox.deliver(reply_message(to=reply_address(case=waiting_case), body="Still broken."))

    # when
    counts = inbound_poll()

    # then
    assert counts == {"reply": 1}
    reply = CaseEvent.objects.get(case=waiting_case, kind=CaseEventKind.REPLY_RECEIVED)
    assert reply.data["body"] == "Still broken."
    assert tls_mailbox.flags() == [{"\\Seen"}]


def test_a_certificate_of_an_untrusted_ca_is_refused(tls_mailbox, waiting_case, settings):
    # given: no CA configured, so only the system's CAs are trusted
    settings.INBOUND_EMAIL_CAFILE = ""
    tls_mailbox.deliver(reply_message(to=reply_address(case=waiting_case), body="Hello?"))

    # when / then: the connection fails verification and nothing is read
    with pytest.raises(ssl.SSLCertVerificationError):
        inbound_poll()
    assert not CaseEvent.objects.filter(kind=CaseEventKind.REPLY_RECEIVED).exists()
    assert tls_mailbox.flags() == [set()]
