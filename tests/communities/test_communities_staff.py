"""Staff create and edit communities; publishing new policy texts bumps the version."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from communities.choices import JoinMode, MemberStatus
from communities.models import Community
from communities.services import community_create, community_update
from tests.factories.communities import (
    CommunityFactory,
    LifecycleSnapshotFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "name": "Coffee Lovers",
        "slug": "coffee-lovers",
        "description": "Our regulars.",
        "join_mode": JoinMode.OPEN,
        "logo": "/static/img/coffee-lovers.png",
        "brand_colour": "#AA3300",
        "welcome_text": "Welcome!",
        "consent_text": "I agree to the terms.",
        "privacy_policy_text": "We keep your answers safe.",
        "new_days": 30,
        "lapsed_days": 90,
        "churned_days": 180,
    }
    data.update(overrides)
    return data


def url(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


def test_staff_create_a_community_and_land_on_its_overview(staff_client, organisation):
    # when
    page = staff_client.post(url("community_create", organisation), form_data())

    # then
    community = Community.objects.get()
    assert page.status_code == 302
    assert page["Location"] == url("community_detail", organisation, community.pk)
    assert community.organisation == organisation
    assert community.brand_colour == "#aa3300"
    assert community.policy_version == 1
    assert (community.new_days, community.lapsed_days, community.churned_days) == (30, 90, 180)
    overview = staff_client.get(page["Location"]).content.decode()
    assert "Coffee Lovers" in overview and "Version 1" in overview


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"slug": "Has Spaces"}, "slug", "valid"),
        ({"slug": ""}, "slug", "required"),
        ({"brand_colour": "red"}, "brand_colour", "six hex digits"),
        ({"brand_colour": "#12345g"}, "brand_colour", "six hex digits"),
        ({"logo": "https://cdn.example.com/logo.png"}, "logo", "not an address on another host"),
        ({"logo": "//cdn.example.com/logo.png"}, "logo", "not an address on another host"),
        ({"logo": "javascript:alert(1)"}, "logo", "not an address on another host"),
        ({"logo": "logo.png"}, "logo", "not an address on another host"),
        ({"join_mode": "everyone"}, "join_mode", "valid choice"),
        ({"consent_text": ""}, "consent_text", "required"),
        ({"privacy_policy_text": "x" * 20_001}, "privacy_policy_text", "at most 20000"),
        ({"churned_days": 60}, "churned_days", "more than 90"),
        ({"churned_days": 90}, "churned_days", "more than 90"),
        ({"new_days": 0}, "new_days", "greater than or equal to 1"),
        ({"lapsed_days": "soon"}, "lapsed_days", "whole number"),
        ({"lapsed_days": 99999}, "lapsed_days", "less than or equal to 3650"),
    ],
)
def test_bad_community_input_is_explained_and_nothing_is_written(
    staff_client, organisation, overrides, field, message
):
    page = staff_client.post(url("community_create", organisation), form_data(**overrides))
    assert page.status_code == 400
    errors = page.context["form"].errors.get(field, [])
    assert any(message in e for e in errors), page.context["form"].errors
    assert not Community.objects.exists()


def test_a_slug_used_by_another_community_of_the_organisation_is_refused(
    staff_client, organisation, other_organisation
):
    # given: the slug is taken here, and also in another organisation
    CommunityFactory(organisation=organisation, slug="coffee-lovers")

    # when
    page = staff_client.post(url("community_create", organisation), form_data())

    # then
    assert page.status_code == 400
    assert "already uses this address" in page.context["form"].errors["slug"][0]
    # while another organisation may use the same slug
    community_create(organisation=other_organisation, **form_data())


def test_editing_the_policy_text_publishes_a_new_version(staff_client, organisation):
    # given
    community = CommunityFactory(organisation=organisation)
    published = community.policy_published_at

    # when: only the privacy policy changes
    data = form_data(
        name=community.name,
        slug=community.slug,
        consent_text=community.consent_text,
        privacy_policy_text="We now also use your city.",
    )
    page = staff_client.post(url("community_edit", organisation, community.pk), data, follow=True)

    # then: version 2, published now, and staff are told members will be asked again
    community.refresh_from_db()
    assert community.policy_version == 2
    assert community.policy_published_at > published
    assert "Policy version 2 is published" in page.content.decode()
    assert "asked to accept it at their next visit" in page.content.decode()


def test_editing_other_fields_keeps_the_policy_version(staff_client, organisation):
    community = CommunityFactory(organisation=organisation)
    data = form_data(
        slug=community.slug,
        consent_text=community.consent_text,
        privacy_policy_text=community.privacy_policy_text,
        name="Renamed",
        join_mode=JoinMode.INVITE_ONLY,
    )
    page = staff_client.post(url("community_edit", organisation, community.pk), data)
    assert page.status_code == 302
    community.refresh_from_db()
    assert (community.name, community.join_mode, community.policy_version) == (
        "Renamed",
        JoinMode.INVITE_ONLY,
        1,
    )


def test_the_edit_page_shows_the_policy_version_and_date(staff_client, organisation):
    community = CommunityFactory(organisation=organisation, policy_version=4)
    page = staff_client.get(url("community_edit", organisation, community.pk)).content.decode()
    assert "Version 4, published" in page
    assert "members will be asked to accept it at their next visit" in page


def test_a_failed_edit_changes_nothing(staff_client, organisation):
    community = CommunityFactory(organisation=organisation)
    data = form_data(slug=community.slug, privacy_policy_text="New", churned_days=10)
    page = staff_client.post(url("community_edit", organisation, community.pk), data)
    assert page.status_code == 400
    community.refresh_from_db()
    assert community.policy_version == 1 and community.churned_days == 180


def test_the_service_refuses_thresholds_out_of_order(organisation):
    community = CommunityFactory(organisation=organisation)
    with pytest.raises(ValidationError) as error:
        community_update(community=community, lapsed_days=200)
    assert "churned_days" in error.value.message_dict


def test_overview_counts_members_by_status_and_draws_the_trend(staff_client, organisation):
    # given: members in several statuses, and a week of snapshots
    community = CommunityFactory(organisation=organisation)
    for status, n in [(MemberStatus.NEW, 2), (MemberStatus.ACTIVE, 3), (MemberStatus.LAPSED, 1)]:
        for _ in range(n):
            MemberFactory(community=community, status=status)
    MemberFactory(
        community=community, status=MemberStatus.ERASED, email="", name="", referral_code=""
    )
    today = timezone.localdate()
    for days_ago in range(7):
        LifecycleSnapshotFactory(
            community=community,
            day=today - timedelta(days=days_ago),
            counts={"new": 2, "active": 10 - days_ago, "lapsed": days_ago, "churned": 0},
        )
    # an old snapshot falls outside the 30 days shown
    LifecycleSnapshotFactory(community=community, day=today - timedelta(days=40))

    # when
    page = staff_client.get(url("community_detail", organisation, community.pk))

    # then
    html = page.content.decode()
    assert "6 members" in html
    assert page.context["status_counts"][2:5] == [
        ("new", "New", 2),
        ("active", "Active", 3),
        ("lapsed", "Lapsed", 1),
    ]
    assert len(page.context["snapshots"]) == 7
    assert html.count("<polyline") == 4
    assert "Active: 10" in html  # the latest day's count, beside the legend


def test_overview_links_to_the_member_pages_that_exist(staff_client, organisation):
    community = CommunityFactory(organisation=organisation)
    html = staff_client.get(url("community_detail", organisation, community.pk)).content.decode()
    for name in ("member_list", "member_import_create", "segment_list"):
        try:
            link = url(name, organisation, community.pk)
        except NoReverseMatch:
            continue
        assert link in html


def test_overview_query_count_does_not_grow_with_members_or_history(
    staff_client, organisation, django_assert_max_num_queries
):
    community = CommunityFactory(organisation=organisation)
    for n in range(30):
        MemberFactory(community=community)
        LifecycleSnapshotFactory(community=community, day=timezone.localdate() - timedelta(days=n))
    with django_assert_max_num_queries(8):
        assert (
            staff_client.get(url("community_detail", organisation, community.pk)).status_code == 200
        )


def test_community_list_shows_member_counts_in_a_fixed_number_of_queries(
    staff_client, organisation, other_organisation
):
    for n in range(12):
        community = CommunityFactory(organisation=organisation, name=f"Community {n:02}")
        MemberFactory(community=community)
    CommunityFactory(organisation=other_organisation, name="Elsewhere")

    with CaptureQueriesContext(connection) as queries:
        page = staff_client.get(url("community_list", organisation))

    html = page.content.decode()
    assert len(queries) <= 8
    assert "Community 11" in html and "Elsewhere" not in html
    assert page.context["communities"][0].member_count == 1
