"""A new case's rows: the case and its first timeline event, written in one statement
(PostgreSQL) on their own, or as part of the response's statement (a Rider,
surveys.reactions)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models
from django.utils import timezone

from communities.webhooks.choices import WebhookEvent
from communities.webhooks.services import webhook_subscribed
from config.sql import db_values
from feedback.choices import CaseEventKind
from feedback.models import Case, CaseEvent
from feedback.reasons import Reason
from feedback.services.sla import case_sla_times
from surveys.models import Response
from surveys.reactions import Rider


def opened_event(case: Case, *, reasons: list[Reason], priority: str, at: datetime) -> CaseEvent:
    return CaseEvent(
        organisation_id=case.organisation_id,
        case=case,
        kind=CaseEventKind.OPENED,
        data={"reasons": reasons, "priority": priority},
        created_at=at,
    )


def case_fields(
    *, response: Response, reasons: list[Reason], priority: str, opened: datetime, team_id
) -> dict[str, Any]:
    first_response_due, resolution_due = case_sla_times(
        organisation=response.organisation, priority=priority, start=opened
    )
    return {
        "organisation_id": response.organisation_id,
        "reasons": reasons,
        "priority": priority,
        "created_at": opened,
        "first_response_due_at": first_response_due,
        "due_at": resolution_due,
        "team_id": team_id,
    }


def case_new(
    *, response: Response, fields: dict[str, Any], opened: datetime
) -> tuple[Case, dict[str, Any]]:
    """A new case for the response, and its row to INSERT (field: value, no id)."""
    case = Case(response=response, updated_at=opened, **fields)
    row = {f.name: getattr(case, f.attname) for f in Case._meta.concrete_fields}
    del row["id"]
    return case, row


def case_open_rider(
    *,
    response: Response,
    reasons: list[Reason],
    priority: str,
    at: datetime | None,
    team_id: int | None,
    prefix: str,
) -> Rider | None:
    """The rows case_open(new_response=True) writes for a response not written yet (its
    case and "opened" event, routed to `team_id`, nobody assigned), as part of the
    response's own statement (PostgreSQL); None when a case.opened webhook would have to
    be sent with them."""
    if webhook_subscribed(organisation=response.organisation_id, event=WebhookEvent.CASE_OPENED):
        return None
    opened = at or timezone.now()
    fields = case_fields(
        response=response, reasons=reasons, priority=priority, opened=opened, team_id=team_id
    )
    case, row = case_new(response=response, fields=fields, opened=opened)
    event = opened_event(case, reasons=reasons, priority=priority, at=opened)
    return case_and_event_rider(row, event, prefix)


@cache
def _event_fields() -> tuple[models.Field, ...]:
    return tuple(
        f for f in CaseEvent._meta.concrete_fields if not f.primary_key and f.name != "case"
    )


def _params(
    case_row: dict[str, Any], event: CaseEvent, case_fields: list[models.Field]
) -> list[Any]:
    params = db_values(case_fields, [case_row[f.name] for f in case_fields])
    return params + db_values(_event_fields(), [getattr(event, f.attname) for f in _event_fields()])


def _inserts(case_fields: list[models.Field], case_from: str) -> tuple[str, str]:
    """The case's INSERT (its columns, then those `case_from` gives: "VALUES (…)" or a
    SELECT), and the event's columns and SELECT list up to the case's id."""
    qn = connection.ops.quote_name
    case_cols = ", ".join(qn(f.column) for f in case_fields)
    event_cols = ", ".join(qn(f.column) for f in _event_fields())
    case_sql = f"INSERT INTO {qn(Case._meta.db_table)} ({case_cols}{case_from}"
    event_sql = (
        f"INSERT INTO {qn(CaseEvent._meta.db_table)} ({event_cols}, "
        f"{qn(CaseEvent._meta.get_field('case').column)}) "
        f"SELECT {', '.join(['%s'] * len(_event_fields()))}"
    )
    return case_sql, event_sql


def case_and_event_insert(case_row: dict[str, Any], event: CaseEvent) -> tuple[int, int]:
    """INSERT a case and its first event in one statement (PostgreSQL's data-modifying
    CTE hands the event the case's id); returns (case id, event id)."""
    qn = connection.ops.quote_name
    case_fields = [Case._meta.get_field(name) for name in case_row]
    case_sql, event_sql = _inserts(
        case_fields, f") VALUES ({', '.join(['%s'] * len(case_fields))})"
    )
    sql = (
        f"WITH c AS ({case_sql} RETURNING {qn('id')}) {event_sql}, c.{qn('id')} FROM c "
        f"RETURNING {qn(CaseEvent._meta.get_field('case').column)}, {qn('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(case_row, event, case_fields))
        case_id, event_id = cursor.fetchone()
    return case_id, event_id


def case_and_event_rider(case_row: dict[str, Any], event: CaseEvent, prefix: str) -> Rider:
    """The same two rows as part of the response's own statement: the case takes the new
    response's id (`r.id`), so neither is written when the response is not."""
    case_fields = [Case._meta.get_field(name) for name in case_row if name != "response"]
    return Rider(
        ctes=(_rider_sql(tuple(f.name for f in case_fields), prefix),),
        params=tuple(_params(case_row, event, case_fields)),
    )


@cache
def _rider_sql(case_names: tuple[str, ...], prefix: str) -> str:
    qn = connection.ops.quote_name
    case_fields = [Case._meta.get_field(name) for name in case_names]
    response = qn(Case._meta.get_field("response").column)
    case_sql, event_sql = _inserts(
        case_fields,
        f", {response}) SELECT {', '.join(['%s'] * len(case_fields))}, r.{qn('id')} FROM r",
    )
    case, event = f"{prefix}case", f"{prefix}event"
    return (
        f"{case} AS ({case_sql} RETURNING {qn('id')}), "
        f"{event} AS ({event_sql}, {case}.{qn('id')} FROM {case})"
    )
