"""The case workflow through the API: resolving names a root cause of the organisation's
own list (another organisation's is 422), a resolved case is closed, and the case, its
list and its webhook payload carry the SLA times, team and root cause."""

import pytest

from communities.webhooks.models import WebhookDelivery
from feedback.models import Case
from tests.factories.communities import WebhookEndpointFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.feedback.api.helpers import role_client, url

pytestmark = pytest.mark.django_db


def test_resolving_through_the_api_names_one_of_the_organisations_root_causes(
    organisation, other_organisation
):
    # given
    case = CaseFactory(response__survey__organisation=organisation)
    client, _me = role_client(organisation)
    status_url = url("case_status", organisation, case.pk)
    theirs = RootCauseFactory(organisation=other_organisation)
    mine = RootCauseFactory(organisation=organisation, name="Late delivery")

    # when
    foreign = client.post(
        status_url,
        {"status": "resolved", "resolution": "Sorry.", "root_cause": theirs.pk},
        format="json",
    )
    malformed = client.post(
        status_url,
        {"status": "resolved", "resolution": "Sorry.", "root_cause": "late"},
        format="json",
    )
    resolved = client.post(
        status_url,
        {"status": "resolved", "resolution": "Sorry.", "root_cause": mine.pk},
        format="json",
    )
    closed = client.post(status_url, {"status": "closed"}, format="json")

    # then
    assert foreign.status_code == 422, foreign.content
    assert [e["pointer"] for e in foreign.json()["errors"]] == ["/root_cause"]
    assert malformed.status_code == 400
    assert resolved.status_code == 200 and resolved.json()["root_cause"] == "Late delivery"
    assert closed.status_code == 200
    body = closed.json()
    assert body["status"] == "closed" and body["closed_at"] is not None
    assert Case.objects.get(pk=case.pk).root_cause == mine


def test_the_list_and_the_webhook_carry_the_sla_team_and_root_cause(organisation):
    # given
    endpoint = WebhookEndpointFactory(organisation=organisation)
    team = TeamFactory(organisation=organisation)
    case = CaseFactory(response__survey__organisation=organisation, team=team)
    client, _me = role_client(organisation)

    # when
    listed = client.get(url("case_list", organisation)).json()["results"][0]
    client.post(url("case_status", organisation, case.pk), {"status": "open"}, format="json")

    # then
    assert listed["team_id"] == team.pk and listed["status"] == "new"
    assert {"first_response_due_at", "first_response_at", "root_cause"} <= set(listed)
    payload = WebhookDelivery.objects.get(endpoint=endpoint).payload["data"]["case"]
    assert payload["team_id"] == team.pk and payload["first_response_at"] is not None
