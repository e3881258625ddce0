"""The members API: a CRM syncs communities, members and segments with an organisation key
(or a staff session), under the same rules as the staff pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.api import views as api_views
from communities.choices import (
    AttributeKind,
    ConsentChannel,
    ConsentPurpose,
    MemberStatus,
)
from communities.models import ConsentRecord, Member
from communities.outbox.models import OutboundEmail
from tests.api.problems import field_errors, problem, refused_fields
from tests.communities.members_api import (
    erased_member,
    ids,
    invite_url,
    member_url,
    members_url,
    new_member,
)
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    ConsentRecordFactory,
    EmailSuppressionFactory,
    MemberFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(community):
    return AttributeDefinitionFactory(
        community=community,
        key="city",
        kind=AttributeKind.CHOICE,
        options=[{"value": "bangkok", "label": {"en": "Bangkok"}}, {"value": "tokyo"}],
    )


@pytest.fixture
def age(community):
    return AttributeDefinitionFactory(community=community, key="age", kind=AttributeKind.NUMBER)


# --- communities ---------------------------------------------------------------------------


def test_community_list_shows_my_communities_with_counts_and_attributes(
    api, organisation, community, city, other_organisation, django_assert_max_num_queries
):
    # given
    MemberFactory.create_batch(3, community=community, status=MemberStatus.ACTIVE)
    MemberFactory(community=community, status=MemberStatus.LAPSED)
    erased_member(community)
    for _ in range(5):
        AttributeDefinitionFactory(community=CommunityFactory(organisation=organisation))
    CommunityFactory(organisation=other_organisation)
    # when
    with django_assert_max_num_queries(6):
        answer = api.get(reverse("api:community_list", args=[organisation.slug]))
    # then
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert len(rows) == 6
    mine = next(row for row in rows if row["id"] == community.pk)
    assert mine["member_counts"] == {"active": 3, "lapsed": 1}
    assert mine["slug"] == community.slug and mine["join_mode"] == "open"
    assert mine["policy_version"] == 1
    assert mine["attributes"][0]["key"] == "city" and mine["attributes"][0]["kind"] == "choice"


def test_community_detail_answers_with_counts_and_another_organisations_is_404(
    api, organisation, community, other_organisation
):
    MemberFactory(community=community, status=MemberStatus.INVITED)
    foreign = CommunityFactory(organisation=other_organisation)

    answer = api.get(reverse("api:community_detail", args=[organisation.slug, community.pk]))
    refused = api.get(reverse("api:community_detail", args=[organisation.slug, foreign.pk]))

    assert answer.status_code == 200 and answer.json()["member_counts"] == {"invited": 1}
    assert problem(refused, 404)["code"] == "not_found"


# --- listing members -----------------------------------------------------------------------


def test_member_list_pages_by_id_and_never_shows_erased_members(api, organisation, community):
    # given
    members = MemberFactory.create_batch(5, community=community)
    erased_member(community)
    MemberFactory(community=community, erased_at=timezone.now())
    MemberFactory(community=CommunityFactory(organisation=organisation))
    # when
    first = api.get(members_url(organisation, community), {"page_size": 3})
    second = api.get(first.json()["next"])
    # then
    assert ids(first) == [m.pk for m in members[:3]]
    assert ids(second) == [m.pk for m in members[3:]]
    assert second.json()["next"] is None


def test_member_list_filters_by_status_search_attributes_and_activity(
    api, organisation, community, city, age
):
    # given
    now = timezone.now()
    ann = MemberFactory(
        community=community,
        name="Ann",
        attributes={"city": "bangkok", "age": 30},
        last_active_at=now - timedelta(days=2),
    )
    bob = MemberFactory(
        community=community,
        name="Bob",
        status=MemberStatus.LAPSED,
        attributes={"city": "tokyo", "age": 41},
        last_active_at=now - timedelta(days=200),
        joined_at=now - timedelta(days=400),
    )
    cat = MemberFactory(community=community, name="Cat", status=MemberStatus.NEW)
    url = members_url(organisation, community)
    # when / then
    assert ids(api.get(url, {"status": ["active", "lapsed"]})) == [ann.pk, bob.pk]
    assert ids(api.get(url, {"search": "bo"})) == [bob.pk]
    assert ids(api.get(url, {"attr.city": "bangkok"})) == [ann.pk]
    assert ids(api.get(url, {"attr.city": ["bangkok", "tokyo"]})) == [ann.pk, bob.pk]
    assert ids(api.get(url, {"attr.age": "41"})) == [bob.pk]
    assert ids(api.get(url, {"active_within_days": 7})) == [ann.pk]
    assert ids(api.get(url, {"inactive_for_days": 90})) == [bob.pk]
    assert ids(api.get(url, {"joined_within_days": 30})) == [ann.pk, cat.pk]


def test_member_list_narrows_to_a_segment_of_the_same_community(api, organisation, community):
    # given
    active = MemberFactory(community=community, status=MemberStatus.ACTIVE)
    MemberFactory(community=community, status=MemberStatus.LAPSED)
    segment = SegmentFactory(community=community, filter={"status": ["active"]})
    elsewhere = SegmentFactory(community=CommunityFactory(organisation=organisation))
    url = members_url(organisation, community)
    # when
    narrowed = api.get(url, {"segment": segment.pk})
    wrong = api.get(url, {"segment": elsewhere.pk})
    junk = api.get(url, {"segment": "abc"})
    # then
    assert ids(narrowed) == [active.pk]
    assert junk.status_code == 400 and "segment" in refused_fields(junk)
    # another community's segment is a well-formed id this community does not have
    assert wrong.status_code == 422 and "segment" in refused_fields(wrong)


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ({"stauts": "active"}, "stauts", 400),
        ({"status": "erased"}, "status", 400),
        ({"status": "nonsense"}, "status", 400),
        ({"active_within_days": "soon"}, "active_within_days", 400),
        ({"joined_within_days": "0"}, "joined_within_days", 400),
        ({"inactive_for_days": "99999"}, "inactive_for_days", 400),
        ({"attr.shoe_size": "42"}, "attr.shoe_size", 422),
        ({"attr.city": "paris"}, "attr.city", 422),
        ({"attr.age": "old"}, "attr.age", 422),
        ({"attr.age": ["1", "2"]}, "attr.age", 400),
        ({"attr.c i t y": "x"}, "attr.c i t y", 400),
        ({"search": "x" * 201}, "search", 400),
        ({"active_within_days": "5", "inactive_for_days": "9"}, "inactive_for_days", 422),
    ],
)
def test_member_list_refuses_a_filter_it_cannot_apply(
    api, organisation, community, city, age, query, field, status
):
    # 400: the request does not fit the schema; 422: it does, but this community has no
    # such attribute or value (or the filters contradict each other)
    MemberFactory(community=community)

    answer = api.get(members_url(organisation, community), query)

    assert answer.status_code == status and field in refused_fields(answer), answer.json()


def test_member_list_runs_in_bounded_queries_with_consents(
    api, organisation, community, city, django_assert_max_num_queries
):
    # given: 40 members, each with two consent decisions
    for member in MemberFactory.create_batch(40, community=community):
        ConsentRecordFactory(member=member)
        ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=False)
    segment = SegmentFactory(community=community, filter={"status": ["active"]})
    # when
    with django_assert_max_num_queries(8):
        answer = api.get(
            members_url(organisation, community), {"segment": segment.pk, "attr.city": "bangkok"}
        )
    with django_assert_max_num_queries(7):
        everyone = api.get(members_url(organisation, community))
    # then
    assert answer.status_code == 200 and answer.json()["results"] == []
    rows = everyone.json()["results"]
    assert len(rows) == 40
    assert rows[0]["consents"]["community_terms"]["granted"] is True
    assert rows[0]["consents"]["marketing"]["granted"] is False
    assert rows[0]["consents"]["contact_followup"] is None


# --- adding members ------------------------------------------------------------------------


def test_adding_a_member_with_consent_records_it_through_the_api(
    api, organisation, community, city, age
):
    # when
    answer = api.post(
        members_url(organisation, community),
        new_member(attributes={"city": "bangkok", "age": "34"}, marketing=True),
        format="json",
    )
    # then
    assert answer.status_code == 201
    body = answer.json()
    member = Member.objects.get(pk=body["id"])
    assert member.email == "kim@example.com" and member.locale == "th"
    assert member.attributes == {"city": "bangkok", "age": 34}
    assert member.status == MemberStatus.NEW and member.organisation == organisation
    assert body["attributes"] == {"city": "bangkok", "age": 34}
    assert body["consents"]["community_terms"]["channel"] == "api"
    assert body["consents"]["marketing"]["granted"] is True
    assert set(ConsentRecord.objects.values_list("purpose", "channel")) == {
        (ConsentPurpose.COMMUNITY_TERMS, ConsentChannel.API),
        (ConsentPurpose.MARKETING, ConsentChannel.API),
    }


@pytest.mark.parametrize("consent", [None, False, "no"])
def test_adding_a_member_without_consent_adds_nobody(api, organisation, community, consent):
    body = new_member(consent=consent)
    if consent is None:
        del body["consent"]

    answer = api.post(members_url(organisation, community), body, format="json")

    assert answer.status_code == 400 and "consent" in refused_fields(answer)
    assert not Member.objects.exists() and not ConsentRecord.objects.exists()


def test_an_address_already_in_the_community_answers_409_with_its_member(
    api, organisation, community
):
    existing = MemberFactory(community=community, email="kim@example.com")

    answer = api.post(members_url(organisation, community), new_member(), format="json")

    assert answer.status_code == 409
    assert answer.json()["member_id"] == existing.pk
    assert Member.objects.count() == 1


def test_the_same_address_in_another_community_is_a_new_member(api, organisation, community):
    MemberFactory(community=CommunityFactory(organisation=organisation), email="kim@example.com")

    answer = api.post(members_url(organisation, community), new_member(), format="json")

    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"email": None}, "email", 400),
        ({"email": ""}, "email", 400),
        ({"email": "not an address"}, "email", 400),
        ({"email": "a" * 250 + "@example.com"}, "email", 400),
        ({"name": "x" * 201}, "name", 400),
        ({"name": 5}, "name", 400),
        ({"locale": "fr"}, "locale", 400),
        ({"consent": False}, "consent", 400),
        ({"consent": "true"}, "consent", 400),
        ({"attributes": ["city"]}, "attributes", 400),
        ({"attributes": {"city": {"name": "Bangkok"}}}, "attributes", 400),
        ({"attributes": {"shoe_size": 42}}, "attributes", 422),
        ({"attributes": {"city": "paris"}}, "attributes", 422),
        ({"attributes": {"age": "forty"}}, "attributes", 422),
        ({"attributes": {f"k{n}": n for n in range(101)}}, "attributes", 400),
        ({"emial": "kim@example.com"}, "emial", 400),
        ({"status": "active"}, "status", 400),
        ({"marketing": "perhaps"}, "marketing", 400),
    ],
)
def test_adding_a_member_refuses_bad_input_with_field_errors(
    api, organisation, community, city, age, body, field, status
):
    # 400: the body does not fit the schema; 422: it does, but the community's attributes
    # refuse it
    data = {k: v for k, v in {**new_member(), **body}.items() if v is not None}

    answer = api.post(members_url(organisation, community), data, format="json")

    assert answer.status_code == status and field in refused_fields(answer), answer.json()
    assert not Member.objects.exists()


def test_an_attribute_error_names_the_attribute(api, organisation, community, city):
    answer = api.post(
        members_url(organisation, community),
        new_member(attributes={"city": "paris", "shoe_size": 1}),
        format="json",
    )

    errors = field_errors(answer)
    assert set(errors) == {"/attributes/city", "/attributes/shoe_size"}
    assert "bangkok" in errors["/attributes/city"][0]


def test_a_required_attribute_must_be_given(api, organisation, community):
    AttributeDefinitionFactory(community=community, key="city", required=True)

    answer = api.post(members_url(organisation, community), new_member(), format="json")

    assert answer.status_code == 422 and "/attributes/city" in field_errors(answer)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"email": "kim@example.com", ', "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("", "application/json", 400),
        ("email=kim@example.com&consent=true", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    api, organisation, community, data, content_type, status
):
    answer = api.generic(
        "POST", members_url(organisation, community), data, content_type=content_type
    )

    assert problem(answer, status)  # a problem saying what is wrong, never an HTML page
    assert not Member.objects.exists()


def test_a_body_over_one_megabyte_is_refused_unread(api, organisation, community):
    padding = "x" * (1024 * 1024)

    answer = api.post(members_url(organisation, community), new_member(name=padding), format="json")

    assert "1024 KB" in problem(answer, 413)["detail"]
    assert not Member.objects.exists()


# --- one member ----------------------------------------------------------------------------


def test_member_detail_shows_the_current_consent_per_purpose(api, organisation, member):
    # given: granted marketing, then withdrew it
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING)
    ConsentRecordFactory(
        member=member,
        purpose=ConsentPurpose.MARKETING,
        granted=False,
        recorded_at=timezone.now() + timedelta(seconds=1),
    )
    # when
    body = api.get(member_url(organisation, member)).json()
    # then
    assert body["email"] == member.email and body["community"] == member.community_id
    assert body["consents"]["community_terms"]["granted"] is True
    assert body["consents"]["marketing"]["granted"] is False
    assert body["consents"]["contact_followup"] is None
    assert {"joined_at", "last_active_at", "confirmed_at", "status"} <= set(body)


def test_an_erased_member_is_not_found(api, organisation, community):
    erased = erased_member(community)

    assert api.get(member_url(organisation, erased)).status_code == 404


def test_patch_changes_only_what_it_sends(api, organisation, community, city, age):
    # given
    member = MemberFactory(
        community=community, name="Kim", locale="en", attributes={"city": "tokyo", "age": 30}
    )
    # when
    answer = api.patch(member_url(organisation, member), {"attributes": {"age": 31}}, format="json")
    # then
    assert answer.status_code == 200
    member.refresh_from_db()
    assert member.name == "Kim" and member.locale == "en"
    assert member.attributes == {"city": "tokyo", "age": 31}
    assert answer.json()["attributes"] == {"city": "tokyo", "age": 31}


def test_patch_renames_relocalises_and_clears_an_attribute(api, organisation, community, city):
    member = MemberFactory(community=community, attributes={"city": "tokyo"})

    answer = api.patch(
        member_url(organisation, member),
        {"name": "  Kim Lee ", "locale": "ja", "attributes": {"city": None}},
        format="json",
    )

    member.refresh_from_db()
    assert answer.status_code == 200
    assert (member.name, member.locale, member.attributes) == ("Kim Lee", "ja", {})


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"locale": "xx"}, "locale", 400),
        ({"name": "x" * 201}, "name", 400),
        ({"name": "nul\x00"}, "name", 400),
        ({"attributes": {"city": "paris"}}, "attributes", 422),
        ({"attributes": {"unknown": 1}}, "attributes", 422),
        ({"email": "new@example.com"}, "email", 400),
        ({"status": "active"}, "status", 400),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(
    api, organisation, community, city, body, field, status
):
    member = MemberFactory(community=community, name="Kim", attributes={"city": "tokyo"})

    answer = api.patch(member_url(organisation, member), body, format="json")

    assert answer.status_code == status and field in refused_fields(answer)
    member.refresh_from_db()
    assert member.name == "Kim" and member.attributes == {"city": "tokyo"}


def test_there_is_no_delete_erasure_is_the_members_own_right(api, organisation, member):
    answer = api.delete(member_url(organisation, member))

    assert answer.status_code == 405
    assert Member.objects.filter(pk=member.pk, status=member.status).exists()


# --- inviting ------------------------------------------------------------------------------


def test_invite_makes_an_invited_member_and_sends_the_email(
    api, organisation, community, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(
            invite_url(organisation, community),
            {"email": "Ann@Example.com", "name": "Ann", "locale": "ja"},
            format="json",
        )
    # then
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "invited" and body["email"] == "ann@example.com"
    assert set(body["consents"].values()) == {None}  # they consent when they accept
    email = OutboundEmail.objects.get()
    assert email.template == "member_invitation" and email.language == "ja"
    assert len(mailoutbox) == 1 and "/invitation/" in mailoutbox[0].body


def test_invite_refuses_an_unsubscribed_address_and_a_member_already_there(
    api, organisation, community
):
    EmailSuppressionFactory(organisation=organisation, email="gone@example.com")
    existing = MemberFactory(community=community, email="here@example.com")
    url = invite_url(organisation, community)

    suppressed = api.post(url, {"email": "gone@example.com"}, format="json")
    duplicate = api.post(url, {"email": "HERE@example.com"}, format="json")
    bad = api.post(url, {"email": "nope"}, format="json")

    assert suppressed.status_code == 422 and "asked us not to email" in str(suppressed.json())
    assert duplicate.status_code == 409 and duplicate.json()["member_id"] == existing.pk
    assert bad.status_code == 400 and "email" in refused_fields(bad)
    assert Member.objects.count() == 1 and not OutboundEmail.objects.exists()


def test_invites_share_the_staff_pages_hourly_budget(api, organisation, community, monkeypatch):
    monkeypatch.setattr(api_views, "INVITES_PER_HOUR", 2)
    url = invite_url(organisation, community)

    answers = [api.post(url, {"email": f"p{n}@example.com"}, format="json") for n in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert Member.objects.count() == 2


# --- segments ------------------------------------------------------------------------------


def test_segments_list_with_live_counts_in_bounded_queries(
    api, organisation, community, django_assert_max_num_queries
):
    # given
    MemberFactory.create_batch(3, community=community, status=MemberStatus.ACTIVE)
    MemberFactory(community=community, status=MemberStatus.LAPSED)
    segments = [
        SegmentFactory(community=community, name=f"s{n}", filter={"status": ["active"]})
        for n in range(10)
    ]
    lapsed = SegmentFactory(community=community, filter={"status": ["lapsed"]})
    SegmentFactory(community=CommunityFactory(organisation=organisation))
    # when
    with django_assert_max_num_queries(6):
        answer = api.get(
            reverse("api:community_segment_list", args=[organisation.slug, community.pk])
        )
    # then
    counts = {row["id"]: row["member_count"] for row in answer.json()["results"]}
    assert counts == {**{s.pk: 3 for s in segments}, lapsed.pk: 1}
    assert answer.json()["results"][0]["filter"] == {"status": ["active"]}


def test_segment_members_are_paged_like_the_member_list(
    api, organisation, community, django_assert_max_num_queries
):
    # given
    active = MemberFactory.create_batch(4, community=community, status=MemberStatus.ACTIVE)
    MemberFactory(community=community, status=MemberStatus.LAPSED)
    segment = SegmentFactory(community=community, filter={"status": ["active"]})
    url = reverse("api:segment_member_list", args=[organisation.slug, segment.pk])
    # when
    with django_assert_max_num_queries(6):
        first = api.get(url, {"page_size": 3})
    second = api.get(first.json()["next"])
    # then
    assert ids(first) + ids(second) == [m.pk for m in active]


def test_a_segment_whose_saved_filter_is_unreadable_answers_409(api, organisation, community):
    segment = SegmentFactory(community=community, filter={"colour": "red"})

    answer = api.get(reverse("api:segment_member_list", args=[organisation.slug, segment.pk]))

    assert "Segments page" in problem(answer, 409)["detail"]
