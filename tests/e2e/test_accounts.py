"""Signing in, resetting a password and signing in with a code, in Chorus's own pages, in
English, Thai and Hebrew (right to left); every account page passes axe-core."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from communities.outbox.models import OutboundEmail
from tests.e2e.conftest import assert_accessible, sign_in_as, text_of
from tests.factories.communities import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def t(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def subject_of(email: Message) -> str:
    return str(make_header(decode_header(email["Subject"])))


def choose_language(page: Page, language_name: str) -> None:
    """Press a language in the header's language choice (it reloads the same page)."""
    page.get_by_role("group", name=re.compile("Language|ภาษา|שפה|言語")).get_by_role(
        "button", name=language_name
    ).click()


def test_a_staff_member_starts_at_the_start_page_and_signs_in(page: Page, staff_user):
    # given: the start page, as a visitor sees it
    page.goto("/")
    expect(page).to_have_title(re.compile(r".+ · Chorus$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Chorus")
    # when: they follow "Staff sign in" and sign in
    page.get_by_role("link", name="Staff sign in").click()
    expect(page).to_have_title("Sign in · Chorus")
    page.get_by_label("Email").fill("staff@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # then: their organisations
    expect(page.get_by_role("heading", name="Your organisations")).to_be_visible()
    expect(page.get_by_text("Demo Coffee")).to_be_visible()
    # and the start page now leads there
    page.goto("/")
    expect(page.get_by_role("link", name="Your organisations")).to_be_visible()


def test_the_sign_in_page_in_hebrew_reads_right_to_left(page: Page, staff_user):
    # given: the sign-in page, switched to Hebrew with the header's language choice
    page.goto("/accounts/login/")
    choose_language(page, "עברית")
    # then: right to left, with Hebrew title, heading and labels
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "he")
    expect(page).to_have_title(f"{t('he', 'Sign in')} · Chorus")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Sign in"))
    email = page.get_by_label(t("he", "Email"))
    password = page.get_by_label(t("he", "Password"), exact=False)
    expect(email).to_be_visible()
    assert t("he", "Email") != "Email" and t("he", "Password") != "Password"
    # the field sits at the right: its label's right edge lines up with the field's
    box, label = email.bounding_box(), page.locator("label[for=id_login]").bounding_box()
    assert abs((box["x"] + box["width"]) - (label["x"] + label["width"])) < 2
    # when: a wrong password, then the right one
    email.fill("staff@example.com")
    password.fill("not-the-password")
    page.get_by_role("button", name=t("he", "Sign in")).click()
    # then: an announced Hebrew error, then the organisations in Hebrew
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_label(t("he", "Password"), exact=False).fill(PASSWORD)
    page.get_by_role("button", name=t("he", "Sign in")).click()
    expect(page.get_by_role("heading", name=t("he", "Your organisations"))).to_be_visible()


def test_the_password_reset_in_hebrew_sends_a_hebrew_email(page: Page, inbox, staff_user):
    # given: the reset page in Hebrew
    page.goto("/accounts/login/")
    choose_language(page, "עברית")
    page.get_by_role("link", name=t("he", "Forgot your password?")).click()
    # then: right to left, Hebrew heading and label
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page).to_have_title(f"{t('he', 'Reset your password')} · Chorus")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Reset your password"))
    # when: they ask for a link
    page.get_by_label(t("he", "Email")).fill("staff@example.com")
    page.get_by_role("button", name=t("he", "Email me a reset link")).click()
    # then: told to check their email, in Hebrew, and the email is Hebrew
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Check your email"))
    [email] = inbox.wait_for("staff@example.com")
    assert subject_of(email) == f"[Chorus] {t('he', 'Choose a new Chorus password')}"
    link = re.search(r"(http\S+/accounts/password/reset/key/\S+/)", text_of(email)).group(1)
    # when: they open the link and choose a new password
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Choose a new password"))
    page.locator("#id_password1").fill("a-brand-new-Passphrase-7")
    page.locator("#id_password2").fill("a-brand-new-Passphrase-7")
    page.get_by_role("button", name=t("he", "Save the new password")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Password changed"))
    staff_user.refresh_from_db()
    assert staff_user.check_password("a-brand-new-Passphrase-7")


def test_the_start_and_sign_in_pages_in_thai(page: Page):
    # given: a visitor arrives with ?lang=th
    page.goto("/?lang=th")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    # when: they follow the staff sign-in link, which keeps Thai
    page.get_by_role("link", name=t("th", "Staff sign in")).click()
    # then: the sign-in page is Thai, title, heading and labels
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page).to_have_title(f"{t('th', 'Sign in')} · Chorus")
    expect(page.get_by_label(t("th", "Password"), exact=False)).to_be_visible()
    # and the reset page too
    page.get_by_role("link", name=t("th", "Forgot your password?")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("th", "Reset your password"))


