"""A kiosk's answers start from this process's copy of the kiosk (surveys.lookups.kiosk_kept):
a store's tablets answer all day, and reading the kiosk again was a round trip of every
answer. The copy may only say yes. An answer is written with it only while the database
still holds the kiosk (switched on), its survey and its organisation as the copy read them;
any other outcome is asked again of a fresh read, so a kiosk switched off, a survey closed
or edited, or an organisation changed by another process is seen at once.

And on PostgreSQL an answer nobody is known to have given, whose follow-up rules and
webhooks would write nothing, or only its case, is one statement that is its own
transaction (the case and its "opened" event in it): no BEGIN, no COMMIT around it."""

from __future__ import annotations

import json
import uuid
import zoneinfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from communities.webhooks.models import WebhookDelivery
from feedback.choices import CaseEventKind, Condition
from feedback.models import Case, CaseEvent, FollowUpRule
from surveys.choices import QuestionType, SurveyStatus
from surveys.lookups import KIOSKS_KEPT, kiosk_forget, kiosk_kept
from surveys.models import Channel, Response, Survey
from surveys.services import kiosk_register, kiosk_revoke
from tests.factories.communities import (
    LocationFactory,
    StaffRoleFactory,
    UserFactory,
    WebhookEndpointFactory,
)
from tests.factories.feedback import FollowUpRuleFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one statement on PostgreSQL only"
)


@pytest.fixture
def kiosk(survey, organisation):
    channel = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    yield channel
    kiosk_forget(channel.device_token)


def submit(client, kiosk, *, key=None, nps=9, answers=None):
    return post(client, kiosk, body(kiosk, key=key, nps=nps, answers=answers))


def body(kiosk, *, key=None, nps=9, answers=None) -> str:
    if answers is None:
        answers = answers_for(kiosk.survey, nps=nps)
        answers.pop("idempotency_key")
    key = key or uuid.uuid4().hex
    return json.dumps({"idempotency_key": key, "language": "en", "answers": answers})


def post(client, kiosk, data: str):
    url = reverse("surveys:kiosk_submit", args=[kiosk.device_token])
    return client.post(url, data, content_type="application/json")


def kept(client, kiosk):
    """The process has answered for this kiosk once: it holds its copy."""
    assert submit(client, kiosk).status_code == 201
    assert kiosk_kept(kiosk.device_token)[1] is not None


def test_the_second_answer_reads_no_kiosk(client, kiosk):
    kept(client, kiosk)
    data = body(kiosk)
    with CaptureQueriesContext(connection) as captured:
        answer = post(client, kiosk, data)
    assert answer.status_code == 201
    statements = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in statements if "device_token" in sql], statements
    assert Response.objects.filter(channel=kiosk).count() == 2


def test_a_kiosk_switched_off_by_another_process_stores_nothing(client, kiosk):
    kept(client, kiosk)
    # As another process's revoke leaves it: this process's copy still says "on".
    Channel.objects.filter(pk=kiosk.pk).update(active=False)
    answer = submit(client, kiosk)
    assert answer.status_code == 410 and answer.json()["error"] == "kiosk_revoked"
    assert Response.objects.count() == 1


def test_a_kiosk_revoked_in_this_process_stores_nothing(client, kiosk):
    kept(client, kiosk)
    kiosk_revoke(channel=Channel.objects.get(pk=kiosk.pk))
    assert submit(client, kiosk).status_code == 410
    assert Response.objects.count() == 1


def test_a_kiosk_deleted_elsewhere_is_not_found(client, kiosk):
    kept(client, kiosk)
    Channel.objects.filter(pk=kiosk.pk).delete()
    assert submit(client, kiosk).status_code == 404
    assert not Response.objects.filter(channel_id=kiosk.pk).exists()


