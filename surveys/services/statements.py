"""The statements of the answering hot path, one function each (see config.sql).

A submit is a handful of these in one transaction, with no savepoint and no read before a
write that a unique constraint already guards (tests/surveys/test_statements.py runs each
on both databases).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import connection

from communities.models import Organisation
from config.sql import db_values, insert_rows, insert_statement, model_fields
from surveys.lookups import KioskCurrent
from surveys.models import Answer, Channel, Participation, Response, Survey, SurveyInvitation
from surveys.reactions import Rider
from surveys.services.member_statements import (
    _MEMBER_COUNTS,
    MemberAnswering,
    _member_ctes_sql,
    _member_shape_params,
    _MemberShape,
)
from surveys.services.member_statements import (
    member_answering_write as member_answering_write,
)


def response_insert(**response: Any) -> int | None:
    """The response row (response_statement's arguments); None when the survey already has
    one under this key (or the kiosk is no longer as `current` read it)."""
    with connection.cursor() as cursor:
        cursor.execute(*response_statement(**response))
        row = cursor.fetchone()
    return row[0] if row else None


def response_statement(
    *,
    organisation_id: int,
    survey_id: int,
    channel_id: int | None,
    member_id: int | None,
    invitation_id: int | None,
    location_id: int | None,
    language: str,
    submitted_at: datetime,
    submitted_on: date,
    is_anonymous: bool,
    consent_to_contact: bool,
    idempotency_key: str,
    analysed_at: datetime | None,
    current: KioskCurrent | None = None,
) -> tuple[str, list[Any]]:
    """response_insert's statement and its parameters, built without running it."""
    return insert_statement(
        Response,
        [
            {
                "organisation": organisation_id,
                "survey": survey_id,
                "channel": channel_id,
                "member": member_id,
                "invitation": invitation_id,
                "location": location_id,
                "language": language,
                "submitted_at": submitted_at,
                "submitted_on": submitted_on,
                "is_anonymous": is_anonymous,
                "consent_to_contact": consent_to_contact,
                "idempotency_key": idempotency_key,
                "analysed_at": analysed_at,
            }
        ],
        conflict=("survey", "idempotency_key"),
        returning=("id",),
        only_if=None if current is None else (_current_sql(), _current_params(current)),
    )


def answers_insert(
    *, organisation_id: int, response_id: int, answers: Iterable[dict[str, Any]]
) -> dict[int, int]:
    """Every answer of a response in one INSERT; {question_id: answer_id}.

    Each answer is {"question": id, "question_type": …, "number": …, "text": …,
    "sentiment": …}. Matched back by question (one answer per question), since neither
    database promises RETURNING rows in insertion order.
    """
    statement = _answers_statement(organisation_id, list(answers))
    if statement is None:
        return {}
    with connection.cursor() as cursor:
        return _answers_run(cursor, statement, response_id)


def _answers_statement(
    organisation_id: int, answers: list[dict[str, Any]]
) -> tuple[str, list[Any], int] | None:
    """answers_insert's statement before its response is written: (SQL, parameters with
    each row's response id still 0, values per row); None for no answers."""
    rows = [
        {
            "organisation": organisation_id,
            "response": 0,
            "question": a["question"],
            "question_type": a["question_type"],
            "number": a.get("number"),
            "text": a.get("text", ""),
            "sentiment": a.get("sentiment"),
        }
        for a in answers
    ]
    if not rows:
        return None
    sql, params = insert_statement(Answer, rows, returning=("id", "question"))
    return sql, params, len(rows[0])


def _answers_run(cursor, statement: tuple[str, list[Any], int], response_id: int) -> dict[int, int]:
    sql, params, width = statement
    # Each row's second value is its response.
    params[1::width] = [response_id] * (len(params) // width)
    cursor.execute(sql, params)
    return {question_id: pk for pk, question_id in cursor.fetchall()}


def answer_choices_insert(*, pairs: Iterable[tuple[int, int]]) -> None:
    """The chosen choices, (answer_id, choice_id) each, in one INSERT."""
    through = Answer.choices.through
    insert_rows(through, [{"answer": a, "choice": c} for a, c in pairs])


def _choices_statement(choices: list[tuple[int, int]]) -> tuple[str, list[Any]] | None:
    """The chosen choices' INSERT before their answers are written: (question_id,
    choice_id) pairs, each row's first value its question until _choices_run puts its
    answer there; None for no choices."""
    if not choices:
        return None
    through = Answer.choices.through
    return insert_statement(through, [{"answer": q, "choice": c} for q, c in choices])


def _choices_run(cursor, statement: tuple[str, list[Any]], answer_ids: dict[int, int]) -> None:
    sql, params = statement
    params[0::2] = [answer_ids[question_id] for question_id in params[0::2]]
    cursor.execute(sql, params)


def participation_insert(
    *, organisation_id: int, survey_id: int, member_id: int, day: date, points_pending: int
) -> bool:
    """That the member took part; False when they had already (one row per member)."""
    rows = insert_rows(
        Participation,
        [
            {
                "id": uuid.uuid4(),
                "organisation": organisation_id,
                "survey": survey_id,
                "member": member_id,
                "completed_on": day,
                "points_pending": points_pending,
            }
        ],
        conflict=("survey", "member"),
        returning=("id",),
    )
    return bool(rows)


def invitation_claim(*, invitation_id: int, at: datetime) -> bool:
    """Mark a personal link answered, once: False when another device got there first.

    The UPDATE waits on a concurrent claim's row lock and then re-checks the condition, so
    of two devices sending one link at once exactly one claims it.
    """
    qn = connection.ops.quote_name
    meta = SurveyInvitation._meta
    responded = qn(meta.get_field("responded_at").column)
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {responded} = %s "
        f"WHERE {qn(meta.pk.column)} = %s AND {responded} IS NULL"
    )
    stamp = meta.get_field("responded_at").get_db_prep_save(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, invitation_id])
        return cursor.rowcount == 1


