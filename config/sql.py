"""Plain-SQL INSERTs for hot paths, stored exactly as the ORM stores them.

Through the ORM an INSERT costs more Python than the database spends on it (query
compilation, model instances), and `get_or_create` adds a SELECT and a savepoint to every
write a unique constraint already guards. `insert_rows` writes the rows with one
`INSERT … ON CONFLICT DO NOTHING RETURNING`, which PostgreSQL and SQLite (3.35+) both run.
Values go through each field's own `get_db_prep_save`, so dates, JSON, UUIDs and booleans
are stored as the ORM would store them on either database.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models


@cache
def _insert_sql(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: int,
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    qn = connection.ops.quote_name
    meta = model._meta
    cols = [meta.get_field(name).column for name in columns]
    values = ", ".join(["(" + ", ".join(["%s"] * len(cols)) + ")"] * rows)
    sql = f"INSERT INTO {qn(meta.db_table)} ({', '.join(map(qn, cols))}) VALUES {values}"
    if conflict:
        target = ", ".join(qn(meta.get_field(name).column) for name in conflict)
        sql += f" ON CONFLICT ({target}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(qn(meta.get_field(name).column) for name in returning)
    return sql


@cache
def _fields(model: type[models.Model], columns: tuple[str, ...]) -> tuple[models.Field, ...]:
    return tuple(model._meta.get_field(name) for name in columns)


def insert_rows(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
) -> list[tuple]:
    """INSERT `rows` (dicts with the same keys) into `model`'s table; the RETURNING rows."""
    if not rows:
        return []
    columns = tuple(rows[0])
    fields = _fields(model, columns)
    params = [
        field.get_db_prep_save(row[name], connection)
        for row in rows
        for name, field in zip(columns, fields, strict=True)
    ]
    sql = _insert_sql(model, columns, len(rows), conflict, returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
