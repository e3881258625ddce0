"""The join confirmation and invitation-to-join links are single-use and safe from mail
scanners: opening one (GET, HEAD) shows a page and changes nothing; the page's POST
confirms and signs in once; afterwards the link says it was used and offers a code
sign-in. Links sent before tokens were stored (signed payloads) keep working, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from communities.choices import JoinMode, MemberStatus
from communities.flows import member_invite
from communities.links import link_make
from communities.models import ConsentRecord, LinkToken, Member
from communities.outbox.models import OutboundEmail
from tests.factories.communities import (
    CommunityFactory,
    LinkTokenFactory,
    MemberFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def join_url(community) -> str:
    return reverse("community:join", args=[community.organisation.slug, community.slug])


def confirm_url(community, token: str) -> str:
    return reverse("community:confirm", args=[community.organisation.slug, community.slug, token])


def invitation_url(community, token: str) -> str:
    return reverse(
        "community:invitation", args=[community.organisation.slug, community.slug, token]
    )


def home_url(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


def code_sign_in(language: str) -> str:
    return f"{reverse('account_request_login_code')}?lang={language}"


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def joined(community, *, language: str = "en") -> str:
    """Someone joins on the community's page; the path of the link their email carries."""
    Client().post(
        join_url(community),
        {"name": "Ann Lee", "email": "ann@example.com", "language": language, "consent": "on"},
    )
    body = OutboundEmail.objects.filter(template="join_confirm").latest("created_at").body_text
    return re.search(r"(/c/\S+/confirm/\S+/)", body).group(1)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def english_browser() -> Client:
    return Client(headers={"accept-language": "en-GB,en;q=0.9"})


# --- opening the link changes nothing -----------------------------------------------------------


def test_a_mail_scanner_opening_the_confirm_link_confirms_nobody_and_signs_nobody_in(community):
    # given
    link = joined(community)
    scanner = Client()
    # when: a scanner fetches it, as scanners do, with GET and HEAD, several times
    opened = [scanner.get(link), scanner.head(link), scanner.get(link)]
    # then: a page each time, and nothing changed
    assert [page.status_code for page in opened] == [200, 200, 200]
    assert not signed_in(scanner)
    member = Member.objects.get()
    assert member.status == MemberStatus.PENDING and member.user is None
    assert LinkToken.objects.get(kind="member_confirm").used_at is None
    # and: the person still confirms with their link afterwards
    person = Client()
    assert person.post(link)["Location"] == home_url(community)
    assert signed_in(person)


def test_the_confirm_page_speaks_the_members_language_and_posts_with_a_csrf_token(community):
    # given: someone who joined in Thai opens the link in an English browser
    link = joined(community, language="th")
    # when
    page = english_browser().get(link)
    html = page.content.decode()
    # then: the page, in Thai, has one button in a POST form carrying a CSRF token
    assert '<html lang="th"' in html
    assert in_language("th", "Confirm and continue") in html
    assert in_language("th", "Confirm and continue") != "Confirm and continue"
    form = re.search(r'<form method="post"[^>]*>(.*?)</form>', html, re.S).group(1)
    assert 'name="csrfmiddlewaretoken"' in form and 'type="submit"' in form
    assert page["Referrer-Policy"] == "same-origin"


def test_lang_in_the_address_still_chooses_the_page_language(community):
    link = joined(community, language="th")
    page = english_browser().get(link + "?lang=ja")
    assert '<html lang="ja"' in page.content.decode()


def test_a_confirm_post_without_the_csrf_token_is_refused_and_changes_nothing(community):
    link = joined(community)
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(link).status_code == 403
    assert Member.objects.get().status == MemberStatus.PENDING
    assert not signed_in(browser)


def test_the_confirm_button_works_with_the_pages_own_csrf_token(community):
    # given: a browser that enforces CSRF, as a real one is held to
    link = joined(community)
    browser = Client(enforce_csrf_checks=True)
    html = browser.get(link).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    # when
    page = browser.post(link, {"csrfmiddlewaretoken": token})
    # then
    assert page.status_code == 302 and signed_in(browser)
    assert Member.objects.get().status == MemberStatus.NEW


# --- using it once ------------------------------------------------------------------------------


