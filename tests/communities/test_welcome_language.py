"""The welcome message after confirming (or accepting an invitation) is in the member's
language, whatever language the browser that opened the email link asks for."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from communities.choices import JoinMode
from communities.flows import member_invite
from communities.models import Member
from communities.outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db


def in_language(language: str, text: str, **values: str) -> str:
    with translation.override(language):
        return gettext(text) % values


def home_url(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


def english_browser() -> Client:
    """The phone that opens the email link: it asks for English, with no language chosen."""
    return Client(headers={"accept-language": "en-GB,en;q=0.9"})


@pytest.mark.parametrize("language", ["th", "he"])
def test_welcome_after_confirming_is_in_the_language_the_member_joined_in(community, language):
    # given: someone joined on the community's page in `language`
    joiner = Client()
    joiner.post(
        reverse("community:join", args=[community.organisation.slug, community.slug])
        + f"?lang={language}",
        {"name": "Ann Lee", "email": "ann@example.com", "language": language, "consent": "on"},
    )
    body = OutboundEmail.objects.get(template="join_confirm").body_text
    link = re.search(r"(/c/\S+/confirm/\S+/)", body).group(1)
    # when: they open the confirmation link in a browser that asks for English, and
    # confirm on the page it shows
    browser = english_browser()
    browser.get(link)
    confirmed = browser.post(link)
    portal = browser.get(confirmed["Location"]).content.decode()
    # then: the portal, in their language, welcomes them in it too
    welcome = in_language(
        language,
        "Welcome to %(community)s! Your email address is confirmed.",
        community=community.name,
    )
    assert welcome != f"Welcome to {community.name}! Your email address is confirmed."
    assert f'<html lang="{language}"' in portal
    assert welcome in portal
    assert "Your email address is confirmed." not in portal


@pytest.mark.parametrize("language", ["th", "he"])
def test_welcome_after_accepting_an_invitation_is_in_the_language_chosen_on_the_form(
    community, staff_user, language
):
    # given: an invitation to a closed community, opened in an English browser
    community.join_mode = JoinMode.INVITE_ONLY
    community.save()
    member_invite(community=community, email="ann@example.com", name="Ann", invited_by=staff_user)
    body = OutboundEmail.objects.get(template="member_invitation").body_text
    link = re.search(r"(/c/\S+/invitation/\S+/)", body).group(1)
    browser = english_browser()
    # when: they accept, choosing `language` on the form
    accepted = browser.post(link, {"name": "Ann Lee", "language": language, "consent": "on"})
    portal = browser.get(accepted["Location"]).content.decode()
    # then: the portal and its welcome are in that language
    assert Member.objects.get(email="ann@example.com").locale == language
    assert f'<html lang="{language}"' in portal
    assert in_language(language, "Welcome to %(community)s!", community=community.name) in portal
    assert f"Welcome to {community.name}!" not in portal
