"""The account pages (allauth's) and the start page wear Chorus's layout in four languages."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from communities.models import User
from tests.factories.communities import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "th", "he", "ja"]

# (url, the English heading, which is also the title before " · Chorus")
ANONYMOUS_PAGES = [
    (reverse("account_login"), "Sign in"),
    (reverse("account_signup"), "Sign-up is by invitation"),
    (reverse("account_reset_password"), "Reset your password"),
    (reverse("account_reset_password_done"), "Check your email"),
    (reverse("account_reset_password_from_key", args=["x", "bad-key"]), "This link does not work"),
    (reverse("account_reset_password_from_key_done"), "Password changed"),
    (reverse("account_request_login_code"), "Sign in with a code"),
    (reverse("account_email_verification_sent"), "Check your email"),
    (reverse("account_confirm_email", args=["no-such-key"]), "Confirm your email address"),
    (reverse("start"), None),
]
SIGNED_IN_PAGES = [
    (reverse("account_email"), "Email addresses"),
    (reverse("account_change_password"), "Change your password"),
    (reverse("account_logout"), "Sign out"),
    (reverse("account_reauthenticate"), "Confirm it is you"),
]


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def speaking(language: str, user: User | None = None) -> Client:
    """A browser whose language switch is set to `language`, signed in as `user`."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def title_of(html: str) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())


def h1_of(html: str) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).split()
    )


@pytest.fixture
def staff_person(staff_user):
    return staff_user


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("url", "heading"), ANONYMOUS_PAGES)
def test_every_public_account_page_has_a_title_heading_and_chorus_layout(url, heading, language):
    # when: a signed-out visitor who chose `language` opens the page
    page = speaking(language).get(url)
    # then: Chorus's layout in that language, a real title, and a heading
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<html lang="{language}" dir="{"rtl" if language == "he" else "ltr"}">' in html
    assert ("bootstrap.rtl.min.css" in html) == (language == "he")
    assert 'href="/">Chorus</a>' in html
    assert title_of(html).endswith("· Chorus") and len(title_of(html)) > len("· Chorus") + 2
    if heading is not None:
        assert h1_of(html) == in_language(language, heading)
        assert title_of(html) == f"{in_language(language, heading)} · Chorus"
        if language != "en":
            assert in_language(language, heading) != heading, "the heading is not translated"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("url", "heading"), SIGNED_IN_PAGES)
def test_every_signed_in_account_page_has_a_title_heading_and_chorus_layout(
    url, heading, language, staff_person
):
    page = speaking(language, staff_person).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'lang="{language}"' in html
    assert title_of(html) == f"{in_language(language, heading)} · Chorus"
    assert h1_of(html) == in_language(language, heading)
    # and the account's own tabs, and a way out
    assert in_language(language, "Sign out") in html


def test_a_member_without_a_password_is_offered_to_set_one(client, member_user):
    member_user.set_unusable_password()
    member_user.save()
    client.force_login(member_user)
    page = client.get(reverse("account_change_password"), follow=True)
    assert page.redirect_chain[-1][0] == reverse("account_set_password")
    assert title_of(page.content.decode()) == "Set a password · Chorus"


def test_the_sign_in_page_labels_every_field_and_offers_a_code_and_a_reset(client):
    html = client.get(reverse("account_login")).content.decode()
    assert re.search(r'<label\s+for="id_login"[^>]*>\s*Email', html)
    assert re.search(r'<label\s+for="id_password"[^>]*>\s*Password', html)
    assert reverse("account_request_login_code") in html
    assert reverse("account_reset_password") in html
    assert ">Sign in</button>" in html


