"""The per-case reply address and its signed token."""

import time

import pytest

from feedback.inbound.addresses import (
    ReplyTokenInvalid,
    reply_address,
    reply_headers,
    reply_token,
    reply_token_read,
    tokens_in,
)
from tests.factories.feedback import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(settings):
    settings.INBOUND_REPLY_DOMAIN = "replies.chorus.example"
    return CaseFactory()


def test_reply_token_names_the_case_and_its_organisation(case):
    # when
    token = reply_token(case=case)
    # then
    assert reply_token_read(token) == (case.pk, case.organisation_id)


def test_reply_token_survives_a_mail_server_that_folds_case(case):
    # given: some servers upper- or lower-case the local part on the way
    token = reply_token(case=case)
    # then
    assert reply_token_read(token.upper()) == (case.pk, case.organisation_id)


def test_reply_token_with_another_case_id_is_forged(case):
    # given: the customer edits the case number in the address
    case_id, rest = reply_token(case=case).split(".", 1)
    tampered = f"{int(case_id) + 1}.{rest}"
    # then
    with pytest.raises(ReplyTokenInvalid) as refused:
        reply_token_read(tampered)
    assert refused.value.code == "forged"


def test_reply_token_signed_with_another_secret_is_forged(case, settings):
    token = reply_token(case=case)
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    with pytest.raises(ReplyTokenInvalid) as refused:
        reply_token_read(token)
    assert refused.value.code == "forged"


def test_reply_token_expires_after_the_configured_days(case, settings):
    # given
    settings.INBOUND_REPLY_MAX_AGE_DAYS = 30
    old = reply_token(case=case, at=time.time() - 31 * 86400)
    recent = reply_token(case=case, at=time.time() - 29 * 86400)
    # then
    assert reply_token_read(recent) == (case.pk, case.organisation_id)
    with pytest.raises(ReplyTokenInvalid) as refused:
        reply_token_read(old)
    assert refused.value.code == "expired"


@pytest.mark.parametrize("token", ["", "abc", "1.2.3", "1.2.zz." + "g" * 32, "1.2.3." + "0" * 31])
def test_reply_token_malformed_is_refused(token):
    with pytest.raises(ReplyTokenInvalid) as refused:
        reply_token_read(token)
    assert refused.value.code == "malformed"


def test_reply_headers_route_replies_to_the_case_address(case):
    # when
    headers = reply_headers(case=case)
    # then
    local, _, domain = headers["Reply-To"].partition("@")
    assert domain == "replies.chorus.example"
    assert local.startswith("reply+")
    assert len(local) <= 64  # RFC 5321's limit on a local part
    assert tokens_in([headers["Reply-To"]]) == [local.removeprefix("reply+")]


def test_reply_headers_are_empty_without_a_reply_domain(case, settings):
    settings.INBOUND_REPLY_DOMAIN = ""
    assert reply_headers(case=case) == {}
    assert reply_address(case=case) == ""


def test_tokens_in_ignores_other_domains_and_plain_addresses(case):
    token = reply_token(case=case)
    found = tokens_in(
        [
            f"Shop <reply+{token}@elsewhere.example>, kim@example.com",
            f'"Siam" <reply+{token}@replies.chorus.example>',
        ]
    )
    assert found == [token]
