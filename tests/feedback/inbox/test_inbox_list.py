"""The case inbox: each filter, filters together, the sorts, the due badge, paging with
the filters kept, and a query count that does not grow with the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.choices import CasePriority, CaseStatus
from tests.factories.communities import LocationFactory, OrganisationFactory
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import AnswerFactory, SurveyFactory
from tests.feedback.inbox.conftest import inbox_url, listed

pytestmark = pytest.mark.django_db


def test_the_inbox_lists_only_the_organisations_cases_newest_first(
    agent_client, organisation, make_case
):
    # given
    older = make_case(created_at=timezone.now() - timedelta(days=1))
    newer = make_case()
    CaseFactory(response__survey=SurveyFactory(organisation=OrganisationFactory()))

    # when
    page = agent_client.get(inbox_url(organisation))

    # then
    assert page.status_code == 200
    assert listed(page) == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "waiting"}, {"waiting"}),
        ({"status": "active"}, {"open", "waiting"}),
        ({"priority": "high"}, {"high"}),
    ],
)
def test_the_status_and_priority_filters_narrow_the_inbox(
    agent_client, organisation, make_case, query, expected
):
    # given
    cases = {
        "open": make_case(status=CaseStatus.OPEN),
        "waiting": make_case(status=CaseStatus.WAITING),
        "resolved": make_case(status=CaseStatus.RESOLVED, resolved_at=timezone.now()),
        "high": make_case(
            status=CaseStatus.RESOLVED, resolved_at=timezone.now(), priority=CasePriority.HIGH
        ),
    }

    # when
    page = agent_client.get(inbox_url(organisation, **query))

    # then
    assert set(listed(page)) == {cases[name].pk for name in expected}


def test_the_owner_filter_finds_my_cases_the_unassigned_and_a_colleagues(
    agent_client, organisation, agent, colleague, make_case
):
    # given
    mine = make_case(assignee=agent)
    theirs = make_case(assignee=colleague)
    nobodys = make_case()

    # when
    me = agent_client.get(inbox_url(organisation, owner="me"))
    unassigned = agent_client.get(inbox_url(organisation, owner="unassigned"))
    by_id = agent_client.get(inbox_url(organisation, owner=colleague.pk))

    # then
    assert listed(me) == [mine.pk]
    assert listed(unassigned) == [nobodys.pk]
    assert listed(by_id) == [theirs.pk]


def test_the_survey_and_store_filters_narrow_the_inbox(
    agent_client, organisation, inbox_survey, make_case
):
    # given
    siam = LocationFactory(organisation=organisation, name="Siam")
    other_survey = SurveyFactory(organisation=organisation)
    at_siam = make_case(response__location=siam)
    make_case()
    on_other = make_case(survey=other_survey)

    # when
    by_store = agent_client.get(inbox_url(organisation, location=siam.pk))
    by_survey = agent_client.get(inbox_url(organisation, survey=other_survey.pk))

    # then
    assert listed(by_store) == [at_siam.pk]
    assert listed(by_survey) == [on_other.pk]


def test_the_overdue_filter_lists_past_due_cases_not_yet_resolved(
    agent_client, organisation, make_case
):
    # given
    past = timezone.now() - timedelta(hours=3)
    overdue = make_case(due_at=past)
    make_case(due_at=timezone.now() + timedelta(hours=3))
    make_case(due_at=past, status=CaseStatus.RESOLVED, resolved_at=timezone.now())

    # when
    page = agent_client.get(inbox_url(organisation, overdue="on"))

    # then
    assert listed(page) == [overdue.pk]


def test_the_date_range_counts_whole_days_in_the_organisations_time_zone(
    agent_client, organisation, make_case
):
    # given: Bangkok is UTC+7, so 20:00 UTC on the 1st is the 2nd there
    organisation.time_zone = "Asia/Bangkok"
    organisation.save()
    utc = timezone.get_fixed_timezone(0)
    first = make_case(created_at=timezone.datetime(2026, 3, 1, 10, tzinfo=utc))
    second = make_case(created_at=timezone.datetime(2026, 3, 1, 20, tzinfo=utc))
    make_case(created_at=timezone.datetime(2026, 3, 3, 10, tzinfo=utc))

    # when
    page = agent_client.get(
        inbox_url(organisation, created_from="2026-03-01", created_to="2026-03-02")
    )
    only_first = agent_client.get(
        inbox_url(organisation, created_from="2026-03-01", created_to="2026-03-01")
    )

    # then
    assert listed(page) == [second.pk, first.pk]
    assert listed(only_first) == [first.pk]


def test_search_finds_a_case_by_its_number_or_the_words_of_its_reason(
    agent_client, organisation, make_case
):
    # given
    nps = make_case()
    stars = make_case(reasons=[{"code": "stars", "question": None, "value": 1, "threshold": 2}])

    # when
    by_number = agent_client.get(inbox_url(organisation, q=f"#{stars.pk}"))
    by_reason = agent_client.get(inbox_url(organisation, q="Stars"))
    by_code = agent_client.get(inbox_url(organisation, q="nps"))

    # then
    assert listed(by_number) == [stars.pk]
    assert listed(by_reason) == [stars.pk]
    assert listed(by_code) == [nps.pk]


def test_filters_combine(agent_client, organisation, agent, make_case):
    # given
    siam = LocationFactory(organisation=organisation)
    past = timezone.now() - timedelta(days=3)
    wanted = make_case(
        assignee=agent, response__location=siam, due_at=past, priority=CasePriority.HIGH
    )
    make_case(assignee=agent, response__location=siam, due_at=past)
    make_case(assignee=agent, due_at=past, priority=CasePriority.HIGH)
    make_case(response__location=siam, due_at=past, priority=CasePriority.HIGH)

    # when
    page = agent_client.get(
        inbox_url(organisation, owner="me", location=siam.pk, overdue="on", priority="high")
    )

    # then
    assert listed(page) == [wanted.pk]


def test_a_filter_value_that_is_not_valid_is_said_and_the_others_still_apply(
    agent_client, organisation, make_case
):
    # given
    waiting = make_case(status=CaseStatus.WAITING)
    make_case()
    foreign_survey = SurveyFactory(organisation=OrganisationFactory())

    # when
    page = agent_client.get(inbox_url(organisation, status="waiting", survey=foreign_survey.pk))

    # then
    assert listed(page) == [waiting.pk]
    assert "survey" in page.context["filter_form"].errors


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["c", "b", "a"]),
        ("oldest", ["a", "b", "c"]),
        ("priority", ["b", "c", "a"]),
        ("due", ["c", "a", "b"]),
    ],
)
def test_the_inbox_sorts_as_asked(agent_client, organisation, make_case, sort, expected):
    # given
    now = timezone.now()
    cases = {
        "a": make_case(
            created_at=now - timedelta(days=3),
            priority=CasePriority.LOW,
            due_at=now + timedelta(days=1),
        ),
        "b": make_case(created_at=now - timedelta(days=2), priority=CasePriority.HIGH, due_at=None),
        "c": make_case(
            created_at=now - timedelta(days=1),
            priority=CasePriority.NORMAL,
            due_at=now - timedelta(hours=1),
        ),
    }

    # when
    page = agent_client.get(inbox_url(organisation, sort=sort))

    # then
    assert listed(page) == [cases[name].pk for name in expected]


def test_each_row_shows_its_due_badge_owner_store_and_lowest_sentiment(
    agent_client, organisation, agent, make_case
):
    # given
    siam = LocationFactory(organisation=organisation, name="Siam Paragon")
    case = make_case(
        assignee=agent,
        response__location=siam,
        due_at=timezone.now() - timedelta(days=2, minutes=5),
    )
    AnswerFactory(response=case.response, sentiment=-0.75, text="Cold coffee")

    # when
    html = agent_client.get(inbox_url(organisation)).content.decode()

    # then
    assert "overdue 2 d" in html
    assert "Ann Agent" in html and "Siam Paragon" in html
    assert "-0.75" in html


def test_paging_keeps_the_filters_in_its_links(agent_client, organisation, make_case):
    # given
    for _ in range(51):
        make_case(status=CaseStatus.WAITING)

    # when
    page = agent_client.get(inbox_url(organisation, status="waiting"))

    # then
    assert len(listed(page)) == 50
    assert "?status=waiting&amp;page=2" in page.content.decode()


@pytest.mark.parametrize("count", [1, 50])
def test_the_inbox_query_count_does_not_grow_with_the_page(
    agent_client, organisation, agent, make_case, django_assert_max_num_queries, count
):
    # given: cases with owners, stores and answers
    siam = LocationFactory(organisation=organisation)
    for _ in range(count):
        case = make_case(assignee=agent, response__location=siam)
        AnswerFactory(response=case.response, sentiment=-0.5)

    # when
    with django_assert_max_num_queries(10):
        page = agent_client.get(inbox_url(organisation, owner="me", sort="priority"))

    # then
    assert len(listed(page)) == count