def test_a_store_deleted_elsewhere_leaves_the_answer_without_one(client, kiosk):
    kept(client, kiosk)
    # Deleting the store sets the channel's store to none without touching updated_at.
    kiosk.location.delete()
    answer = submit(client, kiosk)
    assert answer.status_code == 201
    assert Response.objects.get(pk=answer.json()["id"]).location_id is None


def test_a_survey_closed_elsewhere_refuses_the_answer(client, kiosk, survey):
    kept(client, kiosk)
    # Closed without touching updated_at: the copy's status still says live.
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    answer = submit(client, kiosk)
    assert answer.status_code == 410 and answer.json()["error"] == "survey_closed"
    assert Response.objects.count() == 1


def test_a_question_added_since_is_asked_for(client, kiosk, survey):
    kept(client, kiosk)
    answers = answers_for(survey)
    answers.pop("idempotency_key")
    added = survey.questions.create(
        organisation_id=survey.organisation_id,
        type=QuestionType.NPS,
        text={"en": "And the staff?"},
        position=99,
        required=True,
    )
    answer = submit(client, kiosk, answers=answers)
    assert answer.status_code == 400
    assert f"q_{added.pk}" in answer.json()["fields"]
    assert Response.objects.count() == 1


def test_a_question_removed_since_is_not_asked_for(client, kiosk, survey):
    kept(client, kiosk)
    text = survey.questions.get(type=QuestionType.TEXT)
    # Another process removes a question; this one's copy still has the old revision.
    Survey.objects.filter(pk=survey.pk).update(revision=F("revision") + 1)
    survey.questions.filter(pk=text.pk).update(hidden=True)
    assert submit(client, kiosk).status_code == 201
    assert Response.objects.count() == 2


def test_an_organisations_new_time_zone_dates_the_next_answer(client, kiosk, organisation):
    organisation.time_zone = "Pacific/Pago_Pago"
    organisation.save()
    kept(client, kiosk)
    # Fourteen hours ahead of UTC against eleven behind: the local days always differ.
    organisation.time_zone = "Pacific/Kiritimati"
    organisation.save()
    assert submit(client, kiosk).status_code == 201
    latest = Response.objects.order_by("-pk").first()
    zone = zoneinfo.ZoneInfo("Pacific/Kiritimati")
    assert latest.submitted_on == timezone.localdate(latest.submitted_at, timezone=zone)


def test_a_replay_through_the_copy_returns_the_first_answer_and_is_not_counted(
    client, kiosk, settings
):
    settings.CHORUS = {**settings.CHORUS, "KIOSK_RATE_PER_MINUTE": 2}
    key = uuid.uuid4().hex
    first = submit(client, kiosk, key=key)
    assert first.status_code == 201
    for _ in range(3):
        again = submit(client, kiosk, key=key)
        assert again.status_code == 200
        assert again.json() == {"id": first.json()["id"], "created": False}
    assert submit(client, kiosk).status_code == 201
    refused = submit(client, kiosk)
    assert refused.status_code == 429
    assert Response.objects.count() == 2


def test_a_promoter_a_rule_picks_out_still_gets_its_case(client, kiosk, survey, organisation):
    single = survey.questions.get(type=QuestionType.SINGLE_CHOICE)
    FollowUpRuleFactory(
        organisation=organisation,
        condition=Condition.CHOICE_SELECTED,
        choice=single.choices.order_by("position", "pk").first(),
        email_respondent=False,
    )
    kept(client, kiosk)
    answer = submit(client, kiosk, nps=10)
    assert answer.status_code == 201
    assert Case.objects.filter(response_id=answer.json()["id"]).exists()


def test_a_detractors_case_is_written_with_the_answer(client, kiosk):
    kept(client, kiosk)
    answer = submit(client, kiosk, nps=2)
    assert answer.status_code == 201
    assert Case.objects.filter(response_id=answer.json()["id"]).exists()


