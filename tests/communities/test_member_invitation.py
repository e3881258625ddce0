"""Invitations to join: the email, the personal link's page, and links that cannot be used."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from communities.choices import ConsentPurpose, JoinMode, MemberStatus
from communities.flows import member_invite
from communities.models import LinkToken, Member, User
from communities.outbox.models import OutboundEmail
from communities.services import member_invitation_token
from tests.factories.communities import (
    CommunityFactory,
    EmailSuppressionFactory,
    MemberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(community):
    community.join_mode = JoinMode.INVITE_ONLY
    community.save()
    return community


def link_of(email: OutboundEmail) -> str:
    return re.search(r"(/c/\S+/invitation/\S+/)", email.body_text).group(1)


def accept(**overrides) -> dict:
    data = {"name": "Ann Lee", "language": "en", "consent": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_member_invite_makes_an_invited_member_and_emails_the_link(
    closed, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        member = member_invite(
            community=closed,
            email=" Ann@Example.com",
            name="Ann",
            locale="ja",
            invited_by=staff_user,
        )
    # then
    assert member.status == MemberStatus.INVITED and member.invited_at
    assert member.email == "ann@example.com" and not member.consents.exists()
    email = OutboundEmail.objects.get()
    assert email.template == "member_invitation" and email.language == "ja"
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in email.body_text
    assert len(mailoutbox) == 1 and "/invitation/" in mailoutbox[0].body


def test_member_invite_refuses_duplicates_bad_addresses_and_unsubscribed_ones(closed):
    member_invite(community=closed, email="ann@example.com")
    with pytest.raises(ValidationError):
        member_invite(community=closed, email="ANN@example.com")
    with pytest.raises(ValidationError):
        member_invite(community=closed, email="not an address")
    EmailSuppressionFactory(organisation=closed.organisation, email="gone@example.com")
    with pytest.raises(ValidationError) as refused:
        member_invite(community=closed, email="gone@example.com")
    assert "asked us not to email" in str(refused.value)
    assert Member.objects.count() == 1


def test_invitation_page_shows_the_join_form_with_the_address_fixed(client, closed):
    # given
    member_invite(community=closed, email="ann@example.com", name="Ann")
    # when
    page = client.get(link_of(OutboundEmail.objects.get()))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="ann@example.com" readonly' in html and 'name="email"' not in html
    assert 'name="consent"' in html and 'value="Ann"' in html


def test_accepting_the_invitation_confirms_records_consent_and_signs_in(client, closed):
    # given
    member = member_invite(community=closed, email="ann@example.com")
    link = link_of(OutboundEmail.objects.get())
    # when
    page = client.post(link, accept(marketing="on", email="mallory@example.com"))
    # then
    assert page.status_code == 302
    assert page["Location"] == reverse(
        "surveys:community_home", args=[closed.organisation.slug, closed.slug]
    )
    member.refresh_from_db()
    assert member.status == MemberStatus.NEW and member.confirmed_at and member.joined_at
    assert member.email == "ann@example.com" and member.name == "Ann Lee"
    assert set(member.consents.values_list("purpose", "granted", "channel")) == {
        (ConsentPurpose.COMMUNITY_TERMS, True, "web"),
        (ConsentPurpose.MARKETING, True, "web"),
    }
    user = User.objects.get(email="ann@example.com")
    assert member.user == user and client.session["_auth_user_id"] == str(user.pk)


def test_accepting_without_the_consent_checkbox_is_refused(client, closed):
    member = member_invite(community=closed, email="ann@example.com")
    page = client.post(link_of(OutboundEmail.objects.get()), accept(consent=None))
    assert page.status_code == 400 and "Please accept" in page.content.decode()
    member.refresh_from_db()
    assert member.status == MemberStatus.INVITED and not member.consents.exists()
    assert "_auth_user_id" not in client.session


def test_oversized_name_on_acceptance_is_a_clear_error(client, closed):
    member_invite(community=closed, email="ann@example.com")
    page = client.post(link_of(OutboundEmail.objects.get()), accept(name="x" * 201))
    assert page.status_code == 400
    assert Member.objects.get().status == MemberStatus.INVITED


def test_used_invitation_is_409(client, closed):
    member_invite(community=closed, email="ann@example.com")
    link = link_of(OutboundEmail.objects.get())
    client.post(link, accept())
    page = client.get(link)
    again = client.post(link, accept())
    assert page.status_code == 409 and "already been used" in page.content.decode()
    assert again.status_code == 409
    assert Member.objects.get().consents.count() == 1


def test_forged_invitation_is_400(client, closed):
    member_invite(community=closed, email="ann@example.com")
    link = link_of(OutboundEmail.objects.get())
    assert client.get(link[:-4] + "abc/").status_code == 400
    assert client.post(link[:-4] + "abc/", accept()).status_code == 400


def test_invitation_for_another_community_is_400(client, closed):
    other = CommunityFactory(organisation=closed.organisation, join_mode=JoinMode.INVITE_ONLY)
    member = member_invite(community=closed, email="ann@example.com")
    url = reverse(
        "community:invitation",
        args=[other.organisation.slug, other.slug, member_invitation_token(member=member)],
    )
    assert client.post(url, accept()).status_code == 400
    assert Member.objects.get().status == MemberStatus.INVITED


def test_expired_invitation_is_410(client, closed):
    member = member_invite(community=closed, email="ann@example.com")
    token = member_invitation_token(member=member)
    long_ago = timezone.now() - timedelta(days=31)
    LinkToken.objects.update(created_at=long_ago, expires_at=long_ago + timedelta(days=30))
    url = reverse("community:invitation", args=[closed.organisation.slug, closed.slug, token])
    page = client.get(url)
    assert page.status_code == 410 and "expired" in page.content.decode()


def test_invited_person_using_the_open_join_page_gets_their_invitation_again(client, community):
    # given: staff invited someone to an open community
    member_invite(community=community, email="ann@example.com")
    # when: they find the public page and join there
    client.post(
        reverse("community:join", args=[community.organisation.slug, community.slug]),
        {"email": "ann@example.com", "language": "en", "consent": "on"},
    )
    # then: their personal link comes again, and nothing is recorded until they use it
    assert OutboundEmail.objects.filter(template="member_invitation").count() == 2
    assert not Member.objects.get().consents.exists()


def test_staff_account_accepting_an_invitation_keeps_its_password(client, closed):
    user = UserFactory(email="ann@example.com")
    member_invite(community=closed, email="ann@example.com")
    client.post(link_of(OutboundEmail.objects.get()), accept())
    user.refresh_from_db()
    assert user.has_usable_password() and Member.objects.get().user == user


def test_an_already_confirmed_member_cannot_be_invited_again(closed):
    MemberFactory(community=closed, email="ann@example.com")
    with pytest.raises(ValidationError):
        member_invite(community=closed, email="ann@example.com")
