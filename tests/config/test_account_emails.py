"""allauth's emails are Chorus's, in the language the person used on the page (or saved)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext

from communities.outbox.models import OutboundEmail
from tests.factories.communities import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def speaking(language: str | None = None, accept: str | None = None) -> Client:
    """A browser whose language switch says `language`, or that only sends Accept-Language."""
    client = Client(headers={"accept-language": accept} if accept else {})
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def last_email(template: str) -> OutboundEmail:
    return OutboundEmail.objects.filter(template=f"account/email/{template}").latest("created_at")


def assert_in_language(email: OutboundEmail, language: str, subject: str, body: str) -> None:
    assert email.language == language
    assert email.subject == f"[Chorus] {in_language(language, subject)}"
    assert in_language(language, body).split("%(")[0] in email.body_text
    with translation.override(language):
        assert email.body_text.startswith(pgettext("account email", "Hello,"))
    direction = "rtl" if language == "he" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in email.body_html
    if language != "en":
        assert in_language(language, subject) != subject, "not translated"


@pytest.mark.parametrize("language", ["en", "th", "he", "ja"])
def test_password_reset_email_speaks_the_language_chosen_on_the_page(language):
    UserFactory(email="ann@example.com", locale="en")
    # when: the reset is asked for on a page switched to `language`
    page = speaking(language).post(reverse("account_reset_password"), {"email": "ann@example.com"})
    # then: the email is Chorus's, in that language, with the link
    assert page.status_code == 302
    email = last_email("password_reset_key")
    assert_in_language(
        email,
        language,
        "Choose a new Chorus password",
        "Someone, hopefully you, asked to reset the password of the Chorus account of %(email)s. "
        "To choose a new password, open this link:",
    )
    assert re.search(r"/accounts/password/reset/key/\S+/", email.body_text)
    assert "ann@example.com" in email.body_text


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_without_a_choice_on_the_page_the_saved_language_of_the_account_wins(language):
    UserFactory(email="ann@example.com", locale=language)
    speaking(accept="en").post(reverse("account_reset_password"), {"email": "ann@example.com"})
    assert last_email("password_reset_key").language == language


def test_a_choice_on_the_page_wins_over_the_saved_language():
    UserFactory(email="ann@example.com", locale="ja")
    speaking("he").post(reverse("account_reset_password"), {"email": "ann@example.com"})
    assert last_email("password_reset_key").language == "he"


def test_with_neither_the_browsers_language_is_used():
    UserFactory(email="ann@example.com", locale="")
    speaking(accept="th-TH,th;q=0.9").post(
        reverse("account_reset_password"), {"email": "ann@example.com"}
    )
    assert last_email("password_reset_key").language == "th"


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_sign_in_code_email_is_translated(language, member_user):
    client = speaking(language)
    page = client.post(reverse("account_request_login_code"), {"email": "member@example.com"})
    assert page.status_code == 302
    email = last_email("login_code")
    assert_in_language(email, language, "Your Chorus sign-in code", "Your sign-in code:")
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", email.body_text).group(0)
    # and the code page, in the same language, takes the code
    confirm = client.get(reverse("account_confirm_login_code")).content.decode()
    assert f'<html lang="{language}"' in confirm
    assert in_language(language, "Enter your sign-in code") in confirm
    signed_in = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(member_user.pk)


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_signup_confirmation_email_is_translated(language, settings):
    settings.ACCOUNT_SIGNUP = "open"
    speaking(language).post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    email = last_email("email_confirmation_signup")
    assert_in_language(
        email,
        language,
        "Confirm your email address",
        "Please confirm that %(email)s is the address of your Chorus account. Open this link:",
    )
    assert "/accounts/confirm-email/" in email.body_text


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_account_already_exists_email_is_translated(language, settings):
    settings.ACCOUNT_SIGNUP = "open"
    UserFactory(email="taken@example.com", locale="")
    speaking(language).post(
        reverse("account_signup"),
        {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    email = last_email("account_already_exists")
    assert_in_language(
        email,
        language,
        "You already have a Chorus account",
        "Someone, hopefully you, tried to create a Chorus account with %(email)s, but an account "
        "with this address already exists.",
    )
    assert "/accounts/password/reset/" in email.body_text


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_unknown_account_email_does_not_offer_sign_up_when_invite_only(language):
    speaking(language).post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    email = last_email("unknown_account")
    assert_in_language(
        email,
        language,
        "No Chorus account uses this address",
        "Someone, hopefully you, tried to sign in to Chorus or reset a password with %(email)s, "
        "but no account uses this address.",
    )
    assert "/accounts/signup/" not in email.body_text + email.body_html
    assert (
        in_language(
            language,
            "Staff accounts are by invitation: ask the owner or an admin of your organisation "
            "to invite you.",
        )
        in email.body_text
    )


def test_unknown_account_email_offers_sign_up_when_open(settings):
    settings.ACCOUNT_SIGNUP = "open"
    speaking("en").post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    email = last_email("unknown_account")
    assert "/accounts/signup/" in email.body_text and "/accounts/signup/" in email.body_html


def test_an_address_in_an_email_is_escaped_in_html_and_plain_in_text(settings):
    settings.ACCOUNT_SIGNUP = "open"
    UserFactory(email="o'brien@example.com", locale="")
    speaking("en").post(
        reverse("account_signup"),
        {"email": "o'brien@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    email = last_email("account_already_exists")
    assert "o'brien@example.com" in email.body_text
    assert "o&#x27;brien@example.com" in email.body_html
