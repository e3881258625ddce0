"""A case and its first timeline event written in one statement (PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from feedback.models import Case, CaseEvent


def case_and_event_insert(case_row: dict[str, Any], event: CaseEvent) -> tuple[int, int]:
    """INSERT a case and its first event in one statement (PostgreSQL's data-modifying
    CTE hands the event the case's id); returns (case id, event id)."""
    qn = connection.ops.quote_name
    case_fields = [Case._meta.get_field(name) for name in case_row]
    event_fields = [
        f for f in CaseEvent._meta.concrete_fields if not f.primary_key and f.name != "case"
    ]
    case_cols = ", ".join(qn(f.column) for f in case_fields)
    event_cols = ", ".join(qn(f.column) for f in event_fields)
    sql = (
        f"WITH c AS (INSERT INTO {qn(Case._meta.db_table)} ({case_cols}) "
        f"VALUES ({', '.join(['%s'] * len(case_fields))}) RETURNING {qn('id')}) "
        f"INSERT INTO {qn(CaseEvent._meta.db_table)} ({event_cols}, "
        f"{qn(CaseEvent._meta.get_field('case').column)}) "
        f"SELECT {', '.join(['%s'] * len(event_fields))}, c.{qn('id')} FROM c "
        f"RETURNING {qn(CaseEvent._meta.get_field('case').column)}, {qn('id')}"
    )
    params = [f.get_db_prep_save(case_row[f.name], connection) for f in case_fields]
    params += [f.get_db_prep_save(getattr(event, f.attname), connection) for f in event_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        case_id, event_id = cursor.fetchone()
    return case_id, event_id