def test_a_webhook_subscriber_still_hears_of_the_answer(client, kiosk, organisation):
    WebhookEndpointFactory(organisation=organisation)
    kept(client, kiosk)
    answer = submit(client, kiosk)
    assert answer.status_code == 201
    assert WebhookDelivery.objects.filter(
        event_id=f"response.created:{answer.json()['id']}"
    ).exists()


def test_the_copies_are_bounded(client, survey, organisation, monkeypatch):
    monkeypatch.setattr("surveys.lookups.KIOSKS_KEPT", 2)
    location = LocationFactory(organisation=organisation)
    kiosks = [kiosk_register(survey=survey, location=location) for _ in range(3)]
    try:
        for channel in kiosks:
            kiosk_kept(channel.device_token)
        # The oldest copy made room: it is read afresh (no version to check).
        assert kiosk_kept(kiosks[0].device_token)[1] is None
        assert kiosk_kept(kiosks[2].device_token)[1] is not None
    finally:
        for channel in kiosks:
            kiosk_forget(channel.device_token)
    assert KIOSKS_KEPT >= 100


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_quiet_answer_is_one_statement_outside_any_transaction(client, kiosk):
    kept(client, kiosk)
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    data = body(kiosk)
    with connection.execute_wrapper(record):
        answer = post(client, kiosk, data)
    assert answer.status_code == 201
    assert len(seen) == 1, [q[:120] for q, _t in seen]
    sql, in_transaction = seen[0]
    assert "INSERT INTO" in sql and not in_transaction
    stored = Response.objects.get(pk=answer.json()["id"])
    assert stored.answers.count() == len(json.loads(data)["answers"])


