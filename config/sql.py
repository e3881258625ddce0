"""Plain SQL for hot paths: INSERTs stored exactly as the ORM stores them, and lookups
compiled once per process (PreparedQuery).

Through the ORM an INSERT costs more Python than the database spends on it (query
compilation, model instances), and `get_or_create` adds a SELECT and a savepoint to every
write a unique constraint already guards. `insert_rows` writes the rows with one
`INSERT … ON CONFLICT DO NOTHING RETURNING`, which PostgreSQL and SQLite (3.35+) both run.
Values go through each field's own `get_db_prep_save`, so dates, JSON, UUIDs and booleans
are stored as the ORM would store them on either database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.query import QuerySet, get_related_populators


def db_values(fields: Sequence[models.Field], values: Sequence[Any]) -> list[Any]:
    """Each value as its field stores it (`get_db_prep_save`), for a statement written by
    hand. Prepared against this thread's connection itself: `django.db.connection` looks
    the connection up again on every attribute it is asked for, and a field asks it once
    or twice per value, which on a statement of fifty values was most of its Python."""
    db = connections[DEFAULT_DB_ALIAS]
    return [field.get_db_prep_save(value, db) for field, value in zip(fields, values, strict=True)]


def _columns(model: type[models.Model], names: tuple[str, ...]) -> str:
    qn = connection.ops.quote_name
    return ", ".join(qn(model._meta.get_field(name).column) for name in names)


def _insert_head(model: type[models.Model], columns: tuple[str, ...]) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    return f"INSERT INTO {table} ({_columns(model, columns)})"


def _insert_tail(
    model: type[models.Model], conflict: tuple[str, ...], returning: tuple[str, ...]
) -> str:
    tail = f" ON CONFLICT ({_columns(model, conflict)}) DO NOTHING" if conflict else ""
    return tail + (f" RETURNING {_columns(model, returning)}" if returning else "")


@cache
def _insert_sql(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: int,
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    return f"{_insert_head(model, columns)} VALUES {values}" + _insert_tail(
        model, conflict, returning
    )


@cache
def _insert_unless_sql(
    model: type[models.Model],
    columns: tuple[str, ...],
    other: type[models.Model],
    match: tuple[str, ...],
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    qn = connection.ops.quote_name
    where = " AND ".join(f"{qn(other._meta.get_field(n).column)} = %s" for n in match)
    # SQLite needs the WHERE to tell the SELECT from the upsert clause; both read it so.
    return (
        f"{_insert_head(model, columns)} SELECT {', '.join(['%s'] * len(columns))} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {qn(other._meta.db_table)} WHERE {where})"
    ) + _insert_tail(model, conflict, returning)


@cache
def _insert_if_sql(
    model: type[models.Model],
    columns: tuple[str, ...],
    condition: str,
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    return (
        f"{_insert_head(model, columns)} SELECT {', '.join(['%s'] * len(columns))} "
        f"WHERE EXISTS ({condition})"
    ) + _insert_tail(model, conflict, returning)


@cache
def model_fields(model: type[models.Model], columns: tuple[str, ...]) -> tuple[models.Field, ...]:
    """A model's fields by name, looked up once per process."""
    return tuple(model._meta.get_field(name) for name in columns)


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], **options: Any
) -> list[tuple]:
    """INSERT `rows` (dicts with the same keys) into `model`'s table; the RETURNING rows.
    `options` are insert_statement's."""
    if not rows:
        return []
    sql, params = insert_statement(model, rows, **options)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if options.get("returning") else []


def insert_statement(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
    unless: tuple[type[models.Model], dict[str, Any]] | None = None,
    only_if: tuple[str, list[Any]] | None = None,
) -> tuple[str, list[Any]]:
    """INSERT `rows` (dicts with the same keys, at least one) into `model`'s table: the
    statement and its parameters (in the rows' order, each row's values in its keys'
    order), built without running it.

    `unless` = (other model, {field: value}) writes the one row only when no row of the
    other model has those values (a suppression list, say), in the same statement.
    `only_if` = (a SELECT, its parameters) writes the one row only when it finds a row.
    """
    columns = tuple(rows[0])
    fields = model_fields(model, columns)
    params = [value for row in rows for value in db_values(fields, [row[name] for name in columns])]
    if unless is not None:
        if len(rows) != 1:
            raise ValueError("`unless` guards one row")
        other, match = unless
        sql = _insert_unless_sql(model, columns, other, tuple(match), conflict, returning)
        params += db_values([other._meta.get_field(name) for name in match], list(match.values()))
        return sql, params
    if only_if is not None:
        if len(rows) != 1:
            raise ValueError("`only_if` guards one row")
        sql = _insert_if_sql(model, columns, only_if[0], conflict, returning)
        return sql, [*params, *only_if[1]]
    return _insert_sql(model, columns, len(rows), conflict, returning), params


