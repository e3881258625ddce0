"""Segments: saved member filters with one meaning (members_matching) and live counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from communities.choices import AttributeKind, MemberStatus, Role
from communities.models import Segment
from communities.selectors import members_matching, segment_counts
from communities.services import segment_create, segment_filter_clean, segment_update
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(community):
    AttributeDefinitionFactory(community=community, key="city")
    AttributeDefinitionFactory(community=community, key="age", kind=AttributeKind.NUMBER)
    AttributeDefinitionFactory(community=community, key="birthday", kind=AttributeKind.DATE)
    AttributeDefinitionFactory(community=community, age_band=True)
    now = timezone.now()

    def member(
        email, status=MemberStatus.ACTIVE, active_days_ago=None, joined_days_ago=400, **attrs
    ):
        return MemberFactory(
            community=community,
            email=email,
            name=email.split("@")[0].title(),
            status=status,
            attributes=attrs,
            joined_at=now - timedelta(days=joined_days_ago),
            last_active_at=None
            if active_days_ago is None
            else now - timedelta(days=active_days_ago),
        )

    return {
        "ann": member(
            "ann@example.com",
            city="Bangkok",
            age=25,
            birthday="2000-05-01",
            age_band="25-34",
            active_days_ago=3,
        ),
        "bob": member(
            "bob@example.com",
            city="Chiang Mai",
            age=9,
            birthday="1990-12-31",
            age_band="18-24",
            active_days_ago=200,
        ),
        "cy": member(
            "cy@example.com",
            status=MemberStatus.LAPSED,
            city="Bangkok",
            age=40,
            active_days_ago=100,
        ),
        "dee": member("dee@example.com", status=MemberStatus.NEW, joined_days_ago=5),
        "gone": MemberFactory(
            community=community,
            email="",
            name="",
            status=MemberStatus.ERASED,
            referral_code="",
            erased_at=now,
            attributes={},
        ),
        "elsewhere": MemberFactory(email="far@example.com", attributes={"city": "Bangkok"}),
    }


def matching(community, filter):
    clean = segment_filter_clean(community=community, filter=filter)
    return sorted(m.email for m in members_matching(community=community, filter=clean))


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({}, ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"]),
        ({"status": ["active"]}, ["ann@example.com", "bob@example.com"]),
        ({"attributes": {"city": {"in": ["Bangkok"]}}}, ["ann@example.com", "cy@example.com"]),
        ({"attributes": {"city": {"contains": "chiang"}}}, ["bob@example.com"]),
        # numbers compare as numbers: 9 is below 18 although "9" > "18" as text
        ({"attributes": {"age": {"gte": 18, "lte": 30}}}, ["ann@example.com"]),
        ({"attributes": {"age": {"gte": "18"}}}, ["ann@example.com", "cy@example.com"]),
        ({"attributes": {"birthday": {"gte": "2000-01-01"}}}, ["ann@example.com"]),
        ({"attributes": {"birthday": {"lte": "1999-12-31"}}}, ["bob@example.com"]),
        ({"attributes": {"age_band": {"in": ["18-24", "35+"]}}}, ["bob@example.com"]),
        ({"active_within_days": 30}, ["ann@example.com"]),
        # never active counts as inactive only once the member has been around that long
        ({"inactive_for_days": 90}, ["bob@example.com", "cy@example.com"]),
        ({"joined_within_days": 30}, ["dee@example.com"]),
        ({"search": "BOB"}, ["bob@example.com"]),
        (
            {
                "status": ["active", "lapsed"],
                "attributes": {"city": {"in": ["Bangkok"]}},
                "inactive_for_days": 60,
            },
            ["cy@example.com"],
        ),
    ],
)
def test_members_matching_selects_by_each_condition(community, people, filter, expected):
    assert matching(community, filter) == expected


def test_erased_members_never_match(community, people):
    assert people["gone"].pk not in members_matching(community=community, filter={}).values_list(
        "pk", flat=True
    )
    with pytest.raises(ValidationError):
        segment_filter_clean(community=community, filter={"status": ["erased"]})


@pytest.mark.parametrize(
    ("filter", "where"),
    [
        ({"attributes": {"shoe": {"in": ["42"]}}}, "attributes.shoe"),
        ({"attributes": {"age": {"gte": "old"}}}, "attributes.age"),
        ({"attributes": {"age": {"in": [3]}}}, "attributes.age"),
        ({"attributes": {"age": {"gte": 30, "lte": 20}}}, "attributes.age"),
        ({"attributes": {"birthday": {"gte": "01/02/2000"}}}, "attributes.birthday"),
        ({"attributes": {"age_band": {"in": ["99+"]}}}, "attributes.age_band"),
        ({"attributes": {"city": "Bangkok"}}, "attributes.city"),
        ({"status": ["sleeping"]}, "status"),
        ({"active_within_days": 0}, "active_within_days"),
        ({"active_within_days": "many"}, "active_within_days"),
        ({"joined_within_days": 99999}, "joined_within_days"),
        ({"active_within_days": 30, "inactive_for_days": 60}, "inactive_for_days"),
        ({"search": "x" * 201}, "search"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_filter_clean_says_what_is_wrong_and_where(community, people, filter, where):
    with pytest.raises(ValidationError) as caught:
        segment_filter_clean(community=community, filter=filter)
    assert where in caught.value.message_dict


def test_segment_names_are_unique_per_community_whatever_the_case(community, people):
    segment_create(community=community, name="Bangkok", filter={})
    with pytest.raises(ValidationError) as caught:
        segment_create(community=community, name=" bangkok ", filter={})
    assert "already has a segment" in caught.value.message_dict["name"][0]
    # the same name in another community is fine
    segment_create(
        community=CommunityFactory(organisation=community.organisation), name="Bangkok", filter={}
    )


def test_segment_counts_counts_every_segment_in_one_query(
    community, people, django_assert_num_queries
):
    young = SegmentFactory(community=community, filter={"attributes": {"age": {"lte": 30}}})
    lapsed = SegmentFactory(community=community, filter={"status": ["lapsed"]})
    everyone = SegmentFactory(community=community, filter={})
    with django_assert_num_queries(1):
        counts = segment_counts(community=community, segments=[young, lapsed, everyone])
    assert counts == {young.pk: 2, lapsed.pk: 1, everyone.pk: 4}


# --- pages ----------------------------------------------------------------------------------


def segment_url(name, community, *extra):
    return reverse(f"staff:{name}", args=[community.organisation.slug, *extra])


def test_staff_create_a_segment_from_the_form(staff_client, community, people):
    page = staff_client.post(
        segment_url("segment_create", community, community.pk),
        {"name": "Young Bangkok", "a_city": "Bangkok", "a_age_max": "30", "status": ["active"]},
    )
    assert page.status_code == 302
    segment = Segment.objects.get(community=community)
    assert segment.filter == {
        "status": ["active"],
        "attributes": {"city": {"contains": "Bangkok"}, "age": {"lte": 30}},
    }
    listing = staff_client.get(
        segment_url("segment_list", community, community.pk)
    ).content.decode()
    assert "Young Bangkok" in listing


def test_segment_form_shows_errors_next_to_fields(staff_client, community, people):
    SegmentFactory(community=community, name="Taken")
    page = staff_client.post(
        segment_url("segment_create", community, community.pk),
        {"name": "Taken", "a_age_min": "50", "a_age_max": "20"},
    )
    body = page.content.decode()
    assert page.status_code == 400
    assert "already has a segment" in body and "lower bound is above" in body


def test_segment_edit_shows_the_saved_filter_and_saves_changes(staff_client, community, people):
    segment = SegmentFactory(
        community=community, name="Kids", filter={"attributes": {"age": {"lte": 12}}}
    )
    page = staff_client.get(segment_url("segment_edit", community, segment.pk)).content.decode()
    assert 'value="12"' in page and 'value="Kids"' in page
    staff_client.post(
        segment_url("segment_edit", community, segment.pk), {"name": "Lapsed", "status": ["lapsed"]}
    )
    segment.refresh_from_db()
    assert (segment.name, segment.filter) == ("Lapsed", {"status": ["lapsed"]})


def test_segment_delete(staff_client, community):
    segment = SegmentFactory(community=community)
    assert (
        staff_client.post(segment_url("segment_delete", community, segment.pk)).status_code == 302
    )
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_live_count_answers_for_an_unsaved_filter(staff_client, community, people):
    url = segment_url("segment_count", community, community.pk)
    assert staff_client.get(url, {"a_city": "Bangkok"}).json() == {"count": 2}
    assert staff_client.get(url).json() == {"count": 4}
    bad = staff_client.get(url, {"active_within_days": "-3"})
    assert bad.status_code == 400 and "active_within_days" in bad.json()["errors"]


def test_segment_list_counts_without_a_query_per_segment(
    staff_client, community, people, django_assert_max_num_queries
):
    for n in range(15):
        SegmentFactory(community=community, filter={"attributes": {"age": {"gte": n}}})
    with django_assert_max_num_queries(10):
        page = staff_client.get(segment_url("segment_list", community, community.pk))
    assert page.status_code == 200


def test_analyst_sees_segments_but_may_not_change_them(client, community):
    client.force_login(
        StaffRoleFactory(organisation=community.organisation, role=Role.ANALYST).user
    )
    segment = SegmentFactory(community=community)
    assert client.get(segment_url("segment_list", community, community.pk)).status_code == 200
    assert client.get(segment_url("segment_create", community, community.pk)).status_code == 403
    assert client.post(segment_url("segment_delete", community, segment.pk)).status_code == 403
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_segment_update_refuses_another_segments_name(community):
    SegmentFactory(community=community, name="A")
    b = SegmentFactory(community=community, name="B")
    with pytest.raises(ValidationError):
        segment_update(segment=b, name="a", filter={})
