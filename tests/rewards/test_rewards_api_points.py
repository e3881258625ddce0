"""The rewards API, a member's points, and the rules every route keeps: who may call it
(under the members API's rules), the shared write budget, and the schema."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from communities.choices import Role
from communities.services import api_token_create, api_token_revoke
from rewards.choices import RedemptionStatus
from rewards.models import Redemption, Reward
from rewards.services import points_adjust, redemption_request
from tests.api.problems import problem, refused_fields
from tests.communities.members_api import erased_member
from tests.factories.communities import MemberFactory
from tests.factories.rewards import (
    LedgerEntryFactory,
    RedemptionFactory,
    RewardFactory,
)
from tests.rewards.api_helpers import (
    rich_member,
    role_client,
    url,
)

pytestmark = pytest.mark.django_db


# --- a member's points ---------------------------------------------------------------------


def test_member_points_gives_the_balance_and_explains_each_line_newest_first(
    api, staff_user, organisation, community
):
    # given: points earned, a staff adjustment, a redemption
    member = rich_member(community, points=500)
    points_adjust(
        member=member,
        points=-50,
        note="Duplicate survey",
        actor=staff_user,
        idempotency_key="adj-1",
    )
    redemption_request(
        member=member,
        reward=RewardFactory(organisation=organisation, community=community, cost=100, name="Mug"),
    )
    # when
    answer = api.get(url("member_points", organisation, member.pk))
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert body["balance"] == 350
    assert [(e["points"], e["reason"]) for e in body["entries"]] == [
        (-100, "redemption_hold"),
        (-50, "adjustment"),
        (500, "adjustment"),
    ]
    assert body["entries"][0]["detail"]["title"] == "Mug"
    assert body["entries"][1]["created_by"] == staff_user.email
    assert body["entries"][1]["detail"]["note"] == "Duplicate survey"
    assert body["entries"][2]["created_by"] is None
    assert "source" not in body["entries"][0]


@pytest.mark.parametrize("count", [5, 60])
def test_member_points_pages_the_history_in_queries_that_do_not_grow(
    api, organisation, community, count, django_assert_max_num_queries
):
    # given
    member = MemberFactory(community=community)
    now = timezone.now()
    for n in range(count):
        LedgerEntryFactory(member=member, points=2, created_at=now - timedelta(minutes=n))
    points = url("member_points", organisation, member.pk)
    # when
    with django_assert_max_num_queries(5):
        first = api.get(points, {"page_size": 50})
    rest = api.get(first.json()["next"]) if first.json()["next"] else None
    # then
    assert first.json()["balance"] == 2 * count
    read = len(first.json()["entries"]) + (len(rest.json()["entries"]) if rest else 0)
    assert read == count


def test_member_points_is_404_for_another_organisations_or_an_erased_member(
    api, staff_client, organisation, community, other_organisation
):
    foreign = MemberFactory(community__organisation=other_organisation)
    erased = erased_member(community)

    for member in (foreign, erased):
        for caller in (api, staff_client):
            assert caller.get(url("member_points", organisation, member.pk)).status_code == 404


def test_member_points_refuses_an_unknown_parameter(api, organisation, community):
    member = MemberFactory(community=community)

    answer = api.get(url("member_points", organisation, member.pk), {"since": "2024-01-01"})

    assert answer.status_code == 400 and "since" in refused_fields(answer)


# --- who may call it -----------------------------------------------------------------------


def every_route(organisation, community):
    reward = RewardFactory(organisation=organisation, community=community)
    redemption = RedemptionFactory(member__community=community, reward=reward)
    member = redemption.member
    return [
        ("get", url("reward_list", organisation)),
        ("post", url("reward_list", organisation)),
        ("get", url("reward_detail", organisation, reward.pk)),
        ("patch", url("reward_detail", organisation, reward.pk)),
        ("get", url("redemption_list", organisation)),
        ("get", url("redemption_detail", organisation, redemption.pk)),
        ("post", url("redemption_approve", organisation, redemption.pk)),
        ("post", url("redemption_reject", organisation, redemption.pk)),
        ("post", url("redemption_fulfil", organisation, redemption.pk)),
        ("get", url("member_points", organisation, member.pk)),
    ]


def call(client, method, target):
    """A read, or a write with a body any of the writes would take."""
    if method == "get":
        return client.get(target)
    body = {"reason": "x", "name": "x", "cost": 1}
    return getattr(client, method)(target, body, format="json")


def test_every_route_answers_401_without_credentials_or_with_a_revoked_key(organisation, community):
    token, key = api_token_create(organisation=organisation, name="old")
    api_token_revoke(token=token)
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    for method, target in every_route(organisation, community):
        assert call(APIClient(), method, target).status_code == 401, (method, target)
        assert call(revoked, method, target).status_code == 401, (method, target)
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


def test_another_organisations_key_is_told_no_route_exists(
    organisation, community, other_organisation
):
    key = api_token_create(organisation=other_organisation, name="theirs")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    for method, target in every_route(organisation, community):
        assert call(client, method, target).status_code == 404, (method, target)
    assert Reward.objects.count() == 1


def test_an_analyst_reads_but_every_write_is_403_and_changes_nothing(organisation, community):
    # given: a read-only session (organisation keys, like the members API's, may write)
    analyst = role_client(organisation, Role.ANALYST)
    # when
    answers = {
        (method, target): call(analyst, method, target).status_code
        for method, target in every_route(organisation, community)
    }
    # then
    assert {code for (method, _t), code in answers.items() if method == "get"} == {200}
    assert {code for (method, _t), code in answers.items() if method != "get"} == {403}
    assert Reward.objects.count() == 1
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


def test_writes_are_held_to_the_callers_write_budget(api, organisation, reward, settings):
    # given: two writes a minute
    settings.API_RATE_WRITES_PER_MINUTE = 2
    target = url("reward_detail", organisation, reward.pk)
    # when
    answers = [api.patch(target, {"cost": cost}, format="json") for cost in (101, 102, 103)]
    # then
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert problem(answers[-1], 429)["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    reward.refresh_from_db()
    assert reward.cost == 102
    assert api.get(target).status_code == 200


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_describes_the_rewards_api_with_its_refusals(staff_client, tmp_path):
    # when
    text = staff_client.get(reverse("api:schema")).content.decode()
    # then
    for path in (
        "/api/v1/{org}/rewards/",
        "/api/v1/{org}/rewards/{id}/",
        "/api/v1/{org}/redemptions/",
        "/api/v1/{org}/redemptions/{id}/",
        "/api/v1/{org}/redemptions/{id}/approve/",
        "/api/v1/{org}/redemptions/{id}/reject/",
        "/api/v1/{org}/redemptions/{id}/fulfil/",
        "/api/v1/{org}/members/{id}/points/",
    ):
        assert f"{path}:" in text, path
    assert "ProblemDetails" in text and "'409':" in text
    assert "MemberPointsOutput" in text and "RewardKindEnum" in text
    # and: drf-spectacular has nothing to warn about (this raises if it does)
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
