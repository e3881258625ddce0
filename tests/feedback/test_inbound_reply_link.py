"""The reply link page: a customer answers their case without signing in."""

import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_link, reply_token
from feedback.models import CaseEvent
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@pytest.fixture
def case():
    return CaseFactory(status=CaseStatus.WAITING)


def _url(case, **kwargs) -> str:
    return reverse("inbound:reply", args=[reply_token(case=case, **kwargs)])


def _form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return page.context["form"]["nonce"].value()


def _replies(case):
    return list(CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_RECEIVED))


def test_customer_replies_from_the_link_and_the_case_opens(client, case):
    # given
    url = _url(case)
    nonce = _form(client, url)
    # when
    page = client.post(url, {"body": "  Still no refund.  ", "nonce": nonce})
    # then
    assert page.status_code == 200
    assert page.context["sent"]
    [event] = _replies(case)
    assert event.data["body"] == "Still no refund."
    assert event.data["source"] == "link"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_the_link_in_an_email_is_absolute_and_opens_the_page(client, case, settings):
    link = reply_link(case=case)
    assert link.startswith(settings.SITE_URL)
    assert client.get(link.removeprefix(settings.SITE_URL)).status_code == 200


def test_page_is_in_the_language_the_customer_answered_in(client):
    case = CaseFactory(response=ResponseFactory(language="th"))
    page = client.get(_url(case))
    assert page.status_code == 200
    assert 'lang="th"' in page.content.decode()


def test_submitting_the_same_page_twice_records_one_reply(client, case):
    url = _url(case)
    nonce = _form(client, url)
    client.post(url, {"body": "Hello?", "nonce": nonce})
    client.post(url, {"body": "Hello?", "nonce": nonce})
    assert len(_replies(case)) == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"body": "   "},
        {"body": "Hi", "nonce": "not-a-uuid"},
        {"body": "Hi"},
    ],
)
def test_missing_or_malformed_input_is_refused(client, case, data):
    page = client.post(_url(case), data)
    assert page.status_code == 400
    assert _replies(case) == []


def test_oversized_reply_is_refused_with_a_clear_message(client, case, settings):
    settings.INBOUND_MAX_REPLY_CHARS = 50
    url = _url(case)
    page = client.post(url, {"body": "x" * 51, "nonce": _form(client, url)})
    assert page.status_code == 400
    assert "50" in page.content.decode()
    assert _replies(case) == []


@pytest.mark.parametrize("tamper", ["forged", "expired", "garbage"])
def test_forged_or_expired_link_is_refused(client, case, settings, tamper):
    settings.INBOUND_REPLY_MAX_AGE_DAYS = 7
    if tamper == "forged":
        case_id, rest = reply_token(case=case).split(".", 1)
        url = reverse("inbound:reply", args=[f"{int(case_id) + 1}.{rest}"])
    elif tamper == "expired":
        url = _url(case, at=time.time() - 8 * 86400)
    else:
        url = reverse("inbound:reply", args=["1.1.x.<script>"])
    assert client.get(url).status_code == 400
    page = client.post(url, {"body": "Hi", "nonce": "4f0c8a36-0c6a-4b7e-8d0e-0d6c0c8a3c11"})
    assert page.status_code == 400
    assert not CaseEvent.objects.filter(kind=CaseEventKind.REPLY_RECEIVED).exists()


def test_link_for_a_case_of_another_organisation_is_refused(client, case):
    other = CaseFactory()

    class Mismatch:
        pk = case.pk
        organisation_id = other.organisation_id

    url = reverse("inbound:reply", args=[reply_token(case=Mismatch())])
    assert client.get(url).status_code == 400
    assert (
        client.post(
            url, {"body": "Hi", "nonce": "4f0c8a36-0c6a-4b7e-8d0e-0d6c0c8a3c11"}
        ).status_code
        == 400
    )
    assert _replies(case) == []


def test_posting_without_the_csrf_token_is_refused(case):
    client = Client(enforce_csrf_checks=True)
    url = _url(case)
    page = client.post(url, {"body": "Hi", "nonce": "4f0c8a36-0c6a-4b7e-8d0e-0d6c0c8a3c11"})
    assert page.status_code == 403
    assert _replies(case) == []


def test_replies_are_throttled(client, case, settings):
    settings.INBOUND_LINK_REPLIES_PER_HOUR = 2
    url = _url(case)
    codes = [
        client.post(url, {"body": f"Reply {n}", "nonce": _form(client, url)}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
    assert len(_replies(case)) == 2


def test_page_leaks_no_referrer_and_is_not_cached(client, case):
    page = client.get(_url(case))
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cache-Control"] == "no-store"