def statements_of(client, kiosk, data: str) -> tuple[object, list[tuple[str, bool]]]:
    """The answer, and each statement it ran with whether it ran inside a transaction."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        answer = post(client, kiosk, data)
    return answer, seen


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_detractor_and_its_case_are_one_statement_outside_any_transaction(
    client, kiosk
):
    kept(client, kiosk)
    # given: the process has opened a case once (what it learns once is learnt)
    assert submit(client, kiosk, nps=1).status_code == 201
    # when: a detractor answers
    answer, seen = statements_of(client, kiosk, body(kiosk, nps=1))
    # then: the response, its answers, its case and the case's "opened" event are one
    # statement, which commits by itself
    assert answer.status_code == 201
    assert len(seen) == 1, [q[:120] for q, _t in seen]
    sql, in_transaction = seen[0]
    assert "feedback_case" in sql and "feedback_caseevent" in sql and not in_transaction
    case = Case.objects.get(response_id=answer.json()["id"])
    assert list(case.events.values_list("kind", flat=True)) == [CaseEventKind.OPENED]


def _case_rows(response_id: int) -> tuple[dict, dict]:
    case = Case.objects.filter(response_id=response_id).values().get()
    event = CaseEvent.objects.filter(case_id=case["id"]).values().get()
    response = Response.objects.get(pk=response_id)
    for row in (case, event):
        # Dated by its own response (an anonymous answer's coarse hour).
        assert row.pop("created_at") == response.submitted_at
        del row["id"]
    case["updated_at"] -= response.submitted_at
    case["due_at"] -= response.submitted_at
    case["first_response_due_at"] -= response.submitted_at
    del case["response_id"], event["case_id"]
    return case, event


@pytest.mark.django_db(transaction=True)
def test_a_detractors_case_is_the_same_rows_in_the_answers_statement_or_after_it(
    client, kiosk, organisation
):
    kept(client, kiosk)
    # given: a detractor's answer whose case rides in its statement (on PostgreSQL)
    first = submit(client, kiosk, nps=2)
    # and: one written as before, the case after the answer in its transaction (a webhook
    # subscriber takes the answer off the one-statement path)
    WebhookEndpointFactory(organisation=organisation)
    second = submit(client, kiosk, nps=2)
    assert first.status_code == second.status_code == 201
    # then: both wrote the same case and event
    assert _case_rows(first.json()["id"]) == _case_rows(second.json()["id"])


@pytest.mark.django_db(transaction=True)
def test_a_case_given_to_a_person_is_still_assigned(client, kiosk, organisation):
    agent = UserFactory()
    StaffRoleFactory(user=agent, organisation=organisation, role=Role.AGENT)
    FollowUpRule.objects.create(
        organisation=organisation,
        name="Low NPS to Ann",
        match="all",
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": 0, "max": 6}],
        actions={
            "case": {"priority": "", "team": None, "assign": "person", "person": agent.pk},
            "email": None,
            "alert": "",
            "webhook": False,
        },
    )
    kept(client, kiosk)
    answer, seen = statements_of(client, kiosk, body(kiosk, nps=1))
    assert answer.status_code == 201
    case = Case.objects.get(response_id=answer.json()["id"])
    assert case.assignee_id == agent.pk
    assert set(case.events.values_list("kind", flat=True)) == {
        CaseEventKind.OPENED,
        CaseEventKind.ASSIGNED,
    }
    if connection.vendor == "postgresql":
        # Picking a person reads who works cases: after the answer, in its transaction.
        writes = [t for q, t in seen if q.lstrip().upper().startswith(("INSERT", "WITH"))]
        assert writes and all(writes)


@pytest.mark.parametrize(
    "stale", ["channel_updated_at", "location_id", "survey_revision", "survey_status"]
)
def test_the_statement_writes_nothing_for_a_copy_out_of_date(kiosk, stale):
    from surveys.lookups import kiosk_version
    from surveys.services.statements import response_with_answers_insert

    channel = Channel.objects.select_related("survey__organisation").get(pk=kiosk.pk)
    question = channel.survey.questions.get(type=QuestionType.NPS)
    row = {
        "organisation_id": channel.organisation_id,
        "survey_id": channel.survey_id,
        "channel_id": channel.pk,
        "member_id": None,
        "invitation_id": None,
        "location_id": channel.location_id,
        "language": "en",
        "submitted_at": timezone.now(),
        "submitted_on": timezone.localdate(),
        "is_anonymous": True,
        "consent_to_contact": False,
        "idempotency_key": uuid.uuid4().hex,
        "analysed_at": None,
    }
    answers = [
        {
            "question": question.pk,
            "question_type": "nps",
            "number": 9,
            "text": "",
            "sentiment": None,
        }
    ]
    current = kiosk_version(channel)
    changed = {
        "channel_updated_at": current.channel_updated_at.replace(year=2001),
        "location_id": None,
        "survey_revision": current.survey_revision + 1,
        "survey_status": SurveyStatus.CLOSED,
    }
    assert (
        response_with_answers_insert(
            response=row,
            answers=answers,
            choices=[],
            current=current._replace(**{stale: changed[stale]}),
        )
        is None
    )
    assert not Response.objects.exists()
    written = response_with_answers_insert(
        response=row, answers=answers, choices=[], current=current
    )
    assert written is not None and Response.objects.get().pk == written[0]


def test_a_reaction_that_cannot_say_beforehand_keeps_the_transaction(monkeypatch):
    from surveys import reactions

    draft = object()
    # given: one reaction that writes nothing, and one registered without `ride`
    monkeypatch.setattr(reactions, "_reactions", [lambda stored: None, lambda stored: None])
    quiet_one = reactions._reactions[0]
    monkeypatch.setattr(reactions, "_ride", {quiet_one: lambda stored, prefix: reactions.QUIET})
    assert reactions.response_reactions_riders(draft) is None
    # when: the second can say it writes nothing too
    second = reactions._reactions[1]
    reactions._ride[second] = lambda stored, prefix: reactions.Rider(("x1_a AS (…)",), (1,))
    # then: its rider is what the statement carries, named by its place
    assert reactions.response_reactions_riders(draft) == [reactions.Rider(("x1_a AS (…)",), (1,))]