@cache
def _current_sql() -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    organisation = Organisation
    # Equal, NULL included.
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    # The copy's channel (still active), survey and organisation, each unchanged.
    return (
        f"SELECT 1 FROM {qn(Channel._meta.db_table)} ch "
        f"JOIN {qn(Survey._meta.db_table)} su "
        f"ON su.{col(Survey, 'id')} = ch.{col(Channel, 'survey')} "
        f"JOIN {qn(organisation._meta.db_table)} og "
        f"ON og.{col(organisation, 'id')} = su.{col(Survey, 'organisation')} "
        f"WHERE ch.{col(Channel, 'id')} = %s AND ch.{col(Channel, 'active')} "
        f"AND ch.{col(Channel, 'updated_at')} = %s "
        f"AND ch.{col(Channel, 'location')} {same} %s AND su.{col(Survey, 'id')} = %s "
        f"AND su.{col(Survey, 'updated_at')} = %s AND su.{col(Survey, 'revision')} = %s "
        f"AND su.{col(Survey, 'status')} = %s "
        f"AND og.{col(organisation, 'updated_at')} = %s"
    )


def _current_params(current: KioskCurrent) -> list[Any]:
    stamp = Response._meta.get_field("submitted_at")
    stamps = db_values(
        (stamp, stamp, stamp),
        (current.channel_updated_at, current.survey_updated_at, current.organisation_updated_at),
    )
    return [
        current.channel_id,
        stamps[0],
        current.location_id,
        current.survey_id,
        stamps[1],
        current.survey_revision,
        current.survey_status,
        stamps[2],
    ]


