"""A workbook's rows as sheet XML, escaped as XlsxWriter escapes a cell's text, in Python
(a label, once) or in SQL (a respondent's text, in the statement PostgreSQL runs).

On PostgreSQL the XLSX job asks the database for finished `<row>` elements, one per line
of a COPY, and puts those bytes into XlsxWriter's constant_memory row file: no Python work
per row (building them in Python held the job under a third of the CSV's rate). The rest
of the workbook (styles, header, frozen panes, the package) stays XlsxWriter's.

The COPY is in CSV form with a delimiter and a quote character that never reach the
output (control characters are written as Excel's _xHHHH_ escapes, a line feed as
`&#10;`), so PostgreSQL writes each row's text verbatim: a line of sheet XML.
"""

from __future__ import annotations

import re

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

CELL_MAX_CHARACTERS = 32767
# COPY's options for sheet rows: \x02 and \x01 can never be in a row (escaped as _x0001_).
SHEET_COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"

# Python's str.isspace() characters that XlsxWriter leaves in a cell (the others are
# control characters, escaped): at either end of a cell, its text keeps its spaces.
_EDGE_SPACES = "\\t\\n \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CONTROL = [*range(0x01, 0x09), *range(0x0B, 0x20)]
# A cell whose text needs more than wrapping (SQL regular expression, ARE syntax).
_SPECIAL_SQL = (
    f"'[&<>\\x01-\\x08\\x0a-\\x1f\\ufffe\\uffff]|_x[0-9a-fA-F]{{4}}_"
    f"|^[{_EDGE_SPACES}\\x0b-\\x0d\\x1c-\\x1f]|[{_EDGE_SPACES}\\x0b-\\x0d\\x1c-\\x1f]$'"
)
_EDGES_SQL = f"'^[{_EDGE_SPACES}]|[{_EDGE_SPACES}]$'"

_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
# Text that is only wrapped: nothing to escape, cut, or keep at its edges.
_PLAIN = re.compile(
    r"[^&<>\x00-\x1f\ufffe\uffff_\s](?:[^&<>\x00-\x1f\ufffe\uffff_]*[^&<>\x00-\x1f\ufffe\uffff_\s])?"
)


def inline_fragment(text: str | None) -> str | None:
    """An inline string's text as it follows `<is><t`: `>text` or ` xml:space="preserve">
    text`, escaped as XlsxWriter escapes it and cut to the 32,767 characters a cell holds;
    None for no text (a sheet has no cell for it)."""
    if not text:
        return None
    if len(text) <= CELL_MAX_CHARACTERS and _PLAIN.fullmatch(text):
        return ">" + text
    text = text[:CELL_MAX_CHARACTERS]
    if _NEEDS_ESCAPE.search(text):
        text = Worksheet._escape_control_characters(text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return ' xml:space="preserve">' + text
    return ">" + text


def inline(text: str) -> str:
    """A text cell's `<is>` element."""
    return f"<is><t{inline_fragment(text)}</t></is>"


def _sql_escaped(value: str) -> str:
    """SQL for inline_fragment of a text expression (a column of the inner statement)."""
    escaped = f"regexp_replace(left({value}, {CELL_MAX_CHARACTERS}), '(_x[0-9a-fA-F]{{4}}_)', "
    escaped += "'_x005F\\1', 'g')"
    for code in [*_CONTROL, 0xFFFE, 0xFFFF]:
        escaped = f"replace({escaped}, chr({code}), '_x{code:04X}_')"
    markup = "replace(replace(replace(replace(z.e, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
    markup += "chr(10), '&#10;')"
    slow = (
        f"(SELECT CASE WHEN z.e ~ {_EDGES_SQL} THEN ' xml:space=\"preserve\">' ELSE '>' END"
        f" || {markup} FROM (SELECT {escaped} AS e) AS z)"
    )
    return (
        f"CASE WHEN {value} = '' THEN NULL WHEN {value} ~ {_SPECIAL_SQL} "
        f"OR length({value}) > {CELL_MAX_CHARACTERS} THEN {slow} ELSE '>' || {value} END"
    )


def _cell_sql(at: int, kind: str) -> str:
    value = f"x.c{at}"
    ref = f"'<c r=\"{xl_col_to_name(at)}' || x.n || '\""
    if kind in ("int", "number"):
        return f"{ref}><v>' || {value} || '</v></c>'"
    fragment = {
        "xml": value,
        "safe": f"'>' || NULLIF({value}, '')",
        "text": _sql_escaped(value),
    }[kind]
    return f"{ref} t=\"inlineStr\"><is><t' || {fragment} || '</t></is></c>'"


def sheet_row_sql(statement: str, kinds: list[str]) -> str:
    """The statement whose one column is each row's `<row>` element, from `statement`,
    whose columns are c0… of these kinds ("int", "number": a number; "xml": text escaped
    already; "safe": text nothing in needs escaping; "text": anything) and n, the row's
    number. OFFSET 0 keeps the inner statement whole, so each value is worked out once;
    its rows come out in its order (a subquery scan over one input does not reorder, and
    sorting again would cost a sort of the million rows' XML)."""
    cells = ", ".join(_cell_sql(at, kind) for at, kind in enumerate(kinds))
    return (
        f"SELECT concat('<row r=\"', x.n, '\">', {cells}, '</row>')\n"
        f"FROM ({statement} OFFSET 0) AS x"
    )
