"""When the follow-up rules are held against a new answer.

For an answer nobody is known to have given (a public link, a kiosk) they are worked out
once, before anything of the answer is written: outside its transaction, which on SQLite
holds the database's one writer's turn (surveys.reactions' `prepare`; on PostgreSQL the
answer and its case are one statement, planned the same way). A member's answer is held
against them inside its transaction, after the member's side of it (activity, points) is
written, because a rule's segment may ask about exactly that.
"""

from __future__ import annotations

import pytest
from django.db import connection

from feedback.models import Case
from feedback.services import followup
from surveys.services import response_submit
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db(transaction=True)

DETRACTOR_TEXT = "The wait was terrible and the cup was cold."


@pytest.fixture
def events(monkeypatch) -> list[str]:
    """ "planned" each time the rules are held against a response, "ran" for each statement."""
    seen: list[str] = []
    original = followup.rules_plan

    def planned(**kwargs):
        seen.append("planned")
        return original(**kwargs)

    monkeypatch.setattr(followup, "rules_plan", planned)
    return seen


def _submit(survey, events: list[str], member=None):
    data = answers_for(survey, nps=3, text=DETRACTOR_TEXT)
    key = data.pop("idempotency_key")

    def ran(execute, sql, params, many, context):
        events.append("read" if sql.lstrip().upper().startswith("SELECT") else "wrote")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(ran):
        return response_submit(
            survey=survey, raw_answers=data, idempotency_key=key, member=member
        ).response


def test_an_anonymous_answer_is_planned_once_before_anything_is_written(survey, events):
    # when: a visitor on the public link answers as a detractor
    response = _submit(survey, events)
    # then: the rules were held against it once, before anything was written…
    assert events.count("planned") == 1
    assert events.index("planned") < events.index("wrote")
    # …and the plan was carried out: the case is there, with the score as its reason.
    case = Case.objects.get(response=response)
    assert [reason["code"] for reason in case.reasons] == ["nps"]


def test_a_members_answer_is_planned_in_its_transaction_after_their_side(survey, member, events):
    # when: a member answers as a detractor
    response = _submit(survey, events, member=member)
    # then: the rules were held against it once, after the member's side was written
    assert events.count("planned") == 1
    assert events.index("wrote") < events.index("planned")
    assert Case.objects.filter(response=response).count() == 1
