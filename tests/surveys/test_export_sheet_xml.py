"""The workbook's rows as PostgreSQL writes them (surveys.exports.sheetxml): the very sheet
XML the Python writer makes, any respondent's text kept exactly and inert, in one
connection or two, with its progress told; and both databases stream the CSV in pieces."""

import random
import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection

from surveys.choices import QuestionType
from surveys.exports import copy as copy_module
from surveys.exports import files, sheet
from surveys.exports.params import ExportParams
from surveys.exports.selectors import responses_export_plan
from surveys.exports.sheetxml import CELL_MAX_CHARACTERS
from tests.factories.communities import MemberFactory
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.surveys.exports.conftest import seeded  # noqa: F401  (the fixture)
from tests.surveys.exports.helpers import (
    csv_body,
    csv_url,
    sheet_rows,
    sheet_xml,
    workbook_xml_both_ways,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the sheet's XML from SQL is PostgreSQL's"
)
NS = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

AWKWARD = [
    "<r><t>rich?</t></r>",
    "</t></is></c><c><f>1+1</f></c><is><t>",
    "a & b < c > d",
    "_x0041_ stays _x0041_",
    " padded ",
    "\tTab first",
    "trailing tab\t",
    "line one\nline two",
    "cr\r\nlf",
    "bell\x07 and \x01 and \x1f",
    "ideographic space\u3000",
    "\u00a0non-breaking",
    "สวัสดี 日本語 שלום 🎉",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@home",
    "_x",
    "x" * 5000,
]


def _plan(organisation, survey, **params):
    return responses_export_plan(
        organisation=organisation, survey=survey, params=ExportParams(**params)
    )


