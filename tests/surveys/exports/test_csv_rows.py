"""The streamed CSV of a seeded response set, cell by cell (the set is in conftest.py)."""

import pytest

from surveys.choices import Anonymity, QuestionType
from tests.factories.surveys import AnswerFactory, QuestionFactory, ResponseFactory
from tests.surveys.exports.helpers import HEADER_EN, csv_rows, csv_url, seeded_rows

pytestmark = pytest.mark.django_db


def test_csv_has_one_row_per_response_and_one_column_per_question(
    staff_client, organisation, seeded
):
    # given the seeded responses (conftest.py)
    # when the staff member downloads the CSV
    response = staff_client.get(csv_url(organisation, seeded.survey))
    # then every cell is as worked out by hand: local times, labels, blanks where withheld
    assert csv_rows(response) == seeded_rows(seeded)


def test_csv_is_a_utf8_attachment_with_a_safe_name_and_is_not_cached(
    staff_client, organisation, seeded
):
    # given a survey whose title is not ASCII
    seeded.survey.title = {"en": 'Café "quotes"/..\\', "th": "แบบสำรวจ"}
    seeded.survey.save()
    # when it is exported
    response = staff_client.get(csv_url(organisation, seeded.survey))
    # then the file is named after the survey's id only, as an attachment
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="survey-{seeded.survey.pk}-responses-')
    assert disposition.endswith('.csv"') and "Caf" not in disposition
    assert response["Cache-Control"] == "no-store"
    assert response.streaming


def test_thai_labels_give_thai_questions_choices_and_column_names(
    staff_client, organisation, seeded
):
    # when the export is asked for with labels in Thai
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey), {"labels": "th"}))
    # then the questions, the choices and the translated column names are in Thai
    header = rows[0]
    assert header[2:5] == ["ช่องทาง", "ภาษา", "สาขา"]
    assert header[9] == "1. คุณจะแนะนำเราให้เพื่อนไหม"
    assert header[13] == "5. มีอะไรอีกไหม"
    first = rows[1]
    assert first[2] == "ตู้คีออสก์"  # Kiosk
    assert first[11:13] == ["Coffee TH", "Coffee TH; Wi-Fi TH"]
    assert rows[6][2] == "ลิงก์สาธารณะ"  # Public link


@pytest.mark.parametrize(
    ("labels", "question"), [("he", "1. האם תמליצו עלינו?"), ("ja", "1. 友人に勧めますか？")]
)
def test_every_survey_language_can_label_the_export(
    staff_client, organisation, seeded, labels, question
):
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey), {"labels": labels}))
    assert rows[0][9] == question
    assert rows[1][11] == f"Coffee {labels.upper()}"


def test_labels_default_to_the_staff_members_language(
    staff_client, staff_user, organisation, seeded
):
    # given a staff member who reads Chorus in Japanese
    staff_user.locale = "ja"
    staff_user.save()
    # when they export without choosing a language
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    # then the labels are Japanese
    assert rows[0][9] == "1. 友人に勧めますか？"


def test_codes_give_choice_positions_and_channel_codes(staff_client, organisation, seeded):
    # given a yes / no question answered once
    question = QuestionFactory(survey=seeded.survey, position=6, type=QuestionType.YES_NO)
    AnswerFactory(response=seeded.r[1], question=question, number=1)
    # when codes are asked for
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey), {"codes": "1"}))
    # then choices are their positions (Coffee 1, Cake 2, Wi-Fi 3), yes / no 1 / 0, and
    # the channel its code
    assert rows[1][2] == "kiosk" and rows[6][2] == "link"
    assert rows[1][11:15] == ["1", "1; 3", "Great coffee", "1"]
    assert rows[2][11:13] == ["2", ""]


def test_yes_no_is_written_in_words_without_codes(staff_client, organisation, seeded):
    question = QuestionFactory(survey=seeded.survey, position=6, type=QuestionType.YES_NO)
    AnswerFactory(response=seeded.r[1], question=question, number=1)
    AnswerFactory(response=seeded.r[2], question=question, number=0)
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey), {"labels": "th"}))
    assert [row[14] for row in rows[1:4]] == ["ใช่", "ไม่ใช่", ""]


def test_an_anonymous_survey_has_no_member_columns(staff_client, organisation, seeded):
    # given a survey whose answers are anonymous by design
    seeded.survey.anonymity = Anonymity.ANONYMOUS
    seeded.survey.save()
    # when it is exported
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    # then no column could name anyone, and no address appears anywhere
    assert rows[0] == HEADER_EN[:6] + HEADER_EN[9:]
    assert all("@example.com" not in cell for row in rows for cell in row)


def test_members_are_named_only_where_their_answer_and_consent_allow(
    staff_client, organisation, seeded
):
    # given the seeded set: Ann and Dan consented (Dan withdrew, then agreed again), Ben did
    # not consent, Cat withdrew after consenting, Eve left the community, R2 is anonymous
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    named = {row[0]: row[6:9] for row in rows[1:]}
    # then only Ann's and Dan's answers carry a member
    m, r = seeded.members, seeded.r
    assert named == {
        str(r[1].pk): [str(m["ann"].pk), "ann@example.com", "Ann"],
        str(r[2].pk): ["", "", ""],
        str(r[3].pk): ["", "", ""],
        str(r[4].pk): ["", "", ""],
        str(r[5].pk): [str(m["dan"].pk), "dan@example.com", "Dan"],
        str(r[6].pk): ["", "", ""],
    }


def test_a_member_who_consented_once_is_not_named_on_another_answer(
    staff_client, organisation, seeded
):
    # given Ann answered again, this time without agreeing to be contacted
    again = ResponseFactory(survey=seeded.survey, member=seeded.members["ann"])
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    # then that answer names nobody
    row = next(row for row in rows if row[0] == str(again.pk))
    assert row[6:9] == ["", "", ""]


def test_an_erased_member_is_never_named(staff_client, organisation, seeded):
    dan = seeded.members["dan"]
    dan.status, dan.email, dan.name, dan.phone, dan.user, dan.referral_code = (
        "erased",
        "",
        "",
        "",
        None,
        "",
    )
    dan.save()
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    assert next(row for row in rows if row[0] == str(seeded.r[5].pk))[6:9] == ["", "", ""]


@pytest.mark.parametrize(
    "text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tnext", "\rnext", '=HYPERLINK("x")']
)
def test_cells_a_spreadsheet_would_run_are_made_inert(staff_client, organisation, seeded, text):
    # given a respondent's text, a member's name and a store's name that look like formulas
    AnswerFactory(
        response=ResponseFactory(survey=seeded.survey),
        number=None,
        text=text,
        question=seeded.survey.questions.get(type=QuestionType.TEXT),
    )
    ann = seeded.members["ann"]
    ann.name = text
    ann.save()
    seeded.r[1].location.name = text
    seeded.r[1].location.save()
    # when exported
    rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    # then each starts with an apostrophe, and nothing else was changed
    assert rows[-1][13] == "'" + text
    assert rows[1][8] == "'" + text
    assert rows[1][4] == "'" + text
    assert rows[2][5] == "-0.5"  # a number of ours is a number
