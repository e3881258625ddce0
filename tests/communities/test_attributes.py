"""Custom member attributes per community: defined by staff, validated on every write."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.choices import AttributeKind
from communities.models import AttributeDefinition, Member
from communities.services import (
    attribute_create,
    attribute_delete,
    attribute_update,
    attributes_clean,
)
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db


def url(name, organisation, pk):
    return reverse(f"staff:{name}", args=[organisation.slug, pk])


def form_data(**overrides):
    data = {
        "key": "age_band",
        "label_en": "Age band",
        "label_th": "ช่วงอายุ",
        "label_he": "",
        "label_ja": "年齢層",
        "kind": AttributeKind.CHOICE,
        "options": "18-24 | 18 to 24 | 18–24 ปี\n25-34 | 25 to 34\n35+",
        "required": "on",
        "position": 1,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_add_a_single_choice_attribute_with_labels_per_language(staff_client, community):
    # when
    page = staff_client.post(
        url("attribute_list", community.organisation, community.pk), form_data()
    )

    # then
    assert page.status_code == 302
    definition = AttributeDefinition.objects.get()
    assert definition.community == community
    assert definition.organisation_id == community.organisation_id
    assert definition.label == {"en": "Age band", "th": "ช่วงอายุ", "ja": "年齢層"}
    assert definition.options == [
        {"value": "18-24", "label": {"en": "18 to 24", "th": "18–24 ปี"}},
        {"value": "25-34", "label": {"en": "25 to 34"}},
        {"value": "35+", "label": {"en": "35+"}},
    ]
    assert definition.required and not definition.ask_on_join
    listing = staff_client.get(page["Location"]).content.decode()
    assert "age_band" in listing and "Age band" in listing
    # and the definition now validates member values
    assert attributes_clean(community=community, values={"age_band": "25-34"}) == {
        "age_band": "25-34"
    }
    with pytest.raises(ValidationError):
        attributes_clean(community=community, values={"age_band": "99"})


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"key": ""}, "key", "required"),
        ({"key": "age band!"}, "key", "valid"),
        ({"key": "k" * 41}, "key", "at most 40"),
        ({"label_en": ""}, "label_en", "required"),
        ({"label_th": "ย" * 101}, "label_th", "at most 100"),
        ({"kind": "colour"}, "kind", "valid choice"),
        ({"options": "only-one"}, "options", "at least two"),
        ({"options": ""}, "options", "at least two"),
        ({"options": "a\nb\na"}, "options", "listed twice"),
        ({"options": "a | b | c | d | e | f\nb"}, "options", "more than five parts"),
        ({"options": "\n".join(f"o{n}" for n in range(101))}, "options", "At most 100"),
        ({"options": "a | | Thai only\nb"}, "options", "English label"),
        ({"position": -1}, "position", "greater than or equal to 0"),
    ],
)
def test_bad_attribute_input_is_explained_and_nothing_is_written(
    staff_client, community, overrides, field, message
):
    page = staff_client.post(
        url("attribute_list", community.organisation, community.pk), form_data(**overrides)
    )
    assert page.status_code == 400
    errors = page.context["form"].errors.get(field, [])
    assert any(message in e for e in errors), page.context["form"].errors
    assert not AttributeDefinition.objects.exists()


def test_a_key_already_used_in_the_community_is_refused(staff_client, community):
    AttributeDefinitionFactory(community=community, key="age_band")
    page = staff_client.post(
        url("attribute_list", community.organisation, community.pk), form_data()
    )
    assert page.status_code == 400
    assert "already has an attribute" in page.context["form"].errors["key"][0]
    # while another community may use the same key
    attribute_create(
        community=CommunityFactory(organisation=community.organisation),
        key="age_band",
        label={"en": "Age"},
        kind=AttributeKind.TEXT,
    )


def test_options_are_ignored_for_kinds_other_than_choice(community):
    definition = attribute_create(
        community=community,
        key="city",
        label={"en": "City"},
        kind=AttributeKind.TEXT,
        options=[{"value": "x"}],
    )
    assert definition.options == []


def test_removing_an_option_members_chose_is_refused_with_the_count(staff_client, community):
    # given: two members chose 18-24, one chose 35+
    definition = AttributeDefinitionFactory(community=community, age_band=True)
    for value in ("18-24", "18-24", "35+"):
        MemberFactory(community=community, attributes={"age_band": value})

    # when: staff remove 18-24 and 35+
    page = staff_client.post(
        url("attribute_edit", community.organisation, definition.pk),
        form_data(options="25-34\n45+"),
    )

    # then: refused, with how many members hold each, and nothing changed
    assert page.status_code == 400
    errors = page.context["form"].errors["options"]
    assert any("2 members chose “18-24”" in e for e in errors), errors
    assert any("1 member chose “35+”" in e for e in errors), errors
    definition.refresh_from_db()
    assert [o["value"] for o in definition.options] == ["18-24", "25-34", "35+"]


def test_an_unused_option_can_be_removed_and_labels_changed(staff_client, community):
    definition = AttributeDefinitionFactory(community=community, age_band=True)
    MemberFactory(community=community, attributes={"age_band": "18-24"})

    page = staff_client.post(
        url("attribute_edit", community.organisation, definition.pk),
        form_data(options="18-24 | Young\n35+ | Older", label_en="Age group"),
    )

    assert page.status_code == 302
    definition.refresh_from_db()
    assert definition.options == [
        {"value": "18-24", "label": {"en": "Young"}},
        {"value": "35+", "label": {"en": "Older"}},
    ]
    assert definition.label["en"] == "Age group"


def test_the_key_cannot_be_changed_on_edit(staff_client, community):
    definition = AttributeDefinitionFactory(community=community, age_band=True)
    staff_client.post(
        url("attribute_edit", community.organisation, definition.pk), form_data(key="renamed")
    )
    definition.refresh_from_db()
    assert definition.key == "age_band"


def test_the_kind_changes_only_while_no_member_holds_a_value(community):
    definition = AttributeDefinitionFactory(community=community, key="visits", kind="text")
    attribute_update(definition=definition, label={"en": "Visits"}, kind=AttributeKind.NUMBER)
    definition.refresh_from_db()
    assert definition.kind == AttributeKind.NUMBER

    MemberFactory(community=community, attributes={"visits": 3})
    with pytest.raises(ValidationError, match="1 member has a value"):
        attribute_update(definition=definition, label={"en": "Visits"}, kind=AttributeKind.DATE)


def test_delete_asks_first_saying_how_many_members_hold_a_value(staff_client, community):
    definition = AttributeDefinitionFactory(community=community, key="city")
    MemberFactory(community=community, attributes={"city": "Bangkok"})
    MemberFactory(community=community, attributes={})

    page = staff_client.get(url("attribute_delete", community.organisation, definition.pk))

    assert page.status_code == 200
    assert "1 member has a value for it" in page.content.decode()
    assert AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_deleting_removes_the_values_from_members_in_one_update(staff_client, community):
    # given: three members with the attribute among others, one without, one elsewhere
    definition = AttributeDefinitionFactory(community=community, key="city")
    holders = [
        MemberFactory(community=community, attributes={"city": c, "age": 30})
        for c in ("Bangkok", "Haifa", "Osaka")
    ]
    MemberFactory(community=community, attributes={"age": 40})
    elsewhere = MemberFactory(attributes={"city": "Paris"})
    segment = SegmentFactory(
        community=community, filter={"attributes": {"city": "Bangkok", "age": 30}}
    )

    # when
    with CaptureQueriesContext(connection) as queries:
        page = staff_client.post(url("attribute_delete", community.organisation, definition.pk))

    # then
    assert page.status_code == 302
    member_updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "communities_member"')
    ]
    assert len(member_updates) == 1
    for member in holders:
        member.refresh_from_db()
        assert member.attributes == {"age": 30}
    elsewhere.refresh_from_db()
    assert elsewhere.attributes == {"city": "Paris"}
    segment.refresh_from_db()
    assert segment.filter == {"attributes": {"age": 30}}
    assert not AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_delete_with_a_hyphenated_key_removes_exactly_that_key(community):
    definition = AttributeDefinitionFactory(community=community, key="home-city")
    member = MemberFactory(community=community, attributes={"home-city": "Bangkok", "home": 1})
    assert attribute_delete(definition=definition) == 1
    member.refresh_from_db()
    assert member.attributes == {"home": 1}
    assert Member.objects.filter(attributes__has_key="home-city").count() == 0


def test_attribute_list_query_count_does_not_grow(
    staff_client, community, django_assert_max_num_queries
):
    for n in range(15):
        AttributeDefinitionFactory(community=community, key=f"attribute_{n:02}")
    with django_assert_max_num_queries(8):
        page = staff_client.get(url("attribute_list", community.organisation, community.pk))
    assert page.content.decode().count("attribute_") >= 15