def _excel_unescaped(text: str) -> str:
    """A cell's text as Excel reads it: _xHHHH_ is that character (_x005F_ an underscore)."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda match: chr(int(match.group(1), 16)), text)


def _texts(path, column: int) -> dict[int, str]:
    """Row number -> the text of the cell in `column` (0-based), read by an XML parser."""
    root = ET.fromstring(sheet_xml(path))
    found = {}
    for row in root.iterfind(".//s:sheetData/s:row", NS):
        for cell in row.iterfind("s:c", NS):
            letters = re.match(r"[A-Z]+", cell.get("r")).group(0)
            if letters == chr(ord("A") + column):
                found[int(row.get("r"))] = _excel_unescaped(
                    "".join(cell.find("s:is", NS).itertext())
                )
    return found


def _awkward_seeded(seeded):  # noqa: F811
    text = seeded.survey.questions.get(type=QuestionType.TEXT)
    member = MemberFactory(
        community=seeded.members["ann"].community, name="<Ann & Co>\n", email="=x@example.com"
    )
    responses = []
    for value in AWKWARD:
        response = ResponseFactory(survey=seeded.survey, member=member, consent_to_contact=True)
        AnswerFactory(response=response, question=text, number=None, text=value)
        responses.append(response)
    return responses


@postgres_only
@pytest.mark.django_db
def test_the_databases_sheet_is_the_python_writers_sheet(
    organisation,
    seeded,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    # given answers and a member's name that look like markup, Excel escapes, formulas,
    # control characters, edge spaces, line breaks, four scripts and a too-long text
    _awkward_seeded(seeded)
    for params in ({"labels": "en"}, {"labels": "th", "codes": True}):
        plan = _plan(organisation, seeded.survey, **params)
        # when the workbook is written by the database and by Python
        written, expected = workbook_xml_both_ways(plan, tmp_path, monkeypatch)
        # then the sheets are the same XML
        assert written == expected


@postgres_only
@pytest.mark.django_db
def test_any_text_reads_back_exactly_typed_as_text(organisation, seeded, tmp_path):  # noqa: F811
    responses = _awkward_seeded(seeded)
    plan = _plan(organisation, seeded.survey, labels="en")
    path = tmp_path / "book.xlsx"
    assert files.xlsx_file_write(plan=plan, path=path, progress=lambda rows: None) == 6 + len(
        AWKWARD
    )
    # then an XML parser reads every text back as it was given (cut to what a cell holds)
    texts = _texts(path, 13)
    for row, value in enumerate(AWKWARD, start=8):
        assert texts[row] == value[:CELL_MAX_CHARACTERS]
    names = _texts(path, 8)
    assert {names[row] for row in range(8, 8 + len(responses))} == {"<Ann & Co>\n"}
    # and no cell is a formula: formula-like text stays text, without an apostrophe
    xml = sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml
    assert sheet_rows(path)[8 + AWKWARD.index("@home") - 1][13] == "@home"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_large_workbook_is_written_by_two_connections_numbered_on(
    organisation,
    seeded,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    # given more responses, and workbooks split across two connections from one response
    for index in range(9):
        AnswerFactory(response=ResponseFactory(survey=seeded.survey), number=index % 11)
    monkeypatch.setattr(sheet, "SPLIT_MIN_ROWS", 1)
    plan = _plan(organisation, seeded.survey, labels="en")
    told = []
    path = tmp_path / "split.xlsx"
    # when it is written
    written = files.xlsx_file_write(plan=plan, path=path, progress=told.append)
    # then every response is a row once, in id order, rows numbered on without a gap
    assert written == plan.rows_total == 15
    numbers = [int(n) for n in re.findall(r'<row r="(\d+)"', sheet_xml(path))]
    assert numbers == list(range(1, 17))
    ids = [int(row[0]) for row in sheet_rows(path)[1:]]
    assert ids == sorted(ids) and len(set(ids)) == 15
    # and the progress reached the total as the rows arrived
    assert told and told[-1] == 15 and told == sorted(told)
    # and it is the sheet the Python writer makes
    written_xml, expected = workbook_xml_both_ways(plan, tmp_path, monkeypatch)
    assert written_xml == expected


@pytest.mark.django_db
def test_the_csv_streams_in_pieces_on_either_database(
    staff_client,
    organisation,
    seeded,  # noqa: F811
    monkeypatch,
):
    # given pieces of two rows (the row path) or a byte (PostgreSQL's COPY)
    monkeypatch.setattr(files, "CSV_PIECE_ROWS", 2)
    monkeypatch.setattr(copy_module, "PIECE_BYTES", 1)
    response = staff_client.get(csv_url(organisation, seeded.survey))
    pieces = list(response.streaming_content)
    # then the body comes as a stream of several pieces, never one block
    assert response.streaming and len(pieces) >= 4
    assert b"".join(pieces).decode("utf-8") == csv_body(
        staff_client.get(csv_url(organisation, seeded.survey))
    )


@postgres_only
@pytest.mark.django_db
def test_the_sql_escape_is_xlsxwriters_escape_for_any_text():
    # given awkward texts, a text longer than a cell holds, and random ones over the
    # characters that matter (controls, markup, underscores, spaces of every kind)
    from surveys.exports.sheetxml import _sql_escaped, inline_fragment

    rng = random.Random(16)
    alphabet = "ab_x0F41&<>\t\n\r\x01\x0b\x1f \u00a0\u3000\u2028\ufffe\uffffก日"
    values = [*AWKWARD, "", "x" * (CELL_MAX_CHARACTERS + 10), "_x00e9_", "_X0041_"]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(500)]
    statement = f"SELECT {_sql_escaped('v.t')} FROM unnest(%s::text[]) WITH ORDINALITY AS v(t, i)"
    with connection.cursor() as cursor:
        cursor.execute(statement + " ORDER BY v.i", [values])
        written = [row[0] for row in cursor.fetchall()]
    # then the database's fragment is XlsxWriter's, a line feed written as its reference
    expected = [inline_fragment(value) for value in values]
    assert [w if w is None else w.replace("&#10;", "\n") for w in written] == expected
