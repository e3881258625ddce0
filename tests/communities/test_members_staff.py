"""Staff member pages: the searchable list, one member's page, adding and inviting people."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communities.choices import AttributeKind, ConsentChannel, MemberStatus, Role
from communities.models import ConsentRecord, Member
from communities.outbox.models import OutboundEmail
from surveys.choices import Anonymity
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.rewards import LedgerEntryFactory
from tests.factories.surveys import ParticipationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def url(name, community_or_member, org=None):
    org = org or community_or_member.organisation
    return reverse(f"staff:{name}", args=[org.slug, community_or_member.pk])


# --- the list -------------------------------------------------------------------------------


def test_member_list_searches_name_and_email(staff_client, community):
    MemberFactory(community=community, name="Somchai Dee", email="s@example.com")
    MemberFactory(community=community, name="Ann", email="ann.somchai@example.com")
    MemberFactory(community=community, name="Bob", email="bob@example.com")
    page = staff_client.get(url("member_list", community), {"search": "somchai"}).content.decode()
    assert "s@example.com" in page and "ann.somchai@example.com" in page
    assert "bob@example.com" not in page
    assert "2 members match" in page


def test_member_list_and_page_show_a_choice_by_its_label_not_its_stored_value(
    staff_client, community
):
    # given
    AttributeDefinitionFactory(community=community, age_band=True)
    member = MemberFactory(community=community, attributes={"age_band": "35+"})
    # when
    listing = staff_client.get(url("member_list", community)).content.decode()
    detail = staff_client.get(url("member_detail", member)).content.decode()
    # then
    assert "35 or over" in listing and "35 or over" in detail


def test_member_list_filters_by_status_attribute_activity_and_segment(staff_client, community):
    AttributeDefinitionFactory(community=community, age_band=True)
    now = timezone.now()
    MemberFactory(
        community=community,
        email="a@example.com",
        attributes={"age_band": "18-24"},
        last_active_at=now,
    )
    MemberFactory(
        community=community,
        email="b@example.com",
        attributes={"age_band": "35+"},
        last_active_at=now - timedelta(days=200),
    )
    MemberFactory(
        community=community,
        email="c@example.com",
        status=MemberStatus.LAPSED,
        attributes={"age_band": "18-24"},
    )
    young = SegmentFactory(
        community=community, filter={"attributes": {"age_band": {"in": ["18-24"]}}}
    )

    def emails(params):
        body = staff_client.get(url("member_list", community), params).content.decode()
        return {e for e in ("a@example.com", "b@example.com", "c@example.com") if e in body}

    assert emails({"status": "lapsed"}) == {"c@example.com"}
    assert emails({"a_age_band": ["18-24"]}) == {"a@example.com", "c@example.com"}
    assert emails({"active_within_days": "30"}) == {"a@example.com"}
    assert emails({"segment": young.pk}) == {"a@example.com", "c@example.com"}
    assert emails({"segment": young.pk, "status": "active"}) == {"a@example.com"}


def test_member_list_never_shows_erased_members_or_another_community(staff_client, community):
    MemberFactory(
        community=community,
        email="",
        name="",
        status=MemberStatus.ERASED,
        referral_code="",
        erased_at=timezone.now(),
    )
    MemberFactory(
        community=CommunityFactory(organisation=community.organisation), email="x@example.com"
    )
    page = staff_client.get(url("member_list", community)).content.decode()
    assert "x@example.com" not in page and "0 members match" in page


def test_member_list_sorts_by_last_active(staff_client, community):
    now = timezone.now()
    MemberFactory(
        community=community, email="old@example.com", last_active_at=now - timedelta(days=9)
    )
    MemberFactory(community=community, email="new@example.com", last_active_at=now)
    page = staff_client.get(url("member_list", community), {"sort": "active"}).content.decode()
    assert page.index("new@example.com") < page.index("old@example.com")
    page = staff_client.get(url("member_list", community), {"sort": "-active"}).content.decode()
    assert page.index("old@example.com") < page.index("new@example.com")


def test_member_list_pages_fifty_at_a_time(staff_client, community):
    MemberFactory.create_batch(60, community=community)
    first = staff_client.get(url("member_list", community)).content.decode()
    second = staff_client.get(url("member_list", community), {"page": 2}).content.decode()
    assert first.count("/members/") - second.count("/members/") == 40
    assert "Page 2 of 2" in second


@pytest.mark.parametrize(
    "params",
    [
        {"active_within_days": "abc"},
        {"active_within_days": "0"},
        {"search": "x" * 201},
        {"segment": "999999"},
        {"status": "sleeping"},
    ],
)
def test_member_list_explains_a_bad_filter_and_lists_nobody(staff_client, community, params):
    MemberFactory(community=community, email="a@example.com")
    page = staff_client.get(url("member_list", community), params)
    assert page.status_code == 200
    assert "a@example.com" not in page.content.decode()
    assert "Fix the filter" in page.content.decode()


def test_member_list_query_count_does_not_grow_with_members(
    staff_client, community, django_assert_max_num_queries
):
    AttributeDefinitionFactory(community=community, key="city")
    SegmentFactory(community=community)
    MemberFactory.create_batch(50, community=community, attributes={"city": "Bangkok"})
    with django_assert_max_num_queries(12):
        page = staff_client.get(url("member_list", community), {"a_city": "Bang"})
    assert page.status_code == 200 and page.content.decode().count("Bangkok") >= 50


def test_analyst_reads_the_member_list_and_agent_may_not(client, community):
    analyst = StaffRoleFactory(organisation=community.organisation, role=Role.ANALYST).user
    agent = StaffRoleFactory(organisation=community.organisation, role=Role.AGENT).user
    client.force_login(analyst)
    assert client.get(url("member_list", community)).status_code == 200
    client.force_login(agent)
    assert client.get(url("member_list", community)).status_code == 403


# --- one member -----------------------------------------------------------------------------


def test_member_page_shows_profile_consents_answers_points_and_cases(staff_client, community):
    AttributeDefinitionFactory(community=community, key="city", label={"en": "Home city"})
    member = MemberFactory(community=community, name="Ann Lee", attributes={"city": "Bangkok"})
    org = community.organisation
    ConsentRecordFactory(member=member, channel=ConsentChannel.WEB)
    named = SurveyFactory(organisation=org, title={"en": "Coffee check"})
    response = ResponseFactory(survey=named, member=member)
    ParticipationFactory(survey=named, member=member)
    CaseFactory(response=response, reason="NPS 2 ≤ 6")
    LedgerEntryFactory(member=member, points=30)
    LedgerEntryFactory(member=member, points=-5)
    page = staff_client.get(url("member_detail", member)).content.decode()
    assert "Ann Lee" in page and "Home city" in page and "Bangkok" in page
    assert "Community terms and privacy policy" in page and "Web" in page
    assert "Coffee check" in page and "NPS 2 ≤ 6" in page
    assert 'id="points-balance">25<' in page and "+30" in page and "-5" in page


def test_member_page_shows_only_participation_for_an_anonymous_answer(staff_client, community):
    # given a member who answered a survey anonymously
    member = MemberFactory(community=community)
    secret = SurveyFactory(
        organisation=community.organisation,
        title={"en": "Secret ballot"},
        anonymity=Anonymity.ANONYMOUS,
    )
    ParticipationFactory(survey=secret, member=member)
    anonymous = ResponseFactory(survey=secret, is_anonymous=True)
    CaseFactory(response=anonymous, reason="Stars 1 ≤ 2")
    # when staff open the member's page
    page = staff_client.get(url("member_detail", member)).content.decode()
    # then it says they took part, and nothing leads to the response or its case
    assert "Secret ballot" in page and "Took part anonymously" in page
    assert "Stars 1 ≤ 2" not in page
    assert f"/cases/{anonymous.case.pk}/" not in page


def test_member_page_query_count_is_bounded(staff_client, community, django_assert_max_num_queries):
    member = MemberFactory(community=community)
    for _ in range(10):
        survey = SurveyFactory(organisation=community.organisation)
        CaseFactory(response=ResponseFactory(survey=survey, member=member))
        LedgerEntryFactory(member=member)
        ConsentRecordFactory(member=member)
    # 15: one more for the address's suppressions (unsubscribe, bounce, complaint).
    with django_assert_max_num_queries(15):
        assert staff_client.get(url("member_detail", member)).status_code == 200


def test_admin_edits_name_language_and_attributes(staff_client, community):
    AttributeDefinitionFactory(community=community, key="age", kind=AttributeKind.NUMBER)
    member = MemberFactory(community=community, name="Ann")
    page = staff_client.post(
        url("member_detail", member), {"name": "Ann Lee", "locale": "ja", "attr_age": "33"}
    )
    assert page.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.locale, member.attributes) == ("Ann Lee", "ja", {"age": 33})


def test_edit_refuses_a_bad_attribute_value_next_to_its_field(staff_client, community):
    AttributeDefinitionFactory(community=community, age_band=True)
    member = MemberFactory(community=community, name="Ann")
    page = staff_client.post(
        url("member_detail", member), {"name": "Ann", "locale": "en", "attr_age_band": "99+"}
    )
    assert page.status_code == 400
    member.refresh_from_db()
    assert member.attributes == {}


def test_analyst_reads_a_member_but_may_not_edit(client, community):
    member = MemberFactory(community=community, name="Ann")
    client.force_login(
        StaffRoleFactory(organisation=community.organisation, role=Role.ANALYST).user
    )
    page = client.get(url("member_detail", member))
    assert page.status_code == 200 and "Edit profile" not in page.content.decode()
    assert (
        client.post(url("member_detail", member), {"name": "X", "locale": "en"}).status_code == 403
    )
    member.refresh_from_db()
    assert member.name == "Ann"


def test_an_erased_member_has_no_page(staff_client, community):
    gone = MemberFactory(
        community=community,
        email="",
        name="",
        status=MemberStatus.ERASED,
        referral_code="",
        erased_at=timezone.now(),
    )
    assert staff_client.get(url("member_detail", gone)).status_code == 404


# --- add one member -------------------------------------------------------------------------


def test_admin_adds_a_member_with_consent_recorded_as_staff(staff_client, community):
    AttributeDefinitionFactory(community=community, key="city")
    page = staff_client.post(
        url("member_add", community),
        {
            "email": " Ann@Example.com ",
            "name": "Ann",
            "locale": "th",
            "attr_city": "Bangkok",
            "consent": "on",
        },
    )
    member = Member.objects.get(community=community)
    assert page.status_code == 302 and page["Location"].endswith(f"/members/{member.pk}/")
    assert (member.email, member.locale, member.attributes) == (
        "ann@example.com",
        "th",
        {"city": "Bangkok"},
    )
    assert ConsentRecord.objects.get(member=member).channel == ConsentChannel.STAFF


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "ann@example.com", "locale": "en"}, "tick the box"),
        ({"email": "", "locale": "en", "consent": "on"}, "This field is required"),
        ({"email": "not-an-email", "locale": "en", "consent": "on"}, "valid email"),
        ({"email": "a" * 250 + "@example.com", "locale": "en", "consent": "on"}, "at most 254"),
        (
            {"email": "ann@example.com", "name": "n" * 201, "locale": "en", "consent": "on"},
            "at most 200",
        ),
        ({"email": "ann@example.com", "locale": "xx", "consent": "on"}, "Select a valid choice"),
    ],
)
def test_add_refuses_bad_input_with_a_field_error(staff_client, community, data, message):
    page = staff_client.post(url("member_add", community), data)
    assert page.status_code == 400 and message in page.content.decode()
    assert not Member.objects.filter(community=community).exists()


def test_add_refuses_a_duplicate_whatever_the_case(staff_client, community):
    MemberFactory(community=community, email="ann@example.com")
    page = staff_client.post(
        url("member_add", community), {"email": "ANN@example.com", "locale": "en", "consent": "on"}
    )
    assert page.status_code == 400
    assert "already a member of this community" in page.content.decode()
    assert Member.objects.filter(community=community).count() == 1


def test_add_into_another_organisations_community_is_not_found(
    staff_client, other_organisation, organisation
):
    foreign = CommunityFactory(organisation=other_organisation)
    page = staff_client.post(
        url("member_add", foreign, org=organisation),
        {"email": "ann@example.com", "locale": "en", "consent": "on"},
    )
    assert page.status_code == 404 and not Member.objects.exists()


# --- invite by email ------------------------------------------------------------------------


def test_admin_invites_someone_who_gets_an_email(
    staff_client, community, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.post(
            url("member_invite", community),
            {"email": "guest@example.com", "name": "Guest", "locale": "en"},
        )
    member = Member.objects.get(community=community, email="guest@example.com")
    assert page.status_code == 302 and member.status == MemberStatus.INVITED
    assert OutboundEmail.objects.filter(to_email="guest@example.com").exists()
    assert [m.to for m in mail.outbox] == [["guest@example.com"]]
    assert not ConsentRecord.objects.filter(member=member).exists()


def test_invite_refuses_an_existing_member(staff_client, community):
    MemberFactory(community=community, email="ann@example.com")
    page = staff_client.post(
        url("member_invite", community), {"email": "ann@example.com", "locale": "en"}
    )
    assert page.status_code == 400 and "already a member" in page.content.decode()


def test_invite_refuses_a_malformed_address(staff_client, community):
    page = staff_client.post(url("member_invite", community), {"email": "nope", "locale": "en"})
    assert page.status_code == 400 and not Member.objects.exists()
