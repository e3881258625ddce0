"""Rate limits on every API request, per caller per organisation, reads and writes apart
(communities/api/base.py, config/ratelimit.py)."""

import pytest
from rest_framework.test import APIClient

from communities.choices import Role
from communities.services import api_token_create
from tests.api.problems import problem
from tests.communities.members_api import members_url, new_member
from tests.factories.communities import CommunityFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db


def key_client(organisation) -> APIClient:
    client = APIClient()
    key = api_token_create(organisation=organisation, name="other")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def limits(answer) -> tuple[int, int, int, str]:
    return (
        int(answer["RateLimit-Limit"]),
        int(answer["RateLimit-Remaining"]),
        int(answer["RateLimit-Reset"]),
        answer["RateLimit-Policy"],
    )


def test_every_answer_says_where_the_callers_budget_stands(
    api, organisation, community, other_organisation
):
    url = members_url(organisation, community)
    # when: reads, a write, and refusals
    reads = [api.get(url) for _ in range(2)]
    write = api.post(url, new_member(), format="json")
    foreign = api.get(
        members_url(other_organisation, CommunityFactory(organisation=other_organisation))
    )
    stranger = APIClient().get(url)
    # then
    assert limits(reads[0])[:2] == (1200, 1199) and limits(reads[1])[:2] == (1200, 1198)
    assert limits(reads[0])[3] == "1200;w=60"
    assert 1 <= limits(reads[1])[2] <= 60
    assert limits(write)[:2] == (600, 599) and limits(write)[3] == "600;w=60"
    assert foreign.status_code == 404 and int(foreign["RateLimit-Limit"]) == 1200
    assert stranger.status_code == 401 and "RateLimit-Remaining" in stranger


def test_over_the_read_budget_is_a_429_problem_while_writes_and_other_keys_go_on(
    api, organisation, community, settings
):
    # given: two reads a minute
    settings.API_RATE_READS_PER_MINUTE = 2
    url = members_url(organisation, community)
    # when
    answers = [api.get(url) for _ in range(3)]
    # then
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert problem(refused, 429)["type"].endswith("/rate-limited")
    assert refused["Retry-After"] == refused["RateLimit-Reset"]
    assert 1 <= int(refused["Retry-After"]) <= 60 and refused["RateLimit-Remaining"] == "0"
    # and the write budget, and another key of the organisation, are untouched
    assert api.post(url, new_member(), format="json").status_code == 201
    assert key_client(organisation).get(url).status_code == 200


def test_each_staff_member_has_a_budget_of_their_own(client, organisation, community, settings):
    settings.API_RATE_WRITES_PER_MINUTE = 1
    url = members_url(organisation, community)
    answers = []
    for n in range(2):
        client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ADMIN).user)
        for attempt in range(2):
            answers.append(
                client.post(
                    url,
                    new_member(email=f"p{n}-{attempt}@example.com"),
                    content_type="application/json",
                ).status_code
            )
    assert answers == [201, 429, 201, 429]


def test_a_spent_budget_holds_in_its_organisation_only(api, organisation, community, settings):
    # given: a key that spent its writes
    settings.API_RATE_WRITES_PER_MINUTE = 1
    url = members_url(organisation, community)
    assert api.post(url, new_member(), format="json").status_code == 201
    assert api.post(url, new_member(email="b@example.com"), format="json").status_code == 429
    # then under another organisation's URL it is not held back (and told the URL is unknown)
    other = CommunityFactory()
    assert (
        api.post(members_url(other.organisation, other), new_member(), format="json").status_code
        == 404
    )