class PreparedQuery:
    """An ORM query compiled once per process, then run with new values.

    Compiling a query (joins, select_related columns, ordering) costs more Python than
    running it on the hot path's few lookups by a unique key. `build` makes the queryset
    from placeholder values; it is compiled on first use, and each run substitutes the
    real values for the placeholders and builds the model instances (select_related
    included) the way Django's own ModelIterable does. Only for plain lookups whose SQL
    does not depend on the values (no `__in` lists, no None). `kinds` names each value's
    type, "str" or "int", in the order `build` takes them. `first` reads one row, `all`
    every row (or one page of them); for a values() query, `values_first` reads one row as
    a dict.
    """

    def __init__(self, build: Callable[..., QuerySet], kinds: tuple[str, ...]) -> None:
        self._build = build
        self._kinds = kinds
        self._compiled: tuple | None = None
        self._lock = threading.Lock()

    def _compile(self) -> tuple:
        slots = [
            f"\x00slot{n}\x00" if kind == "str" else _INT_SLOT - n
            for n, kind in enumerate(self._kinds)
        ]
        queryset = self._build(*slots)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        positions = [slots.index(p) if p in slots else None for p in params]
        if sorted(p for p in positions if p is not None) != list(range(len(slots))):
            raise ValueError("each value must appear once as a query parameter")
        klass_info = compiler.klass_info
        if queryset.query.values_select or klass_info is None:
            # A values() query: rows become dicts named as ValuesIterable names them.
            query = queryset.query
            names = (
                list(query.selected)
                if query.selected
                else [*query.extra_select, *query.values_select, *query.annotation_select]
            )
            start, end, init_list, populators = 0, 0, names, []
            klass_info = {"model": None}
        else:
            select_fields = klass_info["select_fields"]
            start, end = select_fields[0], select_fields[-1] + 1
            init_list = [f[0].target.attname for f in compiler.select[start:end]]
            populators = get_related_populators(klass_info, compiler.select, queryset.db)
        # The converters depend only on the selected columns: found once here rather than
        # on every row set (compiler.results_iter asks each field for them every call).
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        return (
            sql,
            params,
            positions,
            compiler,
            klass_info["model"],
            start,
            end,
            init_list,
            populators,
            queryset.db,
            dict(compiler.annotation_col_map),
            converters,
        )

    def _run(
        self, values: tuple, *, one: bool, limit: int | None = None, offset: int = 0
    ) -> tuple[tuple, list]:
        """Compile on first use, run with `values`; (the compiled query, its converted
        rows): one row at most when `one`, else every row (or one page of them)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        compiled = self._compiled
        sql, params, positions, compiler, converters = (*compiled[:4], compiled[11])
        bound = [p if n is None else values[n] for p, n in zip(params, positions, strict=True)]
        if limit is not None:
            sql, bound = f"{sql} LIMIT %s OFFSET %s", [*bound, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            if one:
                row = cursor.fetchone()
                rows = [] if row is None else [row]
            else:
                rows = cursor.fetchall()
        if rows and converters:
            rows = list(compiler.apply_converters(rows, converters))
        return compiled, rows

    def _instance(self, compiled: tuple, row: Any) -> models.Model:
        model, start, end, init_list, populators, db, extra = compiled[4:11]
        obj = model.from_db(db, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for attname, index in extra.items():
            setattr(obj, attname, row[index])
        return obj

    def first(self, *values: Any) -> models.Model | None:
        """The first instance the query finds for `values`, or None."""
        compiled, rows = self._run(values, one=True)
        return self._instance(compiled, rows[0]) if rows else None

    def values_first(self, *values: Any) -> dict[str, Any] | None:
        """For a values() query: the first row for `values` as the dict values() gives."""
        compiled, rows = self._run(values, one=True)
        return dict(zip(compiled[7], rows[0], strict=False)) if rows else None

    def all(self, *values: Any, limit: int | None = None, offset: int = 0) -> list[models.Model]:
        """Every instance the query finds for `values`, its annotations set as the ORM sets
        them. `limit` and `offset` page it as parameters (build an unsliced queryset), so
        every page runs the one compiled statement."""
        compiled, rows = self._run(values, one=False, limit=limit, offset=offset)
        return [self._instance(compiled, row) for row in rows]


# Stands for an integer value while a query is compiled: no row has an id like it.
_INT_SLOT = -7_381_946_205_113
