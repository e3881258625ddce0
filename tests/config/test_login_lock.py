"""Five wrong passwords for an address pause password sign-in for it, but not its owner:
they are emailed once, told why, and the emailed sign-in code still lets them in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from communities.outbox.models import OutboundEmail
from tests.factories.communities import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def bad_password(client: Client, email: str) -> str:
    response = client.post(reverse("account_login"), {"login": email, "password": "wrong-guess-1"})
    return response.content.decode()


def test_the_owner_is_warned_once_and_signs_in_with_a_code(django_capture_on_commit_callbacks):
    owner = UserFactory(email="owner@example.com", password="correct-horse-battery")
    attacker = Client()
    # when an attacker guesses six times (from several addresses: the lock is per account)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(6):
            attacker.defaults["REMOTE_ADDR"] = f"198.51.100.{n}"
            page = bad_password(attacker, owner.email)
    # then the address is locked for passwords and the page offers a code instead
    assert "sign in now with a code sent by email" in page
    # and the owner was told exactly once, with the way in
    warnings = OutboundEmail.objects.filter(idempotency_key__startswith="account:login_locked:")
    assert warnings.count() == 1
    warning = warnings.get()
    assert warning.to_email == owner.email
    assert "failed attempts" in warning.body_text
    assert reverse("account_request_login_code") in warning.body_text
    # when the real owner, elsewhere, asks for a code and enters it
    phone = Client(REMOTE_ADDR="203.0.113.5")
    right = phone.post(
        reverse("account_login"), {"login": owner.email, "password": "correct-horse-battery"}
    )
    assert "sign in now with a code" in right.content.decode()  # the password is paused
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        phone.post(reverse("account_request_login_code"), {"email": owner.email})
    sent = OutboundEmail.objects.filter(to_email=owner.email, template__contains="login_code")
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", sent.latest("pk").body_text, re.M).group(1)
    done = phone.post(reverse("account_confirm_login_code"), {"code": code})
    # then they are in
    assert done.status_code == 302
    assert phone.get(reverse("staff_home")).wsgi_request.user == owner


def test_no_warning_is_sent_for_an_address_that_has_no_account():
    attacker = Client()
    for n in range(6):
        attacker.defaults["REMOTE_ADDR"] = f"198.51.100.{n}"
        bad_password(attacker, "nobody@example.com")
    assert not OutboundEmail.objects.filter(idempotency_key__startswith="account:login_locked:")
