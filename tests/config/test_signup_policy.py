"""ACCOUNT_SIGNUP: invite-only (the default) or open; staff invitations keep working."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from communities.models import StaffRole, User
from communities.outbox.models import OutboundEmail
from communities.services import staff_invitation_token
from tests.config.test_settings import manage
from tests.factories.communities import StaffInvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


def signup(client: Client, email: str, url: str | None = None):
    return client.post(
        url or reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def accept_url(invitation) -> str:
    return reverse("staff_invitation_accept", args=[staff_invitation_token(invitation=invitation)])


def test_invite_only_is_the_default():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ACCOUNT_SIGNUP)",
        DEBUG="true",
    )
    assert result.stdout.strip().splitlines()[-1] == "invite-only"


def test_invite_only_shows_a_stranger_the_by_invitation_page(client):
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>Sign-up is by invitation · Chorus</title>" in html
    assert "invite you from the Team page" in html
    assert 'name="password1"' not in html


def test_invite_only_refuses_a_strangers_sign_up_post(client):
    page = signup(client, "stranger@example.com")
    assert page.status_code == 200 and "Sign-up is by invitation" in page.content.decode()
    assert not User.objects.exists()


def test_invite_only_refuses_even_an_invited_address_typed_without_the_link(client, organisation):
    # given: an invitation exists, but this visitor never opened its link
    StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    # when: they type the invited address into the sign-up form
    page = signup(client, "ann@example.com")
    # then: nothing is made: only the link proves the mailbox
    assert "Sign-up is by invitation" in page.content.decode()
    assert not User.objects.exists()


def test_invite_only_opens_sign_up_to_someone_who_opened_an_invitation(client, organisation):
    # given: the invited person opened the link signed out
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    client.get(accept_url(invitation))
    # when: they follow "Create an account"
    page = client.get(reverse("account_signup") + "?email=ann%40example.com")
    # then: the form, with the invited address filled in and named
    html = page.content.decode()
    assert page.status_code == 200 and 'name="password1"' in html
    assert 'value="ann@example.com"' in html
    assert "Your invitation was sent to ann@example.com" in html


def test_the_invited_person_signs_up_and_accepts(client, organisation):
    invitation = StaffInvitationFactory(
        organisation=organisation, email="ann@example.com", role=Role.AGENT
    )
    url = accept_url(invitation)
    client.get(url)
    page = client.post(
        reverse("account_signup") + f"?next={url}",
        {"email": "Ann@Example.com", "password1": PASSWORD, "password2": PASSWORD, "next": url},
    )
    assert page.status_code == 302 and page["Location"] == url
    assert EmailAddress.objects.get(email="ann@example.com").verified
    assert client.post(url).status_code == 302
    assert StaffRole.objects.get(user__email="ann@example.com").role == Role.AGENT


def test_an_invitation_opens_sign_up_only_for_its_own_address(client, organisation):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    client.get(accept_url(invitation))
    page = signup(client, "eve@example.com")
    assert page.status_code == 200
    assert "Create your account with the address your invitation was sent to" in (
        page.content.decode()
    )
    assert not User.objects.exists()


@pytest.mark.parametrize("closed", ["revoked_at", "accepted_at"])
def test_a_revoked_or_used_invitation_does_not_open_sign_up(client, organisation, closed):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    client.get(accept_url(invitation))
    setattr(invitation, closed, timezone.now())
    invitation.save()
    page = signup(client, "ann@example.com")
    assert "Sign-up is by invitation" in page.content.decode()
    assert not User.objects.exists()


def test_another_organisations_invitation_also_opens_sign_up_for_its_address(
    client, organisation, other_organisation
):
    # sign-up is not tied to one organisation: the invitation proves the address, and the
    # role is granted only on the invitation page, scoped to the inviting organisation
    invitation = StaffInvitationFactory(organisation=other_organisation, email="ann@example.com")
    client.get(accept_url(invitation))
    assert signup(client, "ann@example.com").status_code == 302
    assert not StaffRole.objects.filter(organisation=organisation).exists()


def test_the_sign_in_page_does_not_offer_sign_up_when_invite_only(client):
    html = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") not in html
    assert "Staff accounts are by invitation" in html


def test_open_sign_up_lets_anyone_create_an_account(client, settings):
    settings.ACCOUNT_SIGNUP = "open"
    assert 'name="password1"' in client.get(reverse("account_signup")).content.decode()
    page = signup(client, "newcomer@example.com")
    assert page.status_code == 302
    assert User.objects.filter(email="newcomer@example.com").exists()
    assert reverse("account_signup") in client.get(reverse("account_login")).content.decode()


def test_open_sign_up_still_refuses_a_taken_address_without_saying_so(client, settings):
    settings.ACCOUNT_SIGNUP = "open"
    UserFactory(email="taken@example.com")
    page = signup(client, "taken@example.com")
    assert page.status_code == 302
    assert User.objects.filter(email="taken@example.com").count() == 1


@pytest.mark.parametrize("value", ["", "closed", "invite_only", "OPEN; rm -rf"])
def test_an_unknown_policy_stops_start_up_with_a_clear_message(value):
    result = manage("check", DEBUG="true", ACCOUNT_SIGNUP=value or " ")
    assert result.returncode != 0
    assert "ACCOUNT_SIGNUP" in result.stderr and "invite-only" in result.stderr


def test_the_policy_is_read_from_the_environment():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ACCOUNT_SIGNUP)",
        DEBUG="true",
        ACCOUNT_SIGNUP="Open",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "open"


def test_open_sign_up_confirms_the_address_through_chorus_pages(client, settings):
    # given: open sign-up, a newcomer signs up
    settings.ACCOUNT_SIGNUP = "open"
    sent = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    # then: told to check their email
    assert "<title>Check your email · Chorus</title>" in sent.content.decode()
    body = OutboundEmail.objects.get(template="account/email/email_confirmation_signup").body_text
    link = re.search(r"(/accounts/confirm-email/\S+/)", body).group(1)
    # when: they open the link, they are asked to confirm the address
    page = client.get(link).content.decode()
    assert "Is new@example.com your email address?" in page
    # and confirming verifies it, and they sign in and go on to create an organisation
    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("account_login")
    assert EmailAddress.objects.get(email="new@example.com").verified
    signed_in = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("staff_home")
