"""psycopg keeps the answering path's long statements parsed (config.pg)."""

from __future__ import annotations

import pytest
from django.db import connection

from config.pg import STATEMENT_BYTES, STATEMENT_PARAMS, parsed_statement_cache_widen


def test_psycopg_still_has_the_limits_and_they_are_widened():
    from psycopg import _queries

    assert parsed_statement_cache_widen() is True
    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= STATEMENT_BYTES
    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= STATEMENT_PARAMS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg is PostgreSQL's driver")
@pytest.mark.django_db
def test_a_statement_of_seventy_parameters_is_parsed_once():
    from psycopg._queries import _query2pg

    sql = "SELECT " + ", ".join(["%s::int"] * 70)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(range(70)))
        before = _query2pg.cache_info().hits
        cursor.execute(sql, list(range(70, 140)))
        assert cursor.fetchone() == tuple(range(70, 140))
    assert _query2pg.cache_info().hits == before + 1