def response_with_answers_insert(
    *,
    response: dict[str, Any],
    answers: list[dict[str, Any]],
    choices: list[tuple[int, int]],
    member: MemberAnswering | None = None,
    current: KioskCurrent | None = None,
    riders: Sequence[Rider] = (),
) -> tuple[int, dict[int, int]] | None:
    """The response, its answers and their chosen choices; (response id, {question_id:
    answer_id}), or None (and nothing written) when the survey has a response under the
    key already, or `member` had answered and may answer once, or the kiosk is no longer
    as `current` read it.

    `response` has response_insert's arguments, `answers` answers_insert's rows, `choices`
    (question_id, choice_id) pairs, `member` the member's side of the answer, written
    first. On PostgreSQL this is one statement (data-modifying CTEs: the member's row lock
    first, then each INSERT feeds the next its ids), so a member's submit waits for one
    round trip instead of five; SQLite has no such statement and runs them one by one.
    `riders`, PostgreSQL only: what the reactions write with the response (surveys.
    reactions.Rider), part of the same statement.
    """
    if riders and (connection.vendor != "postgresql" or not answers):
        raise ValueError("riders are part of PostgreSQL's one statement with answers")
    if connection.vendor != "postgresql" or not answers:
        return _one_by_one(response, answers, choices, member, current)
    sql, params = _response_with_answers_sql(response, answers, choices, member, current, riders)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if member is not None:
        # Each row leads with the member's counts; without a response, one row of NULLs.
        member.new, member.awarded = rows[0][0] == 1, rows[0][1] == 1
        rows = [row[2:] for row in rows if row[2] is not None]
    if not rows:
        return None
    return rows[0][0], {question_id: answer_id for _r, answer_id, question_id in rows}


def _one_by_one(
    response: dict[str, Any],
    answers: list[dict[str, Any]],
    choices: list[tuple[int, int]],
    member: MemberAnswering | None,
    current: KioskCurrent | None,
) -> tuple[int, dict[int, int]] | None:
    """response_with_answers_insert as statements run one by one (SQLite, or a response
    without answers), every one built before the first runs: on SQLite that one begins
    the transaction and takes the one writer's turn (config.sqlite), so while the turn is
    held only the new ids are filled in."""
    member_statements = member.statements() if member is not None else None
    head = response_statement(**response, current=current)
    body = _answers_statement(response["organisation_id"], answers)
    tail = _choices_statement(choices)
    if member is not None:
        member.write(member_statements)
        if member.only_once and not member.new:
            return None
    with connection.cursor() as cursor:
        cursor.execute(*head)
        rows = cursor.fetchall()
        if not rows:
            return None
        response_id = rows[0][0]
        ids = _answers_run(cursor, body, response_id) if body is not None else {}
        if tail is not None:
            _choices_run(cursor, tail, ids)
    return response_id, ids


# The answer columns a submit writes, with the type each VALUES entry is cast to (a bare
# parameter in a VALUES list has no type for PostgreSQL to infer).
_ANSWER_VALUES = (
    ("question", "bigint"),
    ("question_type", "varchar"),
    ("number", "smallint"),
    ("text", "text"),
    ("sentiment", "double precision"),
)


# The response columns a submit writes, in the order of its INSERT.
_RESPONSE_COLUMNS = (
    "organisation",
    "survey",
    "channel",
    "member",
    "invitation",
    "location",
    "language",
    "submitted_at",
    "submitted_on",
    "is_anonymous",
    "consent_to_contact",
    "idempotency_key",
    "analysed_at",
    # The answers as PostgreSQL's triggers would store them (surveys 0010), written with
    # the row so the triggers find it equal and write nothing more.
    "cells",
)


