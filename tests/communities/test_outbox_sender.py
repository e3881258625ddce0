"""The outbox sends on an organisation's behalf: its sender name in From (at the site's own
address) and its reply address in Reply-To, written with the row and honoured on send."""

import pytest
from django.core import mail

from communities.outbox.services import outbox_enqueue, outbox_send, sender_headers
from tests.factories.communities import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_an_organisation_with_no_sender_settings_sends_as_the_site(settings):
    organisation = OrganisationFactory()
    assert sender_headers(organisation=organisation) == {}
    assert sender_headers(organisation=None) == {}


def test_the_sender_name_and_reply_address_reach_the_message(settings):
    # given
    settings.DEFAULT_FROM_EMAIL = "Chorus <noreply@chorus.example>"
    organisation = OrganisationFactory(
        name="Demo Coffee", sender_name="Demo Coffee Care", reply_to_email="care@demo.example"
    )
    email = outbox_enqueue(
        organisation=organisation,
        to_email="kim@example.com",
        template="followup",
        context={"organisation_name": "Demo Coffee", "survey_title": "Visit"},
        language="en",
        headers=sender_headers(organisation=organisation),
        idempotency_key="test:sender",
        enqueue=False,
    )
    # when
    assert outbox_send(email_id=email.pk)
    # then: the row records what went out, and the message says it
    assert email.headers == {
        "From": "Demo Coffee Care <noreply@chorus.example>",
        "Reply-To": "care@demo.example",
    }
    [message] = mail.outbox
    assert message.from_email == "Demo Coffee Care <noreply@chorus.example>"
    assert message.reply_to == ["care@demo.example"]
    rendered = message.message()
    assert rendered["From"] == "Demo Coffee Care <noreply@chorus.example>"
    assert rendered["Reply-To"] == "care@demo.example"
    assert rendered.get_all("Reply-To") == ["care@demo.example"]


def test_a_sender_name_with_quotes_and_commas_stays_one_address(settings):
    settings.DEFAULT_FROM_EMAIL = "noreply@chorus.example"
    organisation = OrganisationFactory(sender_name='Demo, "the" Coffee')
    assert sender_headers(organisation=organisation) == {
        "From": '"Demo, \\"the\\" Coffee" <noreply@chorus.example>'
    }
