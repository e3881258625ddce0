"""The tables an answer writes carry no index that another index on the same table already
covers (issue 13): a B-tree whose columns lead another is never the better plan, and every
answer writes one more entry into each (the response, its answers, the participation, the
ledger entry, the member's activity and, for a detractor, the consent, case, timeline,
unsubscribe link and email). Read from the database itself, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from communities.models import ConsentRecord, LinkToken, Member, OutboundEmail
from feedback.models import Case, CaseEvent
from rewards.models import LedgerEntry
from surveys.models import Answer, Participation, Response

pytestmark = pytest.mark.django_db

ANSWER_PATH = (
    Response,
    Answer,
    Participation,
    LedgerEntry,
    Member,
    ConsentRecord,
    LinkToken,
    OutboundEmail,
    Case,
    CaseEvent,
)


def _indexes(model) -> dict[str, dict]:
    """The table's indexes by name; partial ones (a condition in the model's Meta) are left
    out, as they cannot stand in for a whole-table index."""
    partial = {
        item.name
        for item in [*model._meta.indexes, *model._meta.constraints]
        if getattr(item, "condition", None) is not None
    }
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: info
        for name, info in found.items()
        if (info["index"] or info["unique"]) and info["columns"] and name not in partial
    }


def _covered(indexes: dict[str, dict]) -> list[tuple[str, list[str], str]]:
    """(index, its columns, the index that leads with them) for each non-unique index whose
    columns begin another index."""
    covered = []
    for name, info in indexes.items():
        if info["unique"] or info["primary_key"]:
            continue
        columns = info["columns"]
        for other, other_info in indexes.items():
            leads = other != name and other_info["columns"][: len(columns)] == columns
            if leads and (len(other_info["columns"]) > len(columns) or other_info["unique"]):
                covered.append((name, columns, other))
                break
    return covered


@pytest.mark.parametrize("model", ANSWER_PATH, ids=lambda model: model._meta.db_table)
def test_no_index_of_the_answer_path_is_covered_by_another(model):
    assert _covered(_indexes(model)) == []


def test_the_composite_indexes_that_cover_the_foreign_keys_are_there():
    # the foreign keys that lost their own index are still each the lead of one
    for model, column in [
        (Response, "survey_id"),
        (Answer, "response_id"),
        (Answer, "question_id"),
        (Participation, "survey_id"),
        (LedgerEntry, "member_id"),
        (LedgerEntry, "organisation_id"),
        (Member, "community_id"),
        (ConsentRecord, "member_id"),
        (LinkToken, "organisation_id"),
        (OutboundEmail, "organisation_id"),
        (Case, "organisation_id"),
        (CaseEvent, "case_id"),
    ]:
        leads = [i["columns"][0] for i in _indexes(model).values()]
        assert column in leads, (model._meta.db_table, column)


def test_the_check_finds_a_covered_index():
    # the check itself: an index on a column another index leads with is reported
    indexes = {
        "one": {"columns": ["a"], "unique": False, "primary_key": False, "index": True},
        "two": {"columns": ["a", "b"], "unique": False, "primary_key": False, "index": True},
        "three": {"columns": ["b"], "unique": False, "primary_key": False, "index": True},
    }
    assert _covered(indexes) == [("one", ["a"], "two")]
