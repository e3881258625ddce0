"""Reading an export back as a person's spreadsheet would: the CSV's rows, the sheet's cells."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from django.urls import reverse

HEADER_EN = [
    "Response",
    "Submitted at",
    "Channel",
    "Language",
    "Store",
    "Sentiment",
    "Member",
    "Email",
    "Name",
    "1. How likely are you to recommend us?",
    "2. Rate your visit",
    "3. Why did you come?",
    "4. What did you like?",
    "5. Anything else?",
]


def seeded_rows(seeded) -> list[list[str]]:
    """The CSV of conftest.py's seeded set, worked out by hand (labels in English)."""
    r, m = seeded.r, seeded.members
    return [
        HEADER_EN,
        # fmt: off
        [
            str(r[1].pk),
            "2026-03-01T17:00:00+07:00",
            "Kiosk",
            "en",
            "Siam",
            "0.8",
            str(m["ann"].pk),
            "ann@example.com",
            "Ann",
            "9",
            "5",
            "Coffee",
            "Coffee; Wi-Fi",
            "Great coffee",
        ],
        [
            str(r[2].pk),
            "2026-03-03T01:30:00+07:00",
            "Kiosk",
            "th",
            "Siam",
            "-0.5",
            "",
            "",
            "",
            "3",
            "2",
            "Cake",
            "",
            '\'=HYPERLINK("http://x")',
        ],
        [
            str(r[3].pk),
            "2026-03-03T10:00:00+07:00",
            "Kiosk",
            "en",
            "Siam",
            "",
            "",
            "",
            "",
            "7",
            "4",
            "",
            "Cake",
            "",
        ],
        [str(r[4].pk), "2026-03-04", "", "ja", "", "", "", "", "", "10", "5", "Wi-Fi", "", ""],
        [
            str(r[5].pk),
            "2026-03-06",
            "",
            "he",
            "",
            "-0.9",
            str(m["dan"].pk),
            "dan@example.com",
            "Dan",
            "0",
            "1",
            "Coffee",
            "",
            "'-awful",
        ],
        [
            str(r[6].pk),
            "2026-04-01T06:00:00+07:00",
            "Public link",
            "en",
            "",
            "",
            "",
            "",
            "",
            "8",
            "",
            "",
            "Wi-Fi",
            "'@home +1",
        ],
        # fmt: on
    ]


def csv_url(organisation, survey) -> str:
    return reverse("staff:survey_export_csv", args=[organisation.slug, survey.pk])


def csv_body(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[list[str]]:
    """The CSV's rows (header first), after checking the byte-order mark Excel needs."""
    body = csv_body(response)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def sheet_rows(path: Path) -> list[list[str]]:
    """The first sheet's cells as text, row by row, from the workbook's XML (inline strings
    and numbers, as XlsxWriter's constant_memory mode writes them); no formula may be in it."""
    with zipfile.ZipFile(path) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
    parsed = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", xml, flags=re.S):
        cells = {}
        for ref, body in re.findall(r'<c r="([A-Z]+)\d+"[^>]*>(.*?)</c>', row, flags=re.S):
            text = re.search(r"<t[^>]*>(.*?)</t>", body, flags=re.S)
            value = re.search(r"<v>(.*?)</v>", body, flags=re.S)
            cells[_column(ref)] = _unescape(text.group(1) if text else value.group(1))
        parsed.append(cells)
    # A sheet has no cell for an empty value: every row is as wide as the widest.
    width = max((max(cells) + 1 for cells in parsed if cells), default=0)
    return [[cells.get(i, "") for i in range(width)] for cells in parsed]


def _column(ref: str) -> int:
    number = 0
    for letter in ref:
        number = number * 26 + ord(letter) - 64
    return number - 1


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read("xl/worksheets/sheet1.xml").decode("utf-8")


def workbook_xml_both_ways(plan, folder: Path, monkeypatch) -> tuple[str, str]:
    """The sheet XML of the plan's workbook as PostgreSQL writes its rows, and as the row
    path (Python) does; the first with its line breaks between rows and its `&#10;` for a
    line feed in a cell (the same XML) made the second's."""
    from surveys.exports import files

    database = folder / "database.xlsx"
    python = folder / "python.xlsx"
    files.xlsx_file_write(plan=plan, path=database, progress=lambda rows: None)
    with monkeypatch.context() as patch:
        patch.setattr(files, "copy_supported", lambda plan: False)
        files.xlsx_file_write(plan=plan, path=python, progress=lambda rows: None)
    written = sheet_xml(database).replace("</row>\n", "</row>").replace("&#10;", "\n")
    return written, sheet_xml(python)
