"""What schemathesis found in the members and rewards API, kept as plain tests: the schema
and the server agree on every input (a 400 for what the schema refuses, never for what it
allows), the organisation's data refuses with 422, and outputs are as nullable as the
schema says.
"""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from communities.api.serializers import NON_BLANK_TEXT_PATTERN, SPACE_CHARACTERS, is_blank
from rewards.models import Reward
from tests.api.problems import refused_fields
from tests.factories.communities import AttributeDefinitionFactory, MemberFactory
from tests.factories.rewards import RewardFactory

pytestmark = pytest.mark.django_db


def reward_body(**change) -> dict:
    return {"name": "Mug", "cost": 100, **change}


@pytest.fixture
def schema(tmp_path) -> dict:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    return yaml.safe_load(out.read_text())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "\u3000\ufeff\x1f"}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"description": "nul\x00"}, "description"),
        ({"cost": "100"}, "cost"),
        ({"cost": 10.5}, "cost"),
        ({"active": 1}, "active"),
        ({"available_from": "2030-01-01"}, "available_from"),
        ({"available_from": "2030-01-01T09:00:00"}, "available_from"),
        ({"translations": {"th": {"name": "x", "title": "y"}}}, "translations"),
        ({"translations": None}, "translations"),
        ({"community": 0}, "community"),
    ],
)
def test_a_reward_the_schema_refuses_is_a_400(api, organisation, change, field):
    answer = api.post(
        reverse("api:reward_list", args=[organisation.slug]), reward_body(**change), format="json"
    )

    assert answer.status_code == 400, answer.json()
    assert field in refused_fields(answer)
    assert not Reward.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"name": " Mug with a space "},
        {"cost": 100.0},
        {"available_from": "2030-01-01t09:00:00z"},
        {"available_from": "2030-01-01T09:00:00.123456+07:00"},
        {"description": ""},
        {"translations": {"th": {"name": "แก้ว"}}},
    ],
)
def test_a_reward_the_schema_allows_is_taken(api, organisation, change):
    answer = api.post(
        reverse("api:reward_list", args=[organisation.slug]), reward_body(**change), format="json"
    )

    assert answer.status_code == 201, answer.json()


@pytest.mark.parametrize(
    ("page_size", "status"),
    [("1", 200), ("500", 200), ("0", 400), ("501", 400), ("ten", 400), ("", 400), ("٣", 400)],
)
def test_page_size_is_what_the_schema_says_or_a_400(
    api, organisation, community, page_size, status
):
    MemberFactory(community=community)
    lists = [
        reverse("api:community_member_list", args=[organisation.slug, community.pk]),
        reverse("api:reward_list", args=[organisation.slug]),
    ]

    answers = [api.get(url, {"page_size": page_size}) for url in lists]

    assert [answer.status_code for answer in answers] == [status, status]


def test_a_reward_filter_naming_nothing_here_is_a_422_and_a_malformed_one_a_400(api, organisation):
    url = reverse("api:reward_list", args=[organisation.slug])

    assert api.get(url, {"community": "99999"}).status_code == 422
    assert api.get(url, {"community": "-1"}).status_code == 400
    assert api.get(url, {"active": "yes"}).status_code == 400


def test_attributes_of_the_wrong_shape_are_a_400_and_unknown_ones_a_422(
    api, organisation, community
):
    AttributeDefinitionFactory(community=community, key="city")
    member = MemberFactory(community=community)
    url = reverse("api:member_detail", args=[organisation.slug, member.pk])

    shapes = [
        {"city": True},
        {"city": ["a"]},
        {"c ity": "x"},
        {"city": "x" * 201},
        {"city": "\x00"},
    ]
    for attributes in shapes:
        assert api.patch(url, {"attributes": attributes}, format="json").status_code == 400
    assert api.patch(url, {"attributes": {"shoe": "42"}}, format="json").status_code == 422
    assert api.patch(url, {"attributes": {"city": "Bangkok"}}, format="json").status_code == 200


def test_the_schema_states_the_servers_rules_for_text_and_unknown_fields(schema):
    create = schema["components"]["schemas"]["RewardCreateInput"]
    assert create["additionalProperties"] is False
    assert create["properties"]["name"]["pattern"] == NON_BLANK_TEXT_PATTERN
    assert create["properties"]["description"]["not"] == {"pattern": r"\x00"}
    translation = schema["components"]["schemas"]["TranslationInput"]
    assert translation["additionalProperties"] is False
    member = schema["components"]["schemas"]["MemberCreateInput"]
    assert member["properties"]["email"]["format"] == "email"
    assert member["required"] == ["consent", "email"]


def test_blank_means_the_same_to_the_server_and_to_the_schemas_pattern():
    pattern = re.compile(NON_BLANK_TEXT_PATTERN)
    for character in SPACE_CHARACTERS:
        assert is_blank(character * 3) and not pattern.search(character * 3)
    for text in ("a", " a ", "\u200b", "กา"):
        assert not is_blank(text) and pattern.search(text)


def test_nullable_outputs_are_nullable_in_the_schema(api, organisation, schema):
    RewardFactory(organisation=organisation, image="")
    reward = schema["components"]["schemas"]["RewardOutput"]["properties"]

    row = api.get(reverse("api:reward_list", args=[organisation.slug])).json()["results"][0]

    assert row["image_url"] is None and row["codes_left"] is None
    assert "null" in reward["image_url"]["type"] and "null" in reward["codes_left"]["type"]
