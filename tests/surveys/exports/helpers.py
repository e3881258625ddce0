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
