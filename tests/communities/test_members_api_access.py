"""The members API: who may call it (keys, sessions, roles, tenants, rate limits) and
its OpenAPI schema."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from communities.api import views as api_views
from communities.api.auth import API_KEY_FAILURES_PER_MINUTE
from communities.choices import (
    Role,
)
from communities.models import Member
from communities.services import api_token_create, api_token_revoke
from tests.api.problems import problem
from tests.communities.members_api import (
    member_url,
    members_url,
    new_member,
)
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
)

pytestmark = pytest.mark.django_db


# --- who may call it -----------------------------------------------------------------------


def test_a_caller_without_credentials_gets_401(organisation, community):
    answer = APIClient().get(members_url(organisation, community))

    assert problem(answer, 401)["code"] == "not_authenticated"
    assert answer["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_gets_401(organisation, community):
    token, key = api_token_create(organisation=organisation, name="old")
    api_token_revoke(token=token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    answer = client.get(members_url(organisation, community))

    assert "revoked" in problem(answer, 401)["detail"]


def test_guessing_keys_from_one_address_is_answered_429_while_a_real_key_still_works(
    organisation, community, key
):
    # given someone trying random keys from one address
    guesser = APIClient(REMOTE_ADDR="198.51.100.7")
    answers = [
        guesser.get(
            members_url(organisation, community), HTTP_AUTHORIZATION=f"Bearer guess-{n}"
        ).status_code
        for n in range(API_KEY_FAILURES_PER_MINUTE + 5)
    ]
    # then the first tries are told the key is unknown, the rest to wait
    assert answers[:API_KEY_FAILURES_PER_MINUTE] == [401] * API_KEY_FAILURES_PER_MINUTE
    assert set(answers[API_KEY_FAILURES_PER_MINUTE:]) == {429}
    # and another address, and the real key from the same address, are not held back
    other = APIClient(REMOTE_ADDR="203.0.113.9")
    assert (
        other.get(members_url(organisation, community), HTTP_AUTHORIZATION="Bearer x").status_code
        == 401
    )
    real = guesser.get(members_url(organisation, community), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert real.status_code == 200


def test_another_organisations_key_is_told_the_url_does_not_exist(
    organisation, community, other_organisation
):
    key = api_token_create(organisation=other_organisation, name="theirs")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    read = client.get(members_url(organisation, community))
    write = client.post(members_url(organisation, community), new_member(), format="json")

    assert read.status_code == write.status_code == 404
    assert not Member.objects.exists()


def test_an_unknown_organisation_is_404_for_keys_and_staff(api, staff_client, community):
    url = reverse("api:community_list", args=["no-such-org"])

    assert api.get(url).status_code == 404
    assert staff_client.get(url).status_code == 404


def test_staff_sessions_read_and_write_by_role(client, organisation, community):
    # given
    member = MemberFactory(community=community)
    url = members_url(organisation, community)
    outcomes = {}
    # when
    for role in Role:
        client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
        outcomes[role] = (
            client.get(url).status_code,
            client.post(
                url,
                new_member(email=f"{role}@example.com"),
                content_type="application/json",
            ).status_code,
            client.patch(
                member_url(organisation, member),
                {"name": role},
                content_type="application/json",
            ).status_code,
        )
    # then
    assert outcomes == {
        Role.OWNER: (200, 201, 200),
        Role.ADMIN: (200, 201, 200),
        Role.ANALYST: (200, 403, 403),
        Role.AGENT: (403, 403, 403),
    }


def _routes_with_ids(organisation):
    community = CommunityFactory(organisation=organisation)
    member = MemberFactory(community=community)
    segment = SegmentFactory(community=community)
    return [
        ("get", "api:community_detail", community),
        ("get", "api:community_member_list", community),
        ("post", "api:community_member_list", community),
        ("post", "api:community_member_invite", community),
        ("get", "api:community_segment_list", community),
        ("get", "api:member_detail", member),
        ("patch", "api:member_detail", member),
        ("get", "api:segment_member_list", segment),
    ]


def _call(caller, method: str, url: str):
    if method == "get":
        return caller.get(url)
    return getattr(caller, method)(url, new_member(), content_type="application/json")


def test_another_organisations_ids_under_mine_are_404_for_keys_and_staff(
    api, staff_client, organisation, other_organisation
):
    # given: every route of this API that takes an id, with another organisation's ids
    from config.api_router import api_routes

    foreign = _routes_with_ids(other_organisation)
    with_ids = {
        f"api:{p.name}"
        for p in api_routes()
        if "<int:pk>" in str(p.pattern) and p.callback.view_class.__module__ == api_views.__name__
    }
    assert with_ids == {name for _m, name, _o in foreign}, "add the new route here"
    # when / then
    for method, name, obj in foreign:
        url = reverse(name, args=[organisation.slug, obj.pk])
        for caller in (api, staff_client):
            assert _call(caller, method, url).status_code == 404, (method, name)
    assert Member.objects.count() == 1
    # and the same reads with my own ids answer
    for method, name, obj in _routes_with_ids(organisation):
        if method == "get":
            url = reverse(name, args=[organisation.slug, obj.pk])
            assert _call(api, method, url).status_code == 200, name


def test_writes_are_rate_limited_per_caller_with_retry_after(
    api, organisation, community, other_organisation, settings
):
    # given: a budget of three writes a minute
    settings.API_RATE_WRITES_PER_MINUTE = 3
    url = members_url(organisation, community)
    # when: four writes (one of them invalid: refused writes count too), then a read
    answers = [
        api.post(url, new_member(email=f"p{n}@example.com"), format="json") for n in range(2)
    ]
    answers.append(api.post(url, {"email": "bad"}, format="json"))
    answers.append(api.post(url, new_member(email="late@example.com"), format="json"))
    read = api.get(url)
    # then
    assert [a.status_code for a in answers] == [201, 201, 400, 429]
    assert problem(answers[-1], 429)["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1]["RateLimit-Remaining"] == "0"
    assert read.status_code == 200  # reads have their own budget
    assert not Member.objects.filter(email="late@example.com").exists()
    # and another key of the organisation, and another organisation's, have their own
    for org, theirs in (
        (organisation, community),
        (other_organisation, CommunityFactory(organisation=other_organisation)),
    ):
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {api_token_create(organisation=org, name='x')[1]}"
        )
        answer = client.post(members_url(org, theirs), new_member(), format="json")
        assert answer.status_code == 201


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_lists_the_members_api_and_generates_without_warnings(staff_client, tmp_path):
    # when
    page = staff_client.get(reverse("api:schema"))
    # then
    assert page.status_code == 200
    text = page.content.decode()
    for path in (
        "/api/v1/{org}/communities/",
        "/api/v1/{org}/communities/{id}/members/",
        "/api/v1/{org}/communities/{id}/members/invite/",
        "/api/v1/{org}/communities/{id}/segments/",
        "/api/v1/{org}/members/{id}/",
        "/api/v1/{org}/segments/{id}/members/",
    ):
        assert f"{path}:" in text, path
    # and: drf-spectacular has nothing to warn about (this raises if it does)
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
