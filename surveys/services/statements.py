"""The statements of the answering hot path, one function each (see config.sql).

A submit is a handful of these in one transaction, with no savepoint and no read before a
write that a unique constraint already guards (tests/surveys/test_statements.py runs each
on both databases).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection, models

from communities.choices import MemberStatus
from communities.models import ConsentRecord, Member, Organisation
from config.sql import db_values, insert_rows
from rewards.models import LedgerEntry
from surveys.lookups import KioskCurrent
from surveys.models import Answer, Channel, Participation, Response, Survey, SurveyInvitation
from surveys.reactions import Rider


def response_insert(
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
) -> int | None:
    """The response row; None when the survey already has one under this key (or the
    kiosk is no longer as `current` read it)."""
    rows = insert_rows(
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
    return rows[0][0] if rows else None


def answers_insert(
    *, organisation_id: int, response_id: int, answers: Iterable[dict[str, Any]]
) -> dict[int, int]:
    """Every answer of a response in one INSERT; {question_id: answer_id}.

    Each answer is {"question": id, "question_type": …, "number": …, "text": …,
    "sentiment": …}. Matched back by question (one answer per question), since neither
    database promises RETURNING rows in insertion order.
    """
    rows = [
        {
            "organisation": organisation_id,
            "response": response_id,
            "question": a["question"],
            "question_type": a["question_type"],
            "number": a.get("number"),
            "text": a.get("text", ""),
            "sentiment": a.get("sentiment"),
        }
        for a in answers
    ]
    return {qid: pk for pk, qid in insert_rows(Answer, rows, returning=("id", "question"))}


def answer_choices_insert(*, pairs: Iterable[tuple[int, int]]) -> None:
    """The chosen choices, (answer_id, choice_id) each, in one INSERT."""
    through = Answer.choices.through
    insert_rows(through, [{"answer": a, "choice": c} for a, c in pairs])


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
        if member is not None:
            member.write()
            if member.only_once and not member.new:
                return None
        response_id = response_insert(**response, current=current)
        if response_id is None:
            return None
        ids = answers_insert(
            organisation_id=response["organisation_id"], response_id=response_id, answers=answers
        )
        answer_choices_insert(pairs=[(ids[q], c) for q, c in choices])
        return response_id, ids
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
    fields = _fields(Response, _RESPONSE_COLUMNS)
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
def _fields(model: type[models.Model], names: tuple[str, ...]) -> tuple[models.Field, ...]:
    return tuple(model._meta.get_field(name) for name in names)


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


@dataclass
class MemberAnswering:
    """A member's side of an answer (member_answering_write's rows), to write on its own
    or, on PostgreSQL, as the first part of the response's own statement
    (response_with_answers_insert). `only_once`: the response is written only when the
    participation is new. `new` and `awarded` are set once it is written."""

    member_id: int
    at: datetime
    participation: dict[str, Any]
    award: dict[str, Any] | None
    consent: dict[str, Any] | None
    only_once: bool = True
    new: bool | None = None
    awarded: bool | None = None

    def write(self) -> None:
        """Write it on its own (before the response, in the caller's transaction)."""
        self.new, self.awarded = member_answering_write(
            member_id=self.member_id,
            at=self.at,
            participation=self.participation,
            award=self.award,
            consent=self.consent,
        )


def member_answering_write(
    *,
    member_id: int,
    at: datetime,
    participation: dict[str, Any],
    award: dict[str, Any] | None,
    consent: dict[str, Any] | None,
) -> tuple[bool, bool]:
    """What a member's answer writes besides the response, under the member's row lock:
    their activity (the lock: one member's submits run one at a time from here), their
    participation, their points and their consent: (whether the participation is new, whether
    the points were awarded now). A participation that was there already means they had
    answered; the caller decides whether that refuses the answer.

    `participation`, `award` (rewards.services.ledger.points_award_row) and `consent` are
    rows as field: value. Points are keyed (one award per key) and the caller rolls the
    transaction back on any refusal, so writing them before the response is safe. On
    PostgreSQL this is one statement: every INSERT reads the UPDATE's row, so the lock is
    taken before anything else (the fixed order that keeps two submits of one member from
    deadlocking) and conflicts are seen as the separate statements would see them.
    SQLite runs them one by one.
    """
    participation = {"id": uuid.uuid4(), **participation}
    if connection.vendor != "postgresql":
        if not _member_touch(member_id=member_id, at=at):
            return False, False
        new = bool(
            insert_rows(
                Participation,
                [participation],
                conflict=("survey", "member"),
                returning=("id",),
            )
        )
        awarded = award is not None and bool(
            insert_rows(LedgerEntry, [award], conflict=("idempotency_key",), returning=("id",))
        )
        if consent is not None:
            insert_rows(ConsentRecord, [consent])
        return new, awarded
    parts, params = _member_answering_ctes(
        MemberAnswering(member_id, at, participation, award, consent)
    )
    sql = f"WITH {', '.join(parts)} SELECT {_MEMBER_COUNTS[award is not None]}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new, awarded_rows = cursor.fetchone()
    return new == 1, awarded_rows == 1


# Whether the participation is new and whether the points were awarded, read from the
# CTEs of _member_answering_ctes (by whether it writes an award).
_MEMBER_COUNTS = {
    True: "(SELECT count(*) FROM p), (SELECT count(*) FROM l)",
    False: "(SELECT count(*) FROM p), 0",
}


class _MemberShape(NamedTuple):
    """Which rows a member's side of an answer writes (the columns of each): what its SQL
    text depends on."""

    participation: tuple[str, ...]
    award: tuple[str, ...] | None
    consent: tuple[str, ...] | None
    only_once: bool


def _member_answering_ctes(part: MemberAnswering) -> tuple[list[str], list[Any]]:
    """member_answering_write's statement as CTEs m (the member's activity: their lock), p
    (participation), l (points) and k (consent); every INSERT reads m, so runs after it."""
    shape, params = _member_shape_params(part)
    return list(_member_ctes_sql(shape)), params


def _member_shape_params(part: MemberAnswering) -> tuple[_MemberShape, list[Any]]:
    participation = {"id": uuid.uuid4(), **part.participation}
    _touch, params = _member_touch_sql(member_id=part.member_id, at=part.at)
    params += _row_params(Participation, participation)
    if part.award is not None:
        params += _row_params(LedgerEntry, part.award)
    if part.consent is not None:
        params += _row_params(ConsentRecord, part.consent)
    shape = _MemberShape(
        tuple(participation),
        tuple(part.award) if part.award is not None else None,
        tuple(part.consent) if part.consent is not None else None,
        part.only_once,
    )
    return shape, params


def _row_params(model: type[models.Model], row: dict[str, Any]) -> list[Any]:
    fields = _fields(model, tuple(row))
    return db_values(fields, [row[f.name] for f in fields])


@cache
def _member_ctes_sql(shape: _MemberShape) -> tuple[str, ...]:
    parts = [f"m AS ({_member_touch_text()} RETURNING 1)"]
    sql = _insert_from_m(Participation, shape.participation, conflict=("survey", "member"))
    parts.append(f"p AS ({sql} RETURNING 1)")
    if shape.award is not None:
        sql = _insert_from_m(LedgerEntry, shape.award, conflict=("idempotency_key",))
        parts.append(f"l AS ({sql} RETURNING 1)")
    if shape.consent is not None:
        parts.append(f"k AS ({_insert_from_m(ConsentRecord, shape.consent)})")
    return tuple(parts)


def _member_touch_sql(*, member_id: int, at: datetime) -> tuple[str, list[Any]]:
    """communities' member_activity_touch_locked as a statement to compose: the activity
    never moves backwards, and a lapsed or churned member who answers is active again."""
    stamp = Member._meta.get_field("last_active_at").get_db_prep_save(at, connection)
    lapsed = (MemberStatus.LAPSED, MemberStatus.CHURNED, MemberStatus.ACTIVE)
    return _member_touch_text(), [stamp, stamp, stamp, *lapsed, member_id]


@cache
def _member_touch_text() -> str:
    qn = connection.ops.quote_name
    meta = Member._meta
    last = qn(meta.get_field("last_active_at").column)
    status = qn(meta.get_field("status").column)
    when = f"({last} IS NULL OR {last} < %s)"
    return (
        f"UPDATE {qn(meta.db_table)} SET {last} = CASE WHEN {when} THEN %s ELSE {last} END, "
        f"{status} = CASE WHEN {when} AND {status} IN (%s, %s) THEN %s ELSE {status} END "
        f"WHERE {qn(meta.pk.column)} = %s"
    )


def _member_touch(*, member_id: int, at: datetime) -> bool:
    sql, params = _member_touch_sql(member_id=member_id, at=at)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _insert_from_m(
    model: type[models.Model], names: tuple[str, ...], *, conflict: tuple[str, ...] = ()
) -> str:
    """INSERT one row for each row the member's UPDATE (CTE m) returned: so after it."""
    qn = connection.ops.quote_name
    fields = _fields(model, names)
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} FROM m"
    )
    if conflict:
        columns = ", ".join(qn(model._meta.get_field(name).column) for name in conflict)
        sql += f" ON CONFLICT ({columns}) DO NOTHING"
    return sql