def _response_with_answers_sql(
    response: dict[str, Any],
    answers: list[dict[str, Any]],
    choices: list[tuple[int, int]],
    member: MemberAnswering | None = None,
    current: KioskCurrent | None = None,
    riders: Sequence[Rider] = (),
) -> tuple[str, list[Any]]:
    """The statement and its parameters; the text depends only on the submit's shape (how
    many answers and choices, which member rows), so it is built once per shape."""
    shape, params = _member_shape_params(member) if member is not None else (None, [])
    fields = model_fields(Response, _RESPONSE_COLUMNS)
    values = {**response, "organisation": response["organisation_id"]}
    for name in ("survey", "channel", "member", "invitation", "location"):
        values[name] = response[f"{name}_id"]
    params += db_values(fields, [values.get(field.name) for field in fields])
    if current is not None:
        params += _current_params(current)
    params.append(response["organisation_id"])
    for a in answers:
        params += [a["question"], a["question_type"], a.get("number"), a.get("text", "")]
        params.append(a.get("sentiment"))
    for question_id, choice_id in choices:
        params += [question_id, choice_id]
    for rider in riders:
        params += rider.params
    cells = response.get("cells") is not None
    ridden = tuple(cte for rider in riders for cte in rider.ctes)
    return _response_sql(
        len(answers), len(choices), cells, shape, current is not None, ridden
    ), params


@cache
def _response_sql(
    answers: int,
    choices: int,
    cells: bool,
    member: _MemberShape | None,
    current: bool = False,
    riders: tuple[str, ...] = (),
) -> str:
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    head, guards = "WITH ", []
    if member is not None:
        head = f"WITH {', '.join(_member_ctes_sql(member))}, "
        # After the member's lock; only with a new participation when they answer once.
        guards.append(f"EXISTS (SELECT 1 FROM {'p' if member.only_once else 'm'})")
    if current:
        # Only while the kiosk is as the caller's copy read it (KioskCurrent).
        guards.append(f"EXISTS ({_current_sql()})")
    guard = f" WHERE {' AND '.join(guards)}" if guards else ""
    answer = Answer._meta.db_table
    through = Answer.choices.through
    row_values = ", ".join(["%s"] * len(_RESPONSE_COLUMNS))
    sql = (
        f"{head}r AS (INSERT INTO {qn(Response._meta.db_table)} "
        f"({', '.join(col(Response, n) for n in _RESPONSE_COLUMNS)}) "
        + (f"SELECT {row_values}{guard} " if guard else f"VALUES ({row_values}) ")
        + f"ON CONFLICT ({col(Response, 'survey')}, {col(Response, 'idempotency_key')}) "
        f"DO NOTHING RETURNING {col(Response, 'id')} AS id), "
    )
    row = "(" + ", ".join(f"%s::{kind}" for _name, kind in _ANSWER_VALUES) + ")"
    sql += (
        f"a AS (INSERT INTO {qn(answer)} ({col(Answer, 'organisation')}, "
        f"{col(Answer, 'response')}, "
        + ", ".join(col(Answer, name) for name, _kind in _ANSWER_VALUES)
        + f") SELECT %s, r.id, v.* FROM r, (VALUES {', '.join([row] * answers)}) AS v "
        f"RETURNING {col(Answer, 'id')} AS id, {col(Answer, 'question')} AS question)"
    )
    if choices:
        pair = "(%s::bigint, %s::bigint)"
        sql += (
            f", c AS (INSERT INTO {qn(through._meta.db_table)} "
            f"({col(through, 'answer')}, {col(through, 'choice')}) "
            f"SELECT a.id, w.choice FROM a JOIN (VALUES {', '.join([pair] * choices)}) "
            f"AS w(question, choice) ON a.question = w.question)"
        )
    # The reactions' rows: each reads r.id, so they are written with the response or not
    # at all (a data-modifying CTE runs whether or not the query reads it).
    sql += "".join(f", {cte}" for cte in riders)
    written = ""
    if cells:
        # The cells are written with the row: this statement's triggers need not rebuild
        # them (surveys 0010); the mark is this statement's own (its start time).
        sql += (
            ", w AS (SELECT set_config('chorus.cells_written', "
            "statement_timestamp()::text, true) AS mark)"
        )
        written = " CROSS JOIN w"
    if member is None:
        return sql + f" SELECT r.id, a.id, a.question FROM r JOIN a ON true{written}"
    return sql + (
        f" SELECT {_MEMBER_COUNTS[member.award is not None]}, r.id, a.id, a.question "
        f"FROM (SELECT 1) AS one LEFT JOIN (r JOIN a ON true) ON true{written}"
    )
