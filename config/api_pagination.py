"""The paginators of API lists: REST_FRAMEWORK's default, and the strict base every list's
own paginator subclasses."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

PAGE_SIZE_MAX = 500
# ASCII digits only ("²" is a digit to Python, not to int()), and short enough that int()
# never sees a huge number.
PAGE_SIZE_DIGITS_MAX = 5


class StrictCursorPagination(CursorPagination):
    """A cursor, and a `page_size` that is what the schema says (1 to the maximum) or a 400:
    DRF would quietly answer a default page to "page_size=lots" or "page_size=0"."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and len(raw) <= PAGE_SIZE_DIGITS_MAX) or not (
            1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Ask for 1 to %(max)d rows a page.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters


class DefaultCursorPagination(StrictCursorPagination):
    """Newest first by id: unique, so a cursor never skips or repeats a row, and rows
    added while a client pages through do not shift the pages it has not read yet."""

    ordering = ("-id",)
    page_size = 100
    max_page_size = PAGE_SIZE_MAX
