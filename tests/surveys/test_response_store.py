"""An answer given on the survey page is about a store: the one its invitation was sent
for, else the member's home store, else none (issue 13, step 0)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys.choices import ChannelKind
from surveys.models import Response
from surveys.services import invitation_link_token
from tests.factories.communities import (
    ConsentRecordFactory,
    LocationFactory,
    MemberFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.factories.surveys import ChannelFactory, SurveyInvitationFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


def answered_through_invitation(survey, invitation) -> Response:
    """Open the personal link in a fresh browser, then send the page."""
    browser = Client()
    link = reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    browser.get(link)
    page = browser.post(url(survey), answers_for(survey))
    assert page.status_code == 302, page.content.decode()[:500]
    return Response.objects.get(invitation=invitation)


def test_an_answer_through_an_invitation_is_about_the_invitation_channels_store(
    survey, member, organisation
):
    # given: the member's home is Siam, but the invitation was sent for Chidlom
    member.location = LocationFactory(organisation=organisation, name="Siam")
    member.save(update_fields=["location"])
    chidlom = LocationFactory(organisation=organisation, name="Chidlom")
    channel = ChannelFactory(survey=survey, kind=ChannelKind.EMAIL, location=chidlom)
    invitation = SurveyInvitationFactory(survey=survey, member=member, channel=channel)
    # when
    response = answered_through_invitation(survey, invitation)
    # then
    assert response.location == chidlom


def test_an_invitation_without_a_store_falls_back_to_the_members_home_store(
    survey, member, organisation
):
    # given
    siam = LocationFactory(organisation=organisation, name="Siam")
    member.location = siam
    member.save(update_fields=["location"])
    invitation = SurveyInvitationFactory(survey=survey, member=member)
    # when
    response = answered_through_invitation(survey, invitation)
    # then
    assert response.location == siam


def test_a_guests_invitation_without_a_store_carries_none(survey):
    # given: an invitation to an address, no member, no store
    invitation = SurveyInvitationFactory(survey=survey, email="guest@example.com")
    # when
    response = answered_through_invitation(survey, invitation)
    # then
    assert response.location is None


def test_a_signed_in_member_answers_about_their_home_store(
    member_client, survey, member, organisation
):
    # given
    siam = LocationFactory(organisation=organisation, name="Siam")
    member.location = siam
    member.save(update_fields=["location"])
    # when
    page = member_client.post(url(survey), answers_for(survey))
    # then
    assert page.status_code == 302
    assert Response.objects.get().location == siam


def test_a_member_without_a_home_store_answers_about_none(member_client, survey):
    # when
    page = member_client.post(url(survey), answers_for(survey))
    # then
    assert page.status_code == 302
    assert Response.objects.get().location is None


def test_a_visitor_on_the_public_link_answers_about_no_store(client, survey, organisation):
    # given: the organisation has stores, but a visitor is at none of them
    LocationFactory(organisation=organisation, name="Siam")
    # when
    page = client.post(url(survey), answers_for(survey))
    # then
    assert page.status_code == 302
    assert Response.objects.get().location is None


def test_a_home_store_of_another_organisation_is_never_the_answers(member_client, survey, member):
    # given: a home store that belongs to another organisation
    other = OrganisationFactory(name="Elsewhere", slug="elsewhere")
    member.location = LocationFactory(organisation=other, name="Their home")
    member.save(update_fields=["location"])
    # when
    page = member_client.post(url(survey), answers_for(survey))
    # then
    assert page.status_code == 302
    assert Response.objects.get().location is None


def test_an_invitation_store_of_another_organisation_is_never_the_answers(survey):
    # given: the invitation's channel names another organisation's store
    other = OrganisationFactory(name="Elsewhere", slug="elsewhere")
    foreign = LocationFactory(organisation=other, name="Their store")
    channel = ChannelFactory(survey=survey, kind=ChannelKind.EMAIL, location=foreign)
    invitation = SurveyInvitationFactory(survey=survey, email="guest@example.com", channel=channel)
    # when
    response = answered_through_invitation(survey, invitation)
    # then
    assert response.location is None


def test_a_members_home_store_costs_the_submit_no_query(survey, community, organisation):
    """The store comes with the member's own lookup (a join), not a query of its own."""

    def queries_of_a_submit(*, home) -> int:
        user = UserFactory()
        member = MemberFactory(community=community, user=user, email=user.email, location=home)
        ConsentRecordFactory(member=member, policy_version=community.policy_version)
        browser = Client()
        browser.force_login(user)
        data = answers_for(survey)
        with CaptureQueriesContext(connection) as captured:
            assert browser.post(url(survey), data).status_code == 302
        return len(captured)

    # given: the process has answered once (its caches of the survey are warm)
    queries_of_a_submit(home=None)
    # when: one member without a home store answers, then one with
    without = queries_of_a_submit(home=None)
    siam = LocationFactory(organisation=organisation, name="Siam")
    with_store = queries_of_a_submit(home=siam)
    # then
    assert with_store == without
    assert Response.objects.filter(location=siam).count() == 1
    assert Response.objects.filter(location=None).count() == 2