def test_the_confirm_link_signs_in_once_then_offers_a_code_in_the_members_language(community):
    # given: the member confirmed in Thai, then signed out
    link = joined(community, language="th")
    browser = english_browser()
    assert browser.post(link).status_code == 302
    browser.logout()
    # when: the link is opened again, and its button pressed again (another tab)
    page = browser.get(link)
    again = browser.post(link)
    # then: "already used", with the code sign-in in Thai, and nobody signed in
    for response in (page, again):
        html = response.content.decode()
        assert response.status_code == 409
        assert '<html lang="th"' in html
        assert (
            in_language(
                "th",
                "This link has already been used. To come back, sign in with a code we email you.",
            )
            in html
        )
        assert code_sign_in("th") in html
    assert not signed_in(browser)
    assert Member.objects.get().status == MemberStatus.NEW


def test_another_confirmation_email_cannot_sign_in_once_the_member_confirmed(community):
    # given: two confirmation emails (they joined twice), the first one used
    first = joined(community)
    second = joined(community)
    assert first != second
    Client().post(first)
    # when
    stranger = Client()
    page = stranger.post(second)
    # then
    assert page.status_code == 409 and not signed_in(stranger)


def test_a_refused_confirmation_leaves_the_link_unused(community):
    # given: the address's account already belongs to another member of this community
    user = UserFactory(email="ann@example.com")
    MemberFactory(community=community, email="ann.other@example.com", user=user)
    link = joined(community)
    # when
    page = Client().post(link)
    # then
    assert page.status_code == 409
    assert LinkToken.objects.get(kind="member_confirm").used_at is None
    assert Member.objects.get(email="ann@example.com").status == MemberStatus.PENDING


def test_a_stored_link_keeps_only_the_hash_of_its_token(community):
    link = joined(community)
    token = link.rstrip("/").rsplit("/", 1)[1]
    row = LinkToken.objects.get(kind="member_confirm")
    assert token not in {str(getattr(row, f.attname)) for f in LinkToken._meta.concrete_fields}
    assert "ann" not in link


# --- bad links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,  # the shape of a token, but not one we made
        "a" * 5000,  # oversized
        "eyJtIjoxfQ:1abc:forged",  # the shape of a signed payload, forged
    ],
)
def test_forged_or_oversized_confirm_links_are_400_on_get_and_post(client, community, token):
    joined(community)
    url = confirm_url(community, token)
    assert client.get(url).status_code == 400
    assert client.post(url).status_code == 400
    assert Member.objects.get().status == MemberStatus.PENDING and not signed_in(client)


def test_a_confirm_link_of_another_organisation_is_400(client, community):
    # given: a pending member elsewhere and their genuine link
    elsewhere = CommunityFactory(organisation=OrganisationFactory())
    row = LinkTokenFactory(member__community=elsewhere)
    # when: it is opened under this organisation's community
    url = confirm_url(community, row.token)
    # then
    assert client.get(url).status_code == 400
    assert client.post(url).status_code == 400
    row.member.refresh_from_db()
    assert row.member.status == MemberStatus.PENDING and not signed_in(client)


def test_a_confirm_link_dies_with_an_address_change(client, community):
    link = joined(community)
    Member.objects.update(email="changed@example.com")
    assert client.post(link).status_code == 400


def test_an_expired_stored_link_offers_a_new_one_and_signs_nobody_in(client, community):
    link = joined(community)
    LinkToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link).status_code == 410
    resent = client.post(link)
    assert resent.status_code == 302 and not signed_in(client)
    assert Member.objects.get().status == MemberStatus.PENDING
    assert OutboundEmail.objects.filter(template="join_confirm").count() == 2


# --- links sent before tokens were stored ---------------------------------------------------------


def _old_confirm_link(member, **extra) -> str:
    """A link minted the old way: the address signed into the URL."""
    token = link_make("member_confirm", {"m": member.pk, "e": member.email, **extra})
    return confirm_url(member.community, token)


