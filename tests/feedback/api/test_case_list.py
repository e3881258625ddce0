"""The cases API's inbox: newest first, cursor-paginated in a fixed number of queries,
filtered by status, priority, assignee, survey, opening time and overdue, and scoped to the
organisation in the URL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import Role
from communities.services import api_token_create
from feedback.choices import CasePriority, CaseStatus
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import SurveyFactory
from tests.feedback.api.helpers import (
    anonymous_case,
    identified_case,
    ids,
    key_client,
    role_client,
    url,
)

pytestmark = pytest.mark.django_db


def _case(organisation, **fields):
    return CaseFactory(response__survey__organisation=organisation, **fields)


def test_the_inbox_lists_the_organisations_cases_newest_first(organisation, other_organisation):
    # given
    older, newer = _case(organisation), _case(organisation)
    _case(other_organisation)
    client, _user = role_client(organisation, Role.AGENT)

    # when
    answer = client.get(url("case_list", organisation))

    # then
    assert answer.status_code == 200
    assert ids(answer) == [newer.pk, older.pk]
    row = answer.json()["results"][0]
    assert row["reasons"][0]["code"] == "nps" and row["reasons"][0]["value"] == 3
    assert row["reason_text"] == "NPS 3 ≤ 6"
    assert row["survey"]["id"] == newer.response.survey_id


@pytest.mark.parametrize("page_size", [1, 100])
def test_the_inbox_runs_in_the_same_queries_whatever_the_page_size(
    organisation, survey, page_size, django_assert_max_num_queries
):
    # given: cases with assignees, on identified and anonymous responses
    for _ in range(6):
        agent = role_client(organisation, Role.AGENT)[1]
        identified_case(survey, assignee=agent)
        anonymous_case(survey)
    client, _user = role_client(organisation, Role.AGENT)

    # when
    with django_assert_max_num_queries(4):
        answer = client.get(url("case_list", organisation), {"page_size": page_size})

    # then
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == min(page_size, 12)


def test_the_inbox_pages_with_a_cursor_without_repeating_or_skipping(organisation):
    # given
    cases = [_case(organisation) for _ in range(5)]
    client, _user = role_client(organisation)

    # when: two cases a page, following `next`
    seen, page = [], client.get(url("case_list", organisation), {"page_size": 2})
    while True:
        seen += ids(page)
        if not page.json()["next"]:
            break
        page = client.get(page.json()["next"])

    # then
    assert seen == [c.pk for c in reversed(cases)]


def test_the_inbox_filters_by_status_priority_and_survey(organisation):
    # given
    survey = SurveyFactory(organisation=organisation)
    open_high = _case(organisation, priority=CasePriority.HIGH)
    waiting = _case(organisation, status=CaseStatus.WAITING)
    resolved = CaseFactory(
        response__survey=survey, status=CaseStatus.RESOLVED, resolved_at=timezone.now()
    )
    client, _user = role_client(organisation)
    listing = url("case_list", organisation)

    # when / then
    assert ids(client.get(listing, {"status": "waiting"})) == [waiting.pk]
    assert ids(client.get(listing, {"status": ["new", "resolved"]})) == [resolved.pk, open_high.pk]
    assert ids(client.get(listing, {"priority": "high"})) == [open_high.pk]
    assert ids(client.get(listing, {"survey": survey.pk})) == [resolved.pk]


def test_the_inbox_filters_by_assignee_me_and_none(organisation):
    # given
    client, me = role_client(organisation)
    colleague = role_client(organisation)[1]
    mine = _case(organisation, assignee=me)
    theirs = _case(organisation, assignee=colleague)
    nobodys = _case(organisation)
    listing = url("case_list", organisation)

    # when / then
    assert ids(client.get(listing, {"assignee": "me"})) == [mine.pk]
    assert ids(client.get(listing, {"assignee": "none"})) == [nobodys.pk]
    assert ids(client.get(listing, {"assignee": colleague.pk})) == [theirs.pk]


def test_an_api_key_has_no_cases_of_its_own(organisation, api):
    # given
    _case(organisation, assignee=role_client(organisation)[1])

    # when
    answer = api.get(url("case_list", organisation), {"assignee": "me"})

    # then
    assert answer.status_code == 200 and ids(answer) == []


def test_the_inbox_filters_by_opening_time_and_overdue(organisation):
    # given
    now = timezone.now()
    old = _case(organisation, created_at=now - timedelta(days=10), due_at=now - timedelta(days=8))
    recent = _case(
        organisation, created_at=now - timedelta(hours=1), due_at=now + timedelta(days=2)
    )
    late_but_done = _case(
        organisation,
        created_at=now - timedelta(days=5),
        due_at=now - timedelta(days=3),
        status=CaseStatus.RESOLVED,
        resolved_at=now,
    )
    client, _user = role_client(organisation)
    listing = url("case_list", organisation)
    since = (now - timedelta(days=6)).isoformat()

    # when / then
    assert ids(client.get(listing, {"created_after": since})) == [late_but_done.pk, recent.pk]
    assert ids(client.get(listing, {"created_before": since})) == [old.pk]
    assert ids(client.get(listing, {"overdue": "true"})) == [old.pk]
    assert ids(client.get(listing, {"overdue": "false"})) == [late_but_done.pk, recent.pk]
    overdue_row = client.get(listing, {"overdue": "true"}).json()["results"][0]
    assert overdue_row["overdue"] is True


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "in_progress"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"assignee": "someone"}, "assignee"),
        ({"assignee": "9" * 30}, "assignee"),
        ({"survey": "x"}, "survey"),
        ({"survey": str(2**70)}, "survey"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"stauts": "open"}, "stauts"),
        ({"created_before": ""}, "created_before"),
        ({"survey": ""}, "survey"),
    ],
)
def test_the_inbox_refuses_a_filter_it_cannot_apply(organisation, query, field):
    client, _user = role_client(organisation)

    answer = client.get(url("case_list", organisation), query)

    assert answer.status_code == 400, answer.content
    assert field in answer.content.decode()


def test_another_organisations_inbox_is_not_found(organisation, other_organisation):
    # given: an agent of one organisation, a key of the other
    client, _user = role_client(organisation)
    other_key = api_token_create(organisation=other_organisation, name="theirs")[1]

    # when / then
    assert client.get(url("case_list", other_organisation)).status_code == 404
    assert key_client(other_key).get(url("case_list", organisation)).status_code == 404


def test_an_analyst_may_not_read_cases(organisation):
    client, _user = role_client(organisation, Role.ANALYST)

    assert client.get(url("case_list", organisation)).status_code == 403
