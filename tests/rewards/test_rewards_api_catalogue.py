"""The rewards API, the catalogue: an integration (or a staff session) reads and edits
rewards, scoped to the organisation in the URL, every bad input a clear 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rewards.choices import RewardKind
from rewards.models import Reward
from tests.api.problems import field_errors, problem, refused_fields
from tests.factories.communities import CommunityFactory
from tests.factories.rewards import (
    RewardFactory,
    VoucherCodeFactory,
)
from tests.rewards.api_helpers import (
    ids,
    requested,
    url,
)

pytestmark = pytest.mark.django_db


# --- the catalogue -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_reward_list_shows_my_rewards_with_codes_left_in_queries_that_do_not_grow(
    api, organisation, community, other_organisation, count, django_assert_max_num_queries
):
    # given: rewards of mine (one a voucher with two free codes of three) and another's
    RewardFactory.create_batch(count, organisation=organisation, community=community)
    voucher = RewardFactory(
        organisation=organisation, community=community, kind=RewardKind.VOUCHER, stock=None
    )
    VoucherCodeFactory.create_batch(3, reward=voucher, organisation=organisation)
    requested(voucher)
    RewardFactory(organisation=other_organisation)
    # when
    with django_assert_max_num_queries(4):
        answer = api.get(url("reward_list", organisation), {"page_size": 100})
    # then
    assert answer.status_code == 200
    rows = {row["id"]: row for row in answer.json()["results"]}
    assert set(rows) == set(
        Reward.objects.filter(organisation=organisation).values_list("pk", flat=True)
    )
    assert rows[voucher.pk]["codes_left"] == 2
    some = next(row for pk, row in rows.items() if pk != voucher.pk)
    assert some["codes_left"] is None and some["image_url"] is None
    assert some["community"] == community.pk


def test_reward_list_filters_by_community_and_active(api, organisation, community):
    # given
    elsewhere = CommunityFactory(organisation=organisation)
    mine = RewardFactory(organisation=organisation, community=community)
    off = RewardFactory(organisation=organisation, community=community, active=False)
    theirs = RewardFactory(organisation=organisation, community=elsewhere)
    listing = url("reward_list", organisation)
    # when / then
    assert sorted(ids(api.get(listing, {"community": community.pk}))) == [mine.pk, off.pk]
    assert ids(api.get(listing, {"active": "false"})) == [off.pk]
    assert sorted(ids(api.get(listing, {"active": "true"}))) == [mine.pk, theirs.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"comunity": "1"}, "comunity"),
        ({"community": "abc"}, "community"),
        ({"community": "9" * 30}, "community"),
        ({"active": "yes"}, "active"),
    ],
)
def test_reward_list_refuses_a_filter_it_cannot_apply(api, organisation, query, field):
    answer = api.get(url("reward_list", organisation), query)

    assert answer.status_code == 400 and field in refused_fields(answer)


def test_reward_list_refuses_another_organisations_community(api, organisation, other_organisation):
    foreign = CommunityFactory(organisation=other_organisation)

    answer = api.get(url("reward_list", organisation), {"community": foreign.pk})

    assert field_errors(answer, 422)["/community"] == ["No such community in this organisation."]


def test_reward_detail_answers_and_another_organisations_is_404(
    api, staff_client, organisation, reward, other_organisation
):
    foreign = RewardFactory(organisation=other_organisation)

    answer = api.get(url("reward_detail", organisation, reward.pk))

    assert answer.status_code == 200 and answer.json()["cost"] == 100
    for caller in (api, staff_client):
        refused = caller.get(url("reward_detail", organisation, foreign.pk))
        assert problem(refused, 404)["code"] == "not_found"


def new_reward(community, **overrides):
    return {"community": community.pk, "name": "Coffee mug", "cost": 300, **overrides}


def test_reward_create_stores_every_field_and_answers_201(api, organisation, community):
    # given
    body = new_reward(
        community,
        kind="physical",
        description="A blue mug.",
        translations={"th": {"name": "แก้วกาแฟ", "description": "แก้วสีฟ้า"}, "ja": {"name": "マグ"}},
        stock=20,
        per_member_limit=2,
        available_from="2030-01-01T00:00:00Z",
        available_until="2030-02-01T00:00:00Z",
        auto_approve=True,
        active=False,
    )
    # when
    answer = api.post(url("reward_list", organisation), body, format="json")
    # then
    assert answer.status_code == 201, answer.json()
    reward = Reward.objects.get(pk=answer.json()["id"])
    assert (reward.organisation, reward.community, reward.kind) == (
        organisation,
        community,
        RewardKind.PHYSICAL,
    )
    assert reward.name_in("th") == "แก้วกาแฟ" and reward.description_in("ja") == "A blue mug."
    assert (reward.cost, reward.stock, reward.per_member_limit) == (300, 20, 2)
    assert reward.auto_approve and not reward.active
    assert answer.json()["available_until"].startswith("2030-02-01")


def test_reward_create_defaults_to_an_active_perk_for_every_community(api, organisation):
    answer = api.post(url("reward_list", organisation), {"name": "VIP", "cost": 5}, format="json")

    assert answer.status_code == 201
    row = answer.json()
    assert (row["kind"], row["community"], row["active"], row["stock"]) == (
        "perk",
        None,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 123}, "name"),
        ({"description": "x" * 2001}, "description"),
        ({"description": ["a"]}, "description"),
        ({"cost": None}, "cost"),
        ({"cost": 0}, "cost"),
        ({"cost": -5}, "cost"),
        ({"cost": "100"}, "cost"),
        ({"cost": 1.5}, "cost"),
        ({"cost": True}, "cost"),
        ({"cost": 10**12}, "cost"),
        ({"stock": -1}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"kind": "lottery"}, "kind"),
        ({"active": "yes"}, "active"),
        ({"available_from": "next tuesday"}, "available_from"),
        ({"translations": ["th"]}, "translations"),
        ({"translations": {"fr": {"name": "Tasse"}}}, "translations"),
        ({"translations": {"th": "แก้ว"}}, "translations"),
        ({"translations": {"th": {"name": "x" * 201}}}, "translations"),
        ({"translations": {"th": {"description": "x" * 2001}}}, "translations"),
        ({"translations": {"th": {"name": 5}}}, "translations"),
        ({"translations": {"th": {"title": "แก้ว"}}}, "translations"),
        ({"community": "abc"}, "community"),
        ({"image": "https://example.com/mug.png"}, "image"),
        ({"image_url": "https://example.com/mug.png"}, "image_url"),
    ],
)
def test_reward_create_refuses_bad_input_and_stores_nothing(
    api, organisation, community, change, field
):
    body = {**new_reward(community), **change}

    answer = api.post(url("reward_list", organisation), body, format="json")

    assert answer.status_code == 400, answer.json()
    assert field in refused_fields(answer), answer.json()
    assert not Reward.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "voucher", "stock": 5}, "stock"),
        (
            {"available_from": "2030-02-01T00:00:00Z", "available_until": "2030-01-01T00:00:00Z"},
            "available_until",
        ),
        (
            {"available_from": "2030-01-01T00:00:00Z", "available_until": "2030-01-01T00:00:00Z"},
            "available_until",
        ),
        ({"translations": {"en": {"name": "Mug"}}}, "translations"),
        ({"community": 10**15}, "community"),
    ],
)
def test_reward_create_refuses_what_the_schema_allows_but_the_catalogue_cannot_take(
    api, organisation, community, change, field
):
    # given a body of the right shape that names no community here, or contradicts itself
    body = {**new_reward(community), **change}
    # when
    answer = api.post(url("reward_list", organisation), body, format="json")
    # then it is a 422 naming the field, and nothing is stored
    assert answer.status_code == 422, answer.json()
    assert field in refused_fields(answer), answer.json()
    assert not Reward.objects.exists()


def test_reward_create_refuses_another_organisations_community_as_not_found(
    api, organisation, other_organisation
):
    foreign = CommunityFactory(organisation=other_organisation)

    answer = api.post(url("reward_list", organisation), new_reward(foreign), format="json")

    assert field_errors(answer, 422)["/community"] == ["No such community in this organisation."]
    assert not Reward.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": "Mug", "cost": ', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"Mug"', "application/json"),
        (b'{"name": "Mug", "cost": NaN}', "application/json"),
        (b"name=Mug&cost=5", "application/x-www-form-urlencoded"),
        (b'{"name": "' + b"x" * (1024 * 1024) + b'", "cost": 5}', "application/json"),
    ],
    ids=["truncated", "list", "string", "nan", "form", "over a megabyte"],
)
def test_a_body_that_is_not_a_json_object_is_a_400_413_or_415(
    api, organisation, reward, body, content_type
):
    for target, method in (
        (url("reward_list", organisation), "post"),
        (url("reward_detail", organisation, reward.pk), "patch"),
    ):
        answer = getattr(api, method)(target, body, content_type=content_type)
        assert answer.status_code in (400, 413, 415), (method, answer.status_code)
        assert problem(answer), method
    assert Reward.objects.count() == 1
    reward.refresh_from_db()
    assert reward.name != "Mug"


def test_reward_update_changes_only_the_fields_sent(api, organisation, reward):
    # given
    before = reward.name
    # when
    answer = api.patch(
        url("reward_detail", organisation, reward.pk), {"cost": 150, "active": False}, format="json"
    )
    # then
    assert answer.status_code == 200, answer.json()
    reward.refresh_from_db()
    assert (reward.cost, reward.active, reward.name, reward.stock) == (150, False, before, 5)
    assert answer.json()["cost"] == 150


def test_reward_update_checks_the_window_against_the_stored_start(api, organisation, reward):
    # given: a reward offered from 1 March
    reward.available_from = timezone.now() + timedelta(days=30)
    reward.save()
    # when: its end is set before that
    answer = api.patch(
        url("reward_detail", organisation, reward.pk),
        {"available_until": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )
    # then
    assert answer.status_code == 422 and "available_until" in refused_fields(answer)
    reward.refresh_from_db()
    assert reward.available_until is None


def test_reward_update_keeps_a_voucher_with_codes_a_voucher(api, organisation, community):
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None
    )
    VoucherCodeFactory(reward=voucher, organisation=organisation)

    answer = api.patch(
        url("reward_detail", organisation, voucher.pk), {"kind": "perk"}, format="json"
    )

    assert answer.status_code == 422 and "kind" in refused_fields(answer)
    voucher.refresh_from_db()
    assert voucher.kind == RewardKind.VOUCHER


@pytest.mark.parametrize(
    "change",
    [{"cost": -1}, {"name": ""}, {"costs": 5}, {"translations": {"xx": {}}}, {"stock": "many"}],
)
def test_reward_update_refuses_bad_input_and_changes_nothing(api, organisation, reward, change):
    answer = api.patch(url("reward_detail", organisation, reward.pk), change, format="json")

    assert answer.status_code == 400, answer.json()
    assert refused_fields(answer) == set(change)
    reward.refresh_from_db()
    assert (reward.cost, reward.stock) == (100, 5)


def test_another_organisations_reward_cannot_be_changed(api, organisation, other_organisation):
    foreign = RewardFactory(organisation=other_organisation, cost=100)

    answer = api.patch(url("reward_detail", organisation, foreign.pk), {"cost": 1}, format="json")

    assert answer.status_code == 404
    foreign.refresh_from_db()
    assert foreign.cost == 100
