"""psycopg's cache of parsed statements, widened to the answering path's statements."""

from __future__ import annotations

# The answering path's longest statements, fixed in shape per survey: a member's answer is
# one statement of 75 parameters on the bench's survey (more with more questions), the
# survey read with its member 4.8 KB.
STATEMENT_BYTES = 16 * 1024
STATEMENT_PARAMS = 256


def parsed_statement_cache_widen() -> bool:
    """Let psycopg keep the parsed form of statements up to STATEMENT_BYTES and
    STATEMENT_PARAMS; whether it still has the limits this sets.

    psycopg turns each statement's %s placeholders into PostgreSQL's form, and keeps the
    result (an LRU of 128 statements per process) only for statements of at most 4 KB and
    50 parameters: a guard against ORM bulk INSERTs of every length filling it. Parsing a
    statement of 70 parameters again costs 110 µs, a fifteenth of a kiosk answer; the LRU
    still bounds what is kept. The limits are module constants of psycopg's, not settings:
    tests/config/test_pg.py fails if an upgrade moves them, rather than this going quiet.
    """
    try:
        from psycopg import _queries
    except ImportError:
        return False
    names = ("MAX_CACHED_STATEMENT_LENGTH", "MAX_CACHED_STATEMENT_PARAMS")
    if not all(isinstance(getattr(_queries, name, None), int) for name in names):
        return False
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(
        _queries.MAX_CACHED_STATEMENT_LENGTH, STATEMENT_BYTES
    )
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(
        _queries.MAX_CACHED_STATEMENT_PARAMS, STATEMENT_PARAMS
    )
    return True
