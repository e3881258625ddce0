"""The CSV PostgreSQL writes (surveys.exports.copy) is the CSV the row path writes, cell for
cell: same labels, codes, blanks, inert text, times and sentiment text, on the seeded set
of tests/surveys/exports/conftest.py and on answers chosen to be awkward."""

import csv
import io
import random

import pytest
from django.db import connection

from surveys.choices import QuestionType
from surveys.exports import copy as copy_module
from surveys.exports.files import _pieces, csv_pieces
from surveys.exports.params import ExportParams
from surveys.exports.selectors import responses_export_plan
from tests.factories.surveys import AnswerFactory, ChoiceFactory, QuestionFactory, ResponseFactory
from tests.surveys.exports.conftest import seeded  # noqa: F401  (the fixture)
from tests.surveys.exports.helpers import seeded_rows, workbook_xml_both_ways

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite takes the row path"
)


def _parsed(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _copied(plan) -> list[list[str]]:
    pieces = csv_pieces(plan=plan)
    return _parsed(b"".join(p if isinstance(p, bytes) else p.encode() for p in pieces).decode())


def _row_path(plan) -> list[list[str]]:
    return _parsed("".join(text for text, _rows in _pieces(plan, alone=True)))


def _plan(organisation, survey, **params):
    return responses_export_plan(
        organisation=organisation, survey=survey, params=ExportParams(**params)
    )


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "params", [{"labels": "en"}, {"labels": "th", "codes": True}, {"labels": "he"}]
)
def test_copy_gives_the_row_paths_cells(organisation, seeded, params):  # noqa: F811
    plan = _plan(organisation, seeded.survey, **params)
    assert copy_module.copy_supported(plan)
    assert _copied(plan) == _row_path(plan)


@postgres_only
@pytest.mark.django_db
def test_copy_gives_the_hand_worked_rows(organisation, seeded):  # noqa: F811
    assert _copied(_plan(organisation, seeded.survey, labels="en")) == seeded_rows(seeded)


@postgres_only
@pytest.mark.django_db
def test_awkward_answers_are_written_as_the_row_path_writes_them(
    organisation,
    seeded,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    # given an "other" box, a yes / no, text with quotes, commas and line breaks, a label
    # that looks like a formula, and sentiments that round on a tie
    survey = seeded.survey
    picked = QuestionFactory(
        survey=survey, position=6, type=QuestionType.MULTI_CHOICE, settings={"other": True}
    )
    first = ChoiceFactory(question=picked, position=1, label={"en": "=evil"})
    second = ChoiceFactory(question=picked, position=2, label={"en": "Plain, with comma"})
    yes_no = QuestionFactory(survey=survey, position=7, type=QuestionType.YES_NO)
    text = survey.questions.get(type=QuestionType.TEXT)
    sentiments = [0.125, 0.285, -0.004, 1.0, -1.0, 0.375, 0.005, -0.615, 0.0]
    for index, sentiment in enumerate(sentiments):
        response = ResponseFactory(survey=survey)
        AnswerFactory(
            response=response,
            question=text,
            number=None,
            text=['He said "no",\nthen left', "-1", "", "ok"][index % 4],
            sentiment=sentiment,
        )
        answer = AnswerFactory(
            response=response, question=picked, number=None, text=["", "+other", "x"][index % 3]
        )
        answer.choices.set([[], [second, first], [first], [second]][index % 4])
        AnswerFactory(response=response, question=yes_no, number=index % 2)
    for params in ({"labels": "en"}, {"labels": "en", "codes": True}):
        plan = _plan(seeded.survey.organisation, survey, **params)
        # then both paths give the same cells, for the CSV and for the workbook's sheet
        assert _copied(plan) == _row_path(plan)
        written, expected = workbook_xml_both_ways(plan, tmp_path, monkeypatch)
        assert written == expected


@postgres_only
@pytest.mark.django_db
def test_sentiment_text_is_pythons_repr_of_round_to_two_places():
    # given averages on and near ties, tiny ones either side of zero, and random ones
    rng = random.Random(16)
    values = [i / 1000 for i in range(-1000, 1001, 5)] + [i / 8 for i in range(-8, 9)]
    values += [0.001, -0.001, -0.0049, 0.0049, 1 / 3, -2 / 3, 0.285, 2.675 / 3]
    values += [rng.uniform(-1, 1) for _ in range(2000)]
    joins = copy_module._SENTIMENT_JOINS.format(x="v.x")
    statement = f"SELECT {copy_module._SENTIMENT_CELL} FROM unnest(%s::float8[]) AS v(x) {joins}"
    with connection.cursor() as cursor:
        cursor.execute("SET extra_float_digits = 1")
        cursor.execute(statement, [values])
        written = [row[0] for row in cursor.fetchall()]
    # then each is what csv.writer writes for round(x, 2)
    assert written == [repr(round(value, 2)) for value in values]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_split_export_is_one_export_in_id_order(organisation, seeded, monkeypatch):  # noqa: F811
    # given more responses, and exports split across two connections from one response on
    for _ in range(7):
        AnswerFactory(response=ResponseFactory(survey=seeded.survey), number=5)
    monkeypatch.setattr(copy_module, "SPLIT_MIN_ROWS", 1)
    plan = _plan(organisation, seeded.survey, labels="en")
    # when written by two connections, then it is the row path's export, every row once
    rows = _copied(plan)
    assert rows == _row_path(plan)
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == sorted(ids) and len(ids) == plan.rows_total == 13


@postgres_only
@pytest.mark.django_db
def test_the_exports_session_settings_end_with_it(organisation, seeded):  # noqa: F811
    # given a transaction already open (as a test's is), in UTC
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        before = cursor.fetchone()[0]
    # when an export in Asia/Bangkok is written
    _copied(_plan(organisation, seeded.survey, labels="en"))
    # then the zone and the planner settings are what they were
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone'), current_setting('enable_hashagg')")
        assert cursor.fetchone() == (before, "on")