def test_a_wrong_password_is_refused_with_an_announced_translated_error(client, staff_user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "he"
    page = client.post(
        reverse("account_login"), {"login": "staff@example.com", "password": "wrong-password"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    alert = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', html, re.S)
    assert alert and alert.group(1).strip()
    # allauth's message, in Hebrew from allauth's own catalogue
    with translation.override("he"):
        from allauth.account.adapter import get_adapter

        expected = str(get_adapter().error_messages["email_password_mismatch"])
    assert expected != "The email address and/or password you specified are not correct."
    assert expected in html
    assert "_auth_user_id" not in client.session


def test_signed_in_staff_land_on_their_organisations(client, staff_user):
    page = client.post(
        reverse("account_login"),
        {"login": "staff@example.com", "password": "correct-horse-battery"},
    )
    assert page.status_code == 302 and page["Location"] == reverse("staff_home")


def test_a_member_of_one_community_lands_on_its_portal_after_signing_in(client, member, community):
    page = client.post(
        reverse("account_login"),
        {"login": "member@example.com", "password": "correct-horse-battery"},
    )
    assert page.status_code == 302
    assert page["Location"] == reverse(
        "surveys:community_home", args=[community.organisation.slug, community.slug]
    )


def test_next_wins_over_the_landing_page(client, staff_user):
    page = client.post(
        reverse("account_login") + "?next=/accounts/email/",
        {
            "login": "staff@example.com",
            "password": "correct-horse-battery",
            "next": "/accounts/email/",
        },
    )
    assert page["Location"] == "/accounts/email/"


def test_email_page_lists_the_addresses_with_a_legend_and_labels(staff_client, staff_user):
    EmailAddress.objects.create(user=staff_user, email="second@example.com", verified=False)
    html = staff_client.get(reverse("account_email")).content.decode()
    assert "<legend" in html and "second@example.com" in html
    assert html.count('class="form-check-label"') == 2
    assert "Not confirmed" in html and "Main address" in html


# --- the start page -------------------------------------------------------------------------


def test_start_page_says_what_chorus_is_and_where_staff_and_members_sign_in(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1" in html and "listens to its customers" in html
    assert f'href="{reverse("account_login")}">Staff sign in</a>' in html
    assert f'href="{reverse("account_request_login_code")}">Member sign in</a>' in html
    assert reverse("staff_home") not in html


@pytest.mark.parametrize("language", ["th", "he", "ja"])
def test_start_page_speaks_the_language_chosen_with_lang_and_remembers_it(client, language):
    # when: an anonymous visitor opens /?lang=
    page = client.get(f"/?lang={language}")
    # then: the page is in that language, and the choice is kept for the sign-in page
    html = page.content.decode()
    assert f'<html lang="{language}"' in html
    assert in_language(language, "Staff sign in") in html
    assert in_language(language, "Staff sign in") != "Staff sign in"
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    login = client.get(reverse("account_login")).content.decode()
    assert f'<html lang="{language}"' in login


def test_start_page_ignores_an_unknown_language(client):
    page = client.get("/?lang=xx")
    assert '<html lang="en"' in page.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in page.cookies


def test_start_page_language_switch_works_for_an_anonymous_visitor(client):
    html = client.get("/").content.decode()
    assert 'name="language" value="he"' in html
    switched = client.post(reverse("staff_language"), {"language": "he", "next": "/"})
    assert switched.status_code == 302 and switched["Location"] == "/"
    assert '<html lang="he" dir="rtl">' in client.get("/").content.decode()


def test_start_page_leads_signed_in_staff_to_their_organisations(staff_client):
    html = staff_client.get("/").content.decode()
    assert f'href="{reverse("staff_home")}"' in html and "Staff sign in" not in html


def test_start_page_leads_a_member_to_their_portals(member_client, member, community):
    other = MemberFactory(user=member.user, email=member.email)
    html = member_client.get("/").content.decode()
    for each in (community, other.community):
        portal = reverse("surveys:community_home", args=[each.organisation.slug, each.slug])
        assert f'href="{portal}"' in html
    assert f'href="{reverse("staff_home")}"' not in html


def test_start_page_leaves_out_a_community_the_member_left(member_client, member):
    member.status = "unsubscribed"
    member.save()
    portal = reverse(
        "surveys:community_home", args=[member.community.organisation.slug, member.community.slug]
    )
    assert portal not in member_client.get("/").content.decode()


def test_someone_with_neither_role_is_offered_the_staff_home(client):
    client.force_login(UserFactory(email="new@example.com"))
    assert f'href="{reverse("staff_home")}"' in client.get("/").content.decode()


def test_a_member_of_several_communities_lands_on_the_start_page_that_lists_them(
    client, member, community
):
    MemberFactory(user=member.user, email=member.email)
    page = client.post(
        reverse("account_login"),
        {"login": "member@example.com", "password": "correct-horse-battery"},
    )
    assert page["Location"] == reverse("start")
