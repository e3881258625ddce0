"""The case page's forms: assign, change status, add a note. Each posts to its own URL,
calls one service and goes back to the case with a message; bad input is said there and
changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from feedback.choices import CaseEventKind, CaseStatus
from feedback.models import CaseEvent
from feedback.services.cases import NOTE_MAX_LENGTH
from tests.factories.communities import OrganisationFactory, StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.factories.surveys import SurveyFactory
from tests.feedback.inbox.conftest import case_url

pytestmark = pytest.mark.django_db


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_assigning_to_me_gives_me_the_case(agent_client, organisation, agent, make_case):
    # given
    case = make_case()

    # when
    response = agent_client.post(case_url(organisation, case, "assign"), {"assignee": "me"})

    # then
    assert response.status_code == 302 and response["Location"] == case_url(organisation, case)
    case.refresh_from_db()
    assert case.assignee == agent
    assert said(response) == ["Case assigned to Ann Agent."]


def test_assigning_to_a_colleague_then_to_nobody(agent_client, organisation, colleague, make_case):
    # given
    case = make_case()

    # when
    agent_client.post(case_url(organisation, case, "assign"), {"assignee": colleague.pk})
    case.refresh_from_db()
    given = case.assignee
    response = agent_client.post(case_url(organisation, case, "assign"), {"assignee": ""})

    # then
    case.refresh_from_db()
    assert given == colleague and case.assignee is None
    assert said(response)[-1] == "Case unassigned."


def test_assigning_twice_says_the_case_was_already_theirs(
    agent_client, organisation, colleague, make_case
):
    # given
    case = make_case(assignee=colleague)

    # when
    response = agent_client.post(case_url(organisation, case, "assign"), {"assignee": colleague.pk})

    # then
    assert not case.events.filter(kind=CaseEventKind.ASSIGNED).exists()
    assert said(response) == ["The case was already with Kim Lee."]


@pytest.mark.parametrize("who", ["unknown", "foreign", "analyst", "garbage"])
def test_assigning_to_someone_who_may_not_work_the_case_changes_nothing(
    agent_client, organisation, make_case, who
):
    # given
    case = make_case()
    if who == "garbage":
        value = "12; drop table"
    elif who == "unknown":
        value = 987654
    else:
        user = UserFactory()
        org = OrganisationFactory() if who == "foreign" else organisation
        StaffRoleFactory(
            user=user, organisation=org, role="agent" if who == "foreign" else "analyst"
        )
        value = user.pk

    # when
    response = agent_client.post(case_url(organisation, case, "assign"), {"assignee": value})

    # then
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee is None
    assert said(response) == [
        "Pick someone of this organisation who works cases (an owner, admin or agent)."
    ]


def test_resolving_needs_a_resolution(agent_client, organisation, make_case):
    # given
    case = make_case()

    # when
    response = agent_client.post(case_url(organisation, case, "status"), {"status": "resolved"})

    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert said(response) == ["Say how the case was resolved."]


def test_resolving_with_a_resolution_then_reopening(agent_client, organisation, make_case):
    # given
    case = make_case()

    # when
    resolved = agent_client.post(
        case_url(organisation, case, "status"),
        {
            "status": "resolved",
            "resolution": "Replaced the order.",
            "root_cause": RootCauseFactory(organisation=organisation).pk,
        },
    )
    case.refresh_from_db()
    resolution = case.resolution
    reopened = agent_client.post(case_url(organisation, case, "status"), {"status": "open"})

    # then
    assert resolution == "Replaced the order." and said(resolved) == ["Case resolved."]
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.resolution == ""
    assert said(reopened)[-1] == "Case reopened."
    assert case.events.filter(kind=CaseEventKind.STATUS_CHANGED).count() == 2


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        ("resolved", "waiting", "A resolved case can only be reopened or closed."),
        ("open", "open", "The case is already in that status."),
        (
            "open",
            "in_progress",
            "Select a valid choice. in_progress is not one of the available choices.",
        ),
    ],
)
def test_a_move_the_case_does_not_allow_is_refused(
    agent_client, organisation, make_case, start, target, message
):
    # given
    extra = {"resolved_at": timezone.now(), "resolution": "Done"} if start == "resolved" else {}
    case = make_case(status=start, **extra)

    # when
    response = agent_client.post(case_url(organisation, case, "status"), {"status": target})

    # then
    case.refresh_from_db()
    assert case.status == start
    assert not case.events.filter(kind=CaseEventKind.STATUS_CHANGED).exists()
    assert said(response) == [message]


def test_resolving_twice_by_a_double_submit_changes_it_once(agent_client, organisation, make_case):
    # given
    case = make_case()
    cause = RootCauseFactory(organisation=organisation).pk
    form = {"status": "resolved", "resolution": "Called back.", "root_cause": cause}

    # when
    agent_client.post(case_url(organisation, case, "status"), form)
    again = agent_client.post(case_url(organisation, case, "status"), form)

    # then
    assert case.events.filter(kind=CaseEventKind.STATUS_CHANGED).count() == 1
    assert said(again)[-1] == "The case is already in that status."


def test_a_note_is_added_to_the_timeline(agent_client, organisation, agent, make_case):
    # given
    case = make_case()

    # when
    response = agent_client.post(
        case_url(organisation, case, "note"), {"body": "Left a voicemail.", "submission": "abc"}
    )

    # then
    note = case.events.get(kind=CaseEventKind.NOTE)
    assert note.actor == agent and note.data["body"] == "Left a voicemail."
    assert said(response) == ["Note added."]
    assert "Left a voicemail." in agent_client.get(case_url(organisation, case)).content.decode()


@pytest.mark.parametrize("body", ["", "   ", "x" * (NOTE_MAX_LENGTH + 1)])
def test_an_empty_or_oversized_note_is_refused(agent_client, organisation, make_case, body):
    # given
    case = make_case()

    # when
    response = agent_client.post(case_url(organisation, case, "note"), {"body": body})

    # then
    assert not case.events.filter(kind=CaseEventKind.NOTE).exists()
    assert len(said(response)) == 1 and said(response)[0] != "Note added."


def test_a_note_sent_twice_from_the_same_form_is_added_once(agent_client, organisation, make_case):
    # given: the form the page rendered, with its submission token
    case = make_case()
    form = agent_client.get(case_url(organisation, case)).context["note_form"]
    data = {"body": "Refund sent.", "submission": form.initial["submission"]}

    # when
    agent_client.post(case_url(organisation, case, "note"), data)
    again = agent_client.post(case_url(organisation, case, "note"), data)

    # then
    assert case.events.filter(kind=CaseEventKind.NOTE).count() == 1
    assert said(again)[-1] == "This note was already added (the form was sent twice)."


@pytest.mark.parametrize("action", ["assign", "status", "note"])
def test_another_organisations_case_is_not_found(agent_client, organisation, action):
    # given
    foreign = CaseFactory(response__survey=SurveyFactory(organisation=OrganisationFactory()))

    # when
    response = agent_client.post(
        case_url(organisation, foreign, action),
        {"assignee": "me", "status": "waiting", "body": "hi"},
    )

    # then
    assert response.status_code == 404
    assert not CaseEvent.objects.filter(case=foreign).exclude(kind=CaseEventKind.OPENED).exists()


def test_the_forms_answer_post_only(agent_client, organisation, make_case):
    case = make_case()

    assert agent_client.get(case_url(organisation, case, "note")).status_code == 405