def test_an_old_confirm_link_still_confirms_once(community):
    # given: a link emailed before the change
    member = MemberFactory(community=community, status=MemberStatus.PENDING, locale="he")
    link = _old_confirm_link(member)
    browser = Client()
    # when: opened, then confirmed
    opened = browser.get(link)
    assert opened.status_code == 200 and '<html lang="he"' in opened.content.decode()
    member.refresh_from_db()
    assert member.status == MemberStatus.PENDING
    assert browser.post(link).status_code == 302 and signed_in(browser)
    # then: it is used up
    browser.logout()
    assert browser.post(link).status_code == 409
    assert browser.get(link).status_code == 409
    assert not signed_in(browser)


def test_an_old_rejoin_link_records_its_consent_once(community):
    member = MemberFactory(community=community, status=MemberStatus.UNSUBSCRIBED)
    link = _old_confirm_link(member, r=1, k=1)
    assert Client().post(link).status_code == 302
    assert Client().post(link).status_code == 409
    assert ConsentRecord.objects.filter(member=member).count() == 2  # terms and marketing


def test_an_old_link_to_a_member_confirmed_before_the_change_no_longer_signs_in(community):
    # given: a member who confirmed with an old link (its use was never recorded)
    member = MemberFactory(community=community, status=MemberStatus.NEW)
    # when
    browser = Client()
    page = browser.post(_old_confirm_link(member))
    # then
    assert page.status_code == 409 and not signed_in(browser)


# --- the invitation-to-join link --------------------------------------------------------------


@pytest.fixture
def closed(community):
    community.join_mode = JoinMode.INVITE_ONLY
    community.save()
    return community


def accept(**overrides) -> dict:
    return {"name": "Ann Lee", "language": "en", "consent": "on", **overrides}


def invited_link(community, *, locale: str = "") -> str:
    member_invite(community=community, email="ann@example.com", locale=locale)
    body = OutboundEmail.objects.get(template="member_invitation").body_text
    return re.search(r"(/c/\S+/invitation/\S+/)", body).group(1)


def test_a_mail_scanner_opening_an_invitation_accepts_nothing(closed):
    link = invited_link(closed)
    scanner = Client()
    assert [scanner.get(link).status_code, scanner.head(link).status_code] == [200, 200]
    assert Member.objects.get().status == MemberStatus.INVITED
    assert not ConsentRecord.objects.exists() and not signed_in(scanner)
    assert LinkToken.objects.get(kind="member_invitation").used_at is None


def test_an_invitation_signs_in_once_then_offers_a_code_in_the_members_language(closed):
    # given: an invitation accepted in Japanese
    link = invited_link(closed, locale="ja")
    browser = english_browser()
    assert browser.post(link, accept(language="ja")).status_code == 302
    assert LinkToken.objects.get(kind="member_invitation").used_at is not None
    browser.logout()
    # when: opened and posted again
    for page in (browser.get(link), browser.post(link, accept())):
        # then
        html = page.content.decode()
        assert page.status_code == 409 and '<html lang="ja"' in html
        assert code_sign_in("ja") in html
    assert not signed_in(browser)
    assert ConsentRecord.objects.count() == 1


def test_an_invitation_link_dies_with_an_address_change(client, closed):
    link = invited_link(closed)
    Member.objects.update(email="changed@example.com")
    assert client.post(link, accept()).status_code == 400
    assert Member.objects.get().status == MemberStatus.INVITED


def test_an_old_invitation_link_still_accepts_once(closed):
    # given: an invitation link minted the old way
    member = MemberFactory(community=closed, status=MemberStatus.INVITED, email="ann@example.com")
    link = invitation_url(closed, link_make("member_invitation", {"m": member.pk}))
    browser = Client()
    # when
    assert browser.get(link).status_code == 200
    assert browser.post(link, accept()).status_code == 302
    browser.logout()
    # then
    assert browser.post(link, accept()).status_code == 409 and not signed_in(browser)


def test_an_invitation_link_of_another_organisation_is_400(client, closed):
    elsewhere = CommunityFactory(organisation=OrganisationFactory(), join_mode=JoinMode.INVITE_ONLY)
    member_invite(community=elsewhere, email="ann@example.com")
    body = OutboundEmail.objects.get(template="member_invitation").body_text
    token = re.search(r"/invitation/(\S+)/", body).group(1)
    assert client.get(invitation_url(closed, token)).status_code == 400
    assert client.post(invitation_url(closed, token), accept()).status_code == 400
    assert Member.objects.get().status == MemberStatus.INVITED
