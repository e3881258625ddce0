"""The member portal: points, activity, referral link, profile, and asking again for consent
when the community publishes a new policy version."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import ConsentPurpose, JoinMode, MemberStatus
from communities.flows import member_join
from communities.models import Member
from communities.outbox.models import OutboundEmail
from communities.services import member_confirm
from rewards.choices import LedgerReason
from tests.factories.communities import (
    AttributeDefinitionFactory,
    ConsentRecordFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.rewards import LedgerEntryFactory
from tests.factories.surveys import ParticipationFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def home(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


def url(name: str, community) -> str:
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug])


def test_portal_shows_points_activity_referral_link_and_member_links(
    member_client, member, community, django_assert_max_num_queries
):
    # given
    survey = SurveyFactory(organisation=community.organisation, community=community)
    ParticipationFactory(survey=survey, member=member)
    LedgerEntryFactory(member=member, points=10, reason=LedgerReason.SURVEY_COMPLETED)
    LedgerEntryFactory(member=member, points=-4, reason=LedgerReason.REDEMPTION_HOLD)
    # when
    with django_assert_max_num_queries(25):
        page = member_client.get(home(community))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["portal"]["balance"] == 6
    assert 'data-testid="points-balance">6<' in html
    assert survey.title["en"] in html and "+10 points" in html and "−4 points" in html
    assert f"/join/?ref={member.referral_code}" in html
    for name in ("profile", "consent", "my_data"):
        assert url(name, community) in html
    assert reverse("account_logout") in html


def test_portal_marks_open_surveys_the_member_already_answered(member_client, member, community):
    # given
    kwargs = dict(organisation=community.organisation, community=community, status="live")
    done = SurveyFactory(**kwargs, title={"en": "Already done"})
    todo = SurveyFactory(**kwargs, title={"en": "Still to do"})
    ParticipationFactory(survey=done, member=member)
    # when
    html = member_client.get(home(community)).content.decode()
    # then
    assert f"/s/{todo.public_id}/" in html and f"/s/{done.public_id}/" not in html
    assert "Already done" in html and "Answered" in html


def test_visitor_sees_join_and_sign_in_instead_of_the_portal(client, community):
    page = client.get(home(community))
    html = page.content.decode()
    assert page.context["portal"] is None
    assert url("join", community) in html and "/accounts/login/code/" in html


def test_invite_only_community_shows_no_join_button(client, community):
    community.join_mode = JoinMode.INVITE_ONLY
    community.save()
    assert url("join", community) not in client.get(home(community)).content.decode()


def test_member_pages_need_a_signed_in_member(client, community):
    # a visitor is sent to sign in by code
    page = client.get(url("profile", community))
    assert page.status_code == 302 and "/accounts/login/code/" in page["Location"]
    # a signed-in user who is not a member is sent home
    stranger = Client()
    stranger.force_login(UserFactory())
    page = stranger.get(url("profile", community))
    assert page.status_code == 302 and page["Location"] == home(community)


def test_a_member_of_another_community_cannot_use_this_ones_pages(member_client, organisation):
    from tests.factories.communities import CommunityFactory

    other = CommunityFactory(organisation=organisation)
    for name in ("profile", "consent", "my_data", "export"):
        page = member_client.get(url(name, other))
        assert page.status_code == 302 and page["Location"] == home(other)
    assert member_client.post(url("erase", other), {"confirmation": "ERASE"}).status_code == 302


# --- re-consent ------------------------------------------------------------------------------


def test_new_policy_version_shows_the_interstitial_on_every_member_page(
    member_client, member, community
):
    # given: the member accepted version 1; version 2 is published
    community.policy_version = 2
    community.save()
    # when / then
    for page_url in (home(community), url("profile", community)):
        page = member_client.get(page_url)
        assert page.status_code == 200
        assert "We have updated our terms" in page.content.decode()
    # the consent centre and my data stay reachable
    assert (
        "We have updated our terms"
        not in member_client.get(url("consent", community)).content.decode()
    )
    assert member_client.get(url("my_data", community)).status_code == 200


def test_accepting_the_new_terms_records_the_version_and_lets_the_member_in(
    member_client, member, community
):
    # given
    community.policy_version = 2
    community.save()
    # when
    page = member_client.post(
        url("consent", community),
        {"purpose": "community_terms", "action": "grant", "next": url("profile", community)},
    )
    # then
    assert page.status_code == 302 and page["Location"] == url("profile", community)
    latest = member.consents.filter(purpose=ConsentPurpose.COMMUNITY_TERMS).first()
    assert latest.granted and latest.policy_version == 2 and latest.channel == "web"
    assert "We have updated our terms" not in member_client.get(home(community)).content.decode()


def test_interstitial_does_not_follow_an_offsite_next(member_client, member, community):
    community.policy_version = 2
    community.save()
    page = member_client.post(
        url("consent", community),
        {"purpose": "community_terms", "action": "grant", "next": "https://evil.example/"},
    )
    assert page["Location"] == url("consent", community)


def test_a_member_with_no_terms_on_record_is_asked_too(community):
    user = UserFactory()
    MemberFactory(community=community, user=user, email=user.email)
    client = Client()
    client.force_login(user)
    assert "We have updated our terms" in client.get(home(community)).content.decode()


def test_accepting_an_old_version_again_does_not_count(member_client, member, community):
    community.policy_version = 3
    community.save()
    ConsentRecordFactory(member=member, policy_version=2)
    assert "We have updated our terms" in member_client.get(home(community)).content.decode()


# --- profile ---------------------------------------------------------------------------------


def test_profile_edits_name_language_and_attributes_with_email_read_only(
    member_client, member, community
):
    # given
    AttributeDefinitionFactory(community=community, age_band=True)
    # when
    page = member_client.post(
        url("profile", community),
        {"name": "New Name", "language": "ja", "attr_age_band": "35+", "email": "x@evil.example"},
    )
    # then
    assert page.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.locale, member.attributes) == (
        "New Name",
        "ja",
        {"age_band": "35+"},
    )
    assert member.email == "member@example.com"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x" * 201, "language": "en"},
        {"name": "Ann", "language": "klingon"},
        {"name": "Ann", "language": "en", "attr_age_band": "120+"},
        {"name": "Ann", "language": "en", "attr_age_band": "x" * 500},
    ],
)
def test_profile_refuses_bad_input_with_a_clear_error(member_client, member, community, data):
    AttributeDefinitionFactory(community=community, age_band=True)
    page = member_client.post(url("profile", community), data)
    assert page.status_code == 400 and "is-invalid" in page.content.decode()
    member.refresh_from_db()
    assert member.name != "Ann" or member.attributes == {}


def test_profile_page_in_hebrew_is_right_to_left(member_client, community):
    page = member_client.get(url("profile", community) + "?lang=he")
    assert 'dir="rtl"' in page.content.decode()


def test_left_member_sees_come_back_and_no_portal(member_client, member, community):
    member.status = MemberStatus.UNSUBSCRIBED
    member.save()
    page = member_client.get(home(community))
    assert page.context["portal"] is None
    assert "You left this community" in page.content.decode()


def test_a_member_without_a_password_signs_in_with_an_emailed_code(client, community):
    # given: someone who joined by the confirmation link (no password)
    member_join(community=community, email="ann@example.com", terms_accepted=True)
    member_confirm(member=Member.objects.get())
    # when: they ask for a sign-in code
    page = client.post(reverse("account_request_login_code"), {"email": "ann@example.com"})
    # then: a code is emailed, and entering it signs them in
    assert page.status_code == 302
    email = OutboundEmail.objects.filter(to_email="ann@example.com").latest("created_at")
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", email.body_text).group(0)
    signed_in = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(Member.objects.get().user_id)
