"""Unsubscribe links carry an opaque token, never the address: one token per organisation
and address, usable any number of times, by a GET page's button or a mail client's
RFC 8058 one-click POST. Links sent when the URL carried the address keep working."""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from communities.choices import MemberStatus
from communities.flows import member_erase
from communities.links import link_make
from communities.models import EmailSuppression, LinkToken
from communities.outbox.services import unsubscribe_url
from communities.services import unsubscribe_token
from surveys.services import invitation_batch_create
from tests.factories.communities import CommunityFactory, MemberFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

ADDRESS = "kim.unique@example.com"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_an_unsubscribe_token_names_no_address_and_only_its_hash_is_stored(organisation):
    token = unsubscribe_token(organisation_id=organisation.pk, email=ADDRESS)
    assert "kim" not in token.lower() and ":" not in token
    row = LinkToken.objects.get()
    assert row.kind == "unsubscribe" and row.email == ADDRESS
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(getattr(row, f.attname)) for f in LinkToken._meta.concrete_fields}


def test_one_token_per_organisation_and_address_however_many_emails(organisation):
    first = unsubscribe_token(organisation_id=organisation.pk, email=ADDRESS)
    second = unsubscribe_token(organisation_id=organisation.pk, email=ADDRESS.upper())
    other = unsubscribe_token(organisation_id=OrganisationFactory().pk, email=ADDRESS)
    assert first == second != other
    assert LinkToken.objects.count() == 2


def test_a_mail_client_one_click_post_unsubscribes_and_a_second_is_harmless(
    client, survey, community, django_capture_on_commit_callbacks
):
    # given: a survey invitation to a member
    member = MemberFactory(community=community, email=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, recipients=[(ADDRESS, "Kim")])
    header = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert "kim" not in header.lower()
    path = path_of(header)
    # when: a scanner opens it (GET, HEAD): nothing happens
    assert client.get(path).status_code == 200 and client.head(path).status_code == 200
    assert not EmailSuppression.objects.exists()
    # when: the mail client posts, twice (links stay multi-use)
    assert client.post(path, ONE_CLICK).status_code == 200
    assert client.post(path, ONE_CLICK).status_code == 200
    # then
    assert EmailSuppression.objects.filter(email=ADDRESS).count() == 1
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED


def test_an_unsubscribe_link_minted_the_old_way_still_works(client, organisation, community):
    # given: a link from an email sent when the URL carried the address
    member = MemberFactory(community=community, email=ADDRESS)
    old = link_make("unsubscribe", [organisation.pk, ADDRESS])
    path = reverse("surveys:unsubscribe", args=[old])
    # when
    assert client.get(path).status_code == 200
    assert client.post(path, ONE_CLICK).status_code == 200
    # then
    assert EmailSuppression.objects.filter(organisation=organisation, email=ADDRESS).exists()
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED


@pytest.mark.parametrize("token", ["x" * 43, "y" * 5000, "WzEsImtAZXhhbXBsZS5jb20iXQ:1:bad"])
def test_forged_or_oversized_unsubscribe_links_change_nothing(client, organisation, token):
    unsubscribe_token(organisation_id=organisation.pk, email=ADDRESS)
    path = reverse("surveys:unsubscribe", args=[token])
    assert client.get(path).status_code == 400
    assert client.post(path, ONE_CLICK).status_code == 400
    assert not EmailSuppression.objects.exists()


def test_an_unsubscribe_link_stops_only_its_own_organisations_email(client, organisation):
    # given: the same address in two organisations
    other = OrganisationFactory()
    path = path_of(unsubscribe_url(organisation_id=organisation.pk, email=ADDRESS))
    unsubscribe_token(organisation_id=other.pk, email=ADDRESS)
    # when
    client.post(path, ONE_CLICK)
    # then
    assert list(EmailSuppression.objects.values_list("organisation_id", flat=True)) == [
        organisation.pk
    ]


def test_erasure_takes_the_addresss_links_unless_another_membership_keeps_it(organisation):
    # given: the address is a member of two communities of the organisation
    first = MemberFactory(community=CommunityFactory(organisation=organisation), email=ADDRESS)
    second = MemberFactory(community=CommunityFactory(organisation=organisation), email=ADDRESS)
    unsubscribe_token(organisation_id=organisation.pk, email=ADDRESS)
    # when: one membership is erased, the link stays (the other still gets email)
    member_erase(member=first)
    assert LinkToken.objects.filter(email=ADDRESS).exists()
    # when: the last one is, the address's links go with it
    member_erase(member=second)
    assert not LinkToken.objects.filter(email=ADDRESS).exists()


def test_an_unsubscribe_link_whose_address_was_erased_is_refused_cleanly(client, community):
    member = MemberFactory(community=community, email=ADDRESS)
    path = path_of(unsubscribe_url(organisation_id=community.organisation_id, email=ADDRESS))
    member_erase(member=member)
    page = Client().post(path, ONE_CLICK)
    assert page.status_code == 400 and not EmailSuppression.objects.exists()
