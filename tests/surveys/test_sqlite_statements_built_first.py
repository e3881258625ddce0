"""On SQLite, a member's answer is a run of statements in one transaction, which begins, and
takes the database's one writer's turn, at its first statement (config.sqlite). Every one
of them is built before that first one runs, so the turn is held only while they run and
their new ids are filled in: the Python that turns values into parameters runs while
another writer has the turn."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from surveys.choices import QuestionType
from surveys.models import Answer, Response
from surveys.services import member_statements, statements
from surveys.services.statements import response_with_answers_insert
from tests.surveys.test_member_response_statement import _part, _response_row

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statements one by one"),
]


def test_every_statement_of_an_answer_is_built_before_the_first_runs(survey, member, monkeypatch):
    events: list[tuple[str, str]] = []

    def built(original):
        def wrapper(model, rows, **options):
            events.append(("built", model._meta.model_name))
            return original(model, rows, **options)

        return wrapper

    for module in (statements, member_statements):
        monkeypatch.setattr(module, "insert_statement", built(module.insert_statement))

    def ran(execute, sql, params, many, context):
        events.append(("ran", sql.split()[0]))
        return execute(sql, params, many, context)

    at = timezone.now()
    nps = survey.questions.get(type=QuestionType.NPS)
    multi = survey.questions.get(type=QuestionType.MULTI_CHOICE)
    chosen = list(multi.choices.order_by("position").values_list("pk", flat=True)[:2])
    # given: a member's first answer, with two choices ticked
    with connection.execute_wrapper(ran), transaction.atomic():
        written = response_with_answers_insert(
            response=_response_row(survey, member, at, "built-first", consent=True),
            answers=[
                {"question": nps.pk, "question_type": nps.type, "number": 3, "text": ""},
                {"question": multi.pk, "question_type": multi.type, "number": None, "text": ""},
            ],
            choices=[(multi.pk, choice) for choice in chosen],
            member=_part(survey, member, at),
        )
    # then: every row's statement was built before the first statement ran (the touch of
    # the member, which begins the transaction)…
    first_run = next(n for n, (kind, _name) in enumerate(events) if kind == "ran")
    assert {name for kind, name in events[:first_run]} == {
        "participation",
        "ledgerentry",
        "consentrecord",
        "response",
        "answer",
        "answer_choices",
    }
    assert [kind for kind, _name in events[first_run:]] == ["ran"] * 7
    # …and each row went where it belongs once the ids were known.
    response_id, ids = written
    response = Response.objects.get(pk=response_id)
    assert (response.member_id, response.idempotency_key) == (member.pk, "built-first")
    answers = {a.question_id: a for a in Answer.objects.filter(response=response)}
    assert (
        {q: a.pk for q, a in answers.items()}
        == ids
        == {nps.pk: ids[nps.pk], multi.pk: ids[multi.pk]}
    )
    assert answers[nps.pk].number == 3
    assert sorted(answers[multi.pk].choices.values_list("pk", flat=True)) == sorted(chosen)
    assert not answers[nps.pk].choices.exists()
