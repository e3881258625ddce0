"""A member's side of an answer, written before (SQLite) or as the first part of (PostgreSQL)
the response's own statement (surveys.services.statements): their activity, which is their
row lock, their participation, their points and their consent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection, models

from communities.choices import MemberStatus
from communities.models import ConsentRecord, Member
from config.sql import db_values, insert_statement, model_fields
from rewards.models import LedgerEntry
from surveys.models import Participation


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

    def write(self, statements: MemberStatements | None = None) -> None:
        """Write it on its own (before the response, in the caller's transaction): see
        member_answering_write. On SQLite, with `statements` when built beforehand."""
        if connection.vendor != "postgresql":
            self.new, self.awarded = _member_statements_run(statements or self.statements())
            return
        parts, params = _member_answering_ctes(self)
        sql = f"WITH {', '.join(parts)} SELECT {_MEMBER_COUNTS[self.award is not None]}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            new, awarded = cursor.fetchone()
        self.new, self.awarded = new == 1, awarded == 1

    def statements(self) -> MemberStatements | None:
        """SQLite's statements for write(), built without running them (None on
        PostgreSQL, whose one statement is built as it runs)."""
        if connection.vendor == "postgresql":
            return None
        award, consent = self.award, self.consent
        return MemberStatements(
            _member_touch_sql(member_id=self.member_id, at=self.at),
            insert_statement(
                Participation,
                [{"id": uuid.uuid4(), **self.participation}],
                conflict=("survey", "member"),
                returning=("id",),
            ),
            None
            if award is None
            else insert_statement(
                LedgerEntry, [award], conflict=("idempotency_key",), returning=("id",)
            ),
            None if consent is None else insert_statement(ConsentRecord, [consent]),
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
    part = MemberAnswering(member_id, at, participation, award, consent)
    part.write()
    return part.new, part.awarded


class MemberStatements(NamedTuple):
    """member_answering_write's statements on SQLite, (SQL, parameters) each, in order."""

    touch: tuple[str, list[Any]]
    participation: tuple[str, list[Any]]
    award: tuple[str, list[Any]] | None
    consent: tuple[str, list[Any]] | None


def _member_statements_run(statements: MemberStatements) -> tuple[bool, bool]:
    """(whether the participation is new, whether the points were awarded now); nothing
    but the touch when the member is gone."""
    with connection.cursor() as cursor:
        cursor.execute(*statements.touch)
        if cursor.rowcount != 1:
            return False, False
        cursor.execute(*statements.participation)
        new = bool(cursor.fetchall())
        awarded = False
        if statements.award is not None:
            cursor.execute(*statements.award)
            awarded = bool(cursor.fetchall())
        if statements.consent is not None:
            cursor.execute(*statements.consent)
    return new, awarded


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
    fields = model_fields(model, tuple(row))
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


def _insert_from_m(
    model: type[models.Model], names: tuple[str, ...], *, conflict: tuple[str, ...] = ()
) -> str:
    """INSERT one row for each row the member's UPDATE (CTE m) returned: so after it."""
    qn = connection.ops.quote_name
    fields = model_fields(model, names)
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} FROM m"
    )
    if conflict:
        columns = ", ".join(qn(model._meta.get_field(name).column) for name in conflict)
        sql += f" ON CONFLICT ({columns}) DO NOTHING"
    return sql
