"""The consent centre: each purpose's state, grant and withdraw, the history, and leaving;
and the emails that must respect what a member withdrew or unsubscribed from."""

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import ConsentRecord
from feedback.services import followup_recipient
from surveys.models import SurveyInvitation
from surveys.services import invitation_batch_create
from tests.factories.communities import (
    ConsentRecordFactory,
    EmailSuppressionFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.surveys import ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def url(name: str, community) -> str:
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug])


def test_consent_centre_shows_each_purpose_and_the_full_history(
    member_client, member, community, django_assert_max_num_queries
):
    # given
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=True)
    ConsentRecordFactory(
        member=member, purpose=ConsentPurpose.MARKETING, granted=False, channel="email"
    )
    # when
    with django_assert_max_num_queries(12):
        page = member_client.get(url("consent", community))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    purposes = {p["value"]: p for p in page.context["purposes"]}
    assert purposes["community_terms"]["granted"] is True
    assert purposes["marketing"]["granted"] is False and purposes["marketing"]["record"]
    assert purposes["contact_followup"]["record"] is None
    assert len(page.context["history"]) == 3
    assert "Withdrawn" in html and "Not given" in html and "Email" in html


def test_withdrawing_marketing_appends_a_row_and_keeps_the_member(member_client, member, community):
    # given
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=True)
    # when
    page = member_client.post(
        url("consent", community), {"purpose": "marketing", "action": "withdraw"}
    )
    # then
    assert page.status_code == 302
    latest = member.consents.filter(purpose=ConsentPurpose.MARKETING).first()
    assert latest.granted is False and latest.channel == "web"
    assert member.consents.filter(purpose=ConsentPurpose.MARKETING).count() == 2
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE


def test_granting_contact_records_the_current_policy_version(member_client, member, community):
    community.policy_version = 1
    community.save()
    member_client.post(
        url("consent", community), {"purpose": "contact_followup", "action": "grant"}
    )
    record = member.consents.get(purpose=ConsentPurpose.CONTACT_FOLLOWUP)
    assert record.granted and record.policy_version == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"purpose": "everything", "action": "grant"},
        {"purpose": "marketing", "action": "delete"},
        {"purpose": "x" * 10_000, "action": "grant"},
    ],
)
def test_bad_consent_posts_change_nothing(member_client, member, community, data):
    before = ConsentRecord.objects.count()
    page = member_client.post(url("consent", community), data)
    assert page.status_code == 400
    assert ConsentRecord.objects.count() == before


def test_withdrawing_the_terms_asks_first_then_leaves_the_community(
    member_client, member, community
):
    # when: the withdraw button without the confirmation
    page = member_client.post(
        url("consent", community), {"purpose": "community_terms", "action": "withdraw"}
    )
    # then: the explanation, nothing recorded
    assert page.status_code == 400 and "Yes, leave the community" in page.content.decode()
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    # when: confirmed
    page = member_client.post(
        url("consent", community),
        {"purpose": "community_terms", "action": "withdraw", "confirm": "yes"},
    )
    # then
    assert page.status_code == 302
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED
    latest = member.consents.filter(purpose=ConsentPurpose.COMMUNITY_TERMS).first()
    assert latest.granted is False
    # and the member pages are closed to them
    assert member_client.get(url("profile", community)).status_code == 302


def test_leave_page_explains_before_anything_happens(member_client, member, community):
    page = member_client.get(url("consent", community) + "?leave=1")
    assert page.status_code == 200 and "Yes, leave the community" in page.content.decode()
    assert member.consents.count() == 1


def test_consent_centre_of_another_member_is_unreachable(member, community):
    # given: a second member signed in
    other = MemberFactory(community=community)
    other.user = UserFactory(email=other.email)
    other.save()
    ConsentRecordFactory(member=other)
    client = Client()
    client.force_login(other.user)
    # when: they withdraw marketing
    client.post(url("consent", community), {"purpose": "marketing", "action": "withdraw"})
    # then: only their own history changed
    assert not member.consents.filter(purpose=ConsentPurpose.MARKETING).exists()
    assert other.consents.filter(purpose=ConsentPurpose.MARKETING).exists()


# --- what the emails respect --------------------------------------------------------------


def test_followup_respects_a_contact_withdrawal_in_the_consent_centre(member, community):
    # given: an answer given with consent to contact
    response = ResponseFactory(
        survey=SurveyFactory(organisation=community.organisation),
        member=member,
        consent_to_contact=True,
    )
    assert followup_recipient(response=response) == member.email
    # when: the member later withdraws contact about their answers
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=False)
    # then
    assert followup_recipient(response=response) is None
    # and granting it again restores it
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=True)
    assert followup_recipient(response=response) == member.email


def test_followup_respects_an_unsubscribe(member, community):
    response = ResponseFactory(
        survey=SurveyFactory(organisation=community.organisation),
        member=member,
        consent_to_contact=True,
    )
    EmailSuppressionFactory(organisation=community.organisation, email=member.email)
    assert followup_recipient(response=response) is None


def test_a_member_who_left_gets_no_survey_invitations(member_client, member, community):
    # given: the member left
    member_client.post(
        url("consent", community),
        {"purpose": "community_terms", "action": "withdraw", "confirm": "yes"},
    )
    survey = SurveyFactory(organisation=community.organisation, community=community)
    # when: staff email the survey to them
    invitation_batch_create(survey=survey, recipients=[(member.email, "")])
    # then
    assert not SurveyInvitation.objects.filter(email=member.email).exists()
