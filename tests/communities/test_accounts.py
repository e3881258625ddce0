"""Accounts: email is the login, and email verification is mandatory."""

import pytest
from django.urls import reverse

from communities.models import User
from communities.outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_signup_sends_a_verification_email_through_the_outbox(
    client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    # given: sign-up open to anyone (invite-only is the default: tests/config/test_signup_policy.py)
    settings.ACCOUNT_SIGNUP = "open"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("account_signup"),
            {
                "email": "New.Person@Example.com",
                "password1": "a-long-pass-phrase-42",
                "password2": "a-long-pass-phrase-42",
            },
        )
    # then
    assert page.status_code == 302
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    email = OutboundEmail.objects.get()
    assert email.to_email.lower() == "new.person@example.com"
    assert email.status == "sent" and len(mailoutbox) == 1
    assert "/accounts/confirm-email/" in mailoutbox[0].body
    assert "your Chorus account" in mailoutbox[0].body and "[Chorus]" in mailoutbox[0].subject


def test_unverified_user_cannot_sign_in(client):
    User.objects.create_user("unverified@example.com", "a-long-pass-phrase-42")
    page = client.post(
        reverse("account_login"),
        {
            "login": "unverified@example.com",
            "password": "a-long-pass-phrase-42",
        },
    )
    assert "_auth_user_id" not in client.session
    assert page.status_code in (200, 302)


def test_verified_user_signs_in_with_email(client, member_user):
    page = client.post(
        reverse("account_login"),
        {
            "login": "MEMBER@example.com",
            "password": "correct-horse-battery",
        },
    )
    assert page.status_code == 302
    assert client.session["_auth_user_id"] == str(member_user.pk)


def test_duplicate_signup_makes_no_second_account_and_tells_the_owner_by_email(
    client, member_user, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.ACCOUNT_SIGNUP = "open"
    # allauth answers as if it worked, so the page does not reveal who has an account;
    # the owner of the address is told by email instead.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {
                "email": "member@example.com",
                "password1": "a-long-pass-phrase-42",
                "password2": "a-long-pass-phrase-42",
            },
        )
    assert User.objects.count() == 1
    assert [m.to for m in mailoutbox] == [["member@example.com"]]
