"""PostgreSQL keeps each response's `cells` equal to its answers (surveys 0010), whatever
writes them: the submit path's one statement, factories, a changed choice, a later
sentiment, an answer removed. The CSV export reads only that value, so it must never drift
from the answers (tests/surveys/test_export_copy.py compares the CSV with the row path)."""

import pytest
from django.db import connection
from django.utils import timezone

from surveys.choices import QuestionType
from surveys.models import Answer, Response
from surveys.services.writing import response_write
from tests.factories.surveys import (
    AnswerFactory,
    ChoiceFactory,
    QuestionFactory,
    ResponseFactory,
    survey_with_every_question_type,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has no statement triggers; its exports read the answers",
    ),
]


def _cells(response) -> dict | None:
    return Response.objects.values_list("cells", flat=True).get(pk=response.pk)


def _choice_question(survey, *labels):
    question = QuestionFactory(survey=survey, type=QuestionType.MULTI_CHOICE)
    return question, [ChoiceFactory(question=question, label=label) for label in labels]


def test_a_response_without_answers_has_no_cells():
    assert _cells(ResponseFactory()) is None


def test_each_answer_is_kept_under_its_question_with_only_what_it_holds():
    response = ResponseFactory()
    nps = AnswerFactory(response=response, number=3)
    text_question = QuestionFactory(survey=response.survey, type=QuestionType.TEXT)
    text = AnswerFactory(
        response=response, question=text_question, number=None, text="Too slow", sentiment=-0.25
    )
    assert _cells(response) == {
        "a": {str(nps.question_id): {"n": 3}, str(text.question_id): {"t": "Too slow"}},
        "s": "-0.25",
        "k": 1,
    }


def test_chosen_choices_are_kept_sorted_and_follow_a_change_of_choice():
    response = ResponseFactory()
    question, (first, second, third) = _choice_question(response.survey, "A", "B", "C")
    answer = AnswerFactory(response=response, question=question, number=None)
    answer.choices.set([third, first])
    assert _cells(response)["a"][str(question.pk)] == {"c": sorted([first.pk, third.pk])}

    answer.choices.set([second])
    assert _cells(response)["a"][str(question.pk)] == {"c": [second.pk]}

    answer.choices.clear()
    assert _cells(response)["a"][str(question.pk)] == {}


def test_an_other_box_keeps_its_text_beside_the_choices():
    response = ResponseFactory()
    question, (choice,) = _choice_question(response.survey, "Price")
    answer = AnswerFactory(response=response, question=question, number=None, text="Parking")
    answer.choices.add(choice)
    assert _cells(response)["a"][str(question.pk)] == {"c": [choice.pk], "t": "Parking"}


def test_a_sentiment_scored_later_is_summed_exactly_whatever_the_session_rounds_to():
    response = ResponseFactory()
    question = QuestionFactory(survey=response.survey, type=QuestionType.TEXT)
    other = QuestionFactory(survey=response.survey, type=QuestionType.TEXT)
    first = AnswerFactory(response=response, question=question, number=None, text="a")
    AnswerFactory(response=response, question=other, number=None, text="b", sentiment=0.2)
    with connection.cursor() as cursor:
        # A session that prints floats to 15 digits must not round the stored sum.
        cursor.execute("SET LOCAL extra_float_digits = 0")
    first.sentiment = 0.1
    first.save(update_fields=["sentiment"])
    cells = _cells(response)
    assert (cells["s"], cells["k"]) == (repr(0.1 + 0.2), 2)
    assert float(cells["s"]) == 0.1 + 0.2


def test_removing_answers_removes_them_from_the_cells():
    response = ResponseFactory()
    kept = AnswerFactory(response=response, number=9)
    gone = AnswerFactory(response=response, number=2)
    gone.delete()
    assert _cells(response)["a"] == {str(kept.question_id): {"n": 9}}
    kept.delete()
    assert _cells(response) is None


def test_one_statement_writing_many_answers_fills_every_response_it_touched():
    responses = ResponseFactory.create_batch(3)
    questions = [QuestionFactory(survey=response.survey) for response in responses]
    Answer.objects.bulk_create(
        Answer(
            organisation_id=response.organisation_id,
            response=response,
            question=question,
            question_type=question.type,
            number=number,
        )
        for number, (response, question) in enumerate(zip(responses, questions, strict=True))
    )
    assert [_cells(response)["a"] for response in responses] == [
        {str(question.pk): {"n": number}} for number, question in enumerate(questions)
    ]


def _updates_of_responses() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated('surveys_response'::regclass)")
        return cursor.fetchone()[0]


def _write(survey, clean: dict, *, key: str):
    """The submit path's write of one response with these answers."""
    questions = {q.pk: q.type for q in survey.questions.all()}
    return response_write(
        survey=survey,
        clean=clean,
        question_types=questions,
        idempotency_key=key,
        language="en",
        member=None,
        invitation=None,
        channel=None,
        location=None,
        anonymous=False,
        consent_to_contact=False,
        submitted_at=timezone.now(),
        stored_at=timezone.now(),
    )


def test_the_submit_path_writes_the_cells_with_the_row_and_the_triggers_rewrite_nothing():
    survey = survey_with_every_question_type()
    questions = {q.type: q for q in survey.questions.all()}
    single, multi = questions[QuestionType.SINGLE_CHOICE], questions[QuestionType.MULTI_CHOICE]
    picked = list(multi.choices.order_by("-pk")[:2])
    clean = {
        questions[QuestionType.NPS].pk: {"number": 2},
        questions[QuestionType.STAR].pk: {"number": 4},
        single.pk: {"choice_ids": [single.choices.first().pk]},
        multi.pk: {"choice_ids": [choice.pk for choice in picked]},
        questions[QuestionType.TEXT].pk: {"text": "The queue was far too long, awful"},
    }
    before = _updates_of_responses()

    stored = _write(survey, clean, key="cells-1")

    cells = _cells(stored.response)
    assert _updates_of_responses() == before
    text = stored.answers[-1]
    assert cells == {
        "a": {
            str(questions[QuestionType.NPS].pk): {"n": 2},
            str(questions[QuestionType.STAR].pk): {"n": 4},
            str(single.pk): {"c": [single.choices.first().pk]},
            str(multi.pk): {"c": sorted(choice.pk for choice in picked)},
            str(text.question_id): {"t": "The queue was far too long, awful"},
        },
        "s": repr(text.sentiment).removesuffix(".0"),
        "k": 1,
    }
    # and what the triggers would build from the answers is the same value
    Answer.objects.filter(pk=text.pk).update(text=text.text)
    assert _cells(stored.response) == cells


def test_answers_written_after_a_submit_in_the_same_transaction_still_fill_their_cells():
    # given: a submit (whose own statement needs no rebuild) earlier in this transaction
    survey = survey_with_every_question_type()
    nps = survey.questions.get(type=QuestionType.NPS)
    _write(survey, {nps.pk: {"number": 9}}, key="cells-then-more")
    # when: another statement writes answers
    later = ResponseFactory(survey=survey)
    AnswerFactory(response=later, question=nps, number=4)
    # then: its cells are built
    assert _cells(later)["a"] == {str(nps.pk): {"n": 4}}
