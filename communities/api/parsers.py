"""A JSON parser that reads at most a bounded body, so a huge request costs nothing."""

from __future__ import annotations

import io

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser

# One member's fields are a few kilobytes; a megabyte is generous for any single write.
BODY_MAX_BYTES = 1024 * 1024


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSON bodies up to BODY_MAX_BYTES; a longer one is a 413 before any of it is parsed.

    It reads the stream itself rather than trusting Content-Length, which a chunked
    request does not send and a hostile one can understate.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(BODY_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > BODY_MAX_BYTES:
            raise RequestTooLarge(
                _("The request body is over %(size)d KB.") % {"size": BODY_MAX_BYTES // 1024}
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