def test_a_member_signs_in_with_an_emailed_code(page: Page, inbox, member, community):
    # given: a member (no password needed) at the start page, in Hebrew
    page.goto("/?lang=he")
    page.get_by_role("link", name=t("he", "Member sign in")).click()
    expect(page).to_have_title(f"{t('he', 'Sign in with a code')} · Chorus")
    # when: they ask for a code
    page.get_by_label(t("he", "Email")).fill(member.email)
    page.get_by_role("button", name=t("he", "Email me a code")).click()
    # then: a Hebrew email with the code, and the code page
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Enter your sign-in code"))
    [email] = inbox.wait_for(member.email)
    assert subject_of(email) == f"[Chorus] {t('he', 'Your Chorus sign-in code')}"
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", text_of(email)).group(0)
    assert_accessible(page)
    # when: they enter it
    page.get_by_label(t("he", "Code")).fill(code)
    page.get_by_role("button", name=t("he", "Sign in")).click()
    # then: their community's portal
    expect(page).to_have_url(re.compile(rf"/c/{community.organisation.slug}/{community.slug}/$"))
    assert OutboundEmail.objects.filter(to_email=member.email, language="he").exists()


PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/password/reset/key/x-bad-key/",
    "/accounts/password/reset/key/done/",
    "/accounts/login/code/",
    "/accounts/confirm-email/",
    "/accounts/confirm-email/no-such-key/",
]
SIGNED_IN_PAGES = [
    "/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
]


@pytest.mark.parametrize("language", ["en", "he"])
def test_every_account_page_passes_axe_core(page: Page, context, live_server, language, settings):
    settings.ACCOUNT_SIGNUP = "open"  # the sign-up form itself, not only "by invitation"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    if language != "en":
        choose_language(page, "עברית")
    for url in PUBLIC_PAGES:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page).to_have_title(re.compile(r"\S.* · Chorus$"))
        assert_accessible(page)
    # a form with its errors showing
    page.goto("/accounts/login/")
    page.get_by_role("button", name=t(language, "Sign in")).click()
    expect(page.locator(".is-invalid, [role=alert]").first).to_be_visible()
    assert_accessible(page)
    # and the pages of a signed-in person (a member has no password: "set" a password)
    user = UserFactory(email="owner@example.com")
    sign_in_as(context, user, live_server)
    for url in SIGNED_IN_PAGES:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page).to_have_title(re.compile(r"\S.* · Chorus$"))
        assert_accessible(page)
    user.set_unusable_password()
    user.save()
    sign_in_as(context, user, live_server)  # a new password hash ends the old session
    page.goto("/accounts/password/set/")
    expect(page).to_have_title(f"{t(language, 'Set a password')} · Chorus")
    assert_accessible(page)


def test_the_closed_sign_up_page_explains_and_passes_axe_core_on_a_phone(page: Page):
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-up is by invitation")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert_accessible(page)
    choose_language(page, "עברית")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("he", "Sign-up is by invitation"))
    assert_accessible(page)
