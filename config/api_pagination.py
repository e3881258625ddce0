"""The paginator of an API list that names none of its own (REST_FRAMEWORK's default)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class DefaultCursorPagination(CursorPagination):
    """Newest first by id: unique, so a cursor never skips or repeats a row, and rows
    added while a client pages through do not shift the pages it has not read yet."""

    ordering = ("-id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
