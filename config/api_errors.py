"""Every API error as RFC 9457 problem details: one JSON shape, whatever went wrong.

A problem is `application/problem+json` with these members:

- `type`: a stable URI naming the kind of problem, PROBLEM_BASE + a slug
  ("https://chorus.invalid/problems/validation"). The base is a name, not a page: clients
  compare it, they do not fetch it. PROBLEM_TYPES below is the list of slugs; a custom
  exception's `default_code` gives its own ("segment_filter_stale" -> ".../segment-filter-stale").
- `title`: the kind of problem in a few words, translated; the same for every occurrence.
- `status`: the HTTP status; `detail`: this occurrence in words; `instance`: the path asked.
- `code`: the same kind, machine-readable (DRF's `default_code`, e.g. "throttled").
- `errors`, for refused input only: one entry per message, `{"pointer", "detail", "code"}`,
  where `pointer` is a JSON pointer (RFC 6901) into the request body ("/attributes/city",
  "/items/2/name"; "" for the request as a whole). A GET has no body: its entries name the
  query parameter, in `pointer` and in `parameter`.

Anything else an exception or an error answer carries (a duplicate member's `member_id`)
stays as an extension member. `problem_exception_handler` is DRF's EXCEPTION_HANDLER;
`page_not_found` and `server_error` answer /api/ paths that no view answered (handler404,
handler500), and config.errors answers a body over Django's limits the same way.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

PROBLEM_BASE = "https://chorus.invalid/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PATH_PREFIX = "/api/"

# code -> (type slug, title). A code not listed is its own slug, titled by its status.
PROBLEM_TYPES: dict[str, tuple[str, Promise]] = {
    "invalid": ("validation", _("Invalid input")),
    "unprocessable": ("unprocessable", _("Unprocessable request")),
    "parse_error": ("malformed-request", _("Malformed request")),
    "request_too_large": ("request-too-large", _("Request too large")),
    "too_many_fields": ("too-many-fields", _("Too many fields")),
    "too_many_files": ("too-many-files", _("Too many files")),
    "not_authenticated": ("authentication-required", _("Authentication required")),
    "authentication_failed": ("authentication-failed", _("Authentication failed")),
    "permission_denied": ("forbidden", _("Forbidden")),
    "insufficient_scope": ("insufficient-scope", _("The API key lacks a scope")),
    "not_found": ("not-found", _("Not found")),
    "method_not_allowed": ("method-not-allowed", _("Method not allowed")),
    "not_acceptable": ("not-acceptable", _("Not acceptable")),
    "unsupported_media_type": ("unsupported-media-type", _("Unsupported media type")),
    "throttled": ("rate-limited", _("Too many requests")),
    "idempotency_key_invalid": ("idempotency-key-invalid", _("Invalid Idempotency-Key")),
    "idempotency_key_in_use": (
        "idempotency-key-in-use",
        _("A request with this Idempotency-Key is still running"),
    ),
    "idempotency_key_reused": (
        "idempotency-key-reused",
        _("This Idempotency-Key was used for another request"),
    ),
    "server_error": ("server-error", _("Server error")),
}
STATUS_TITLES: dict[int, Promise] = {
    400: _("Bad request"),
    401: _("Authentication required"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    410: _("Gone"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Unprocessable request"),
    429: _("Too many requests"),
    500: _("Server error"),
    503: _("Service unavailable"),
}
# An error answer a view returned (rather than raised) says no code; its status names one.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
}
# The members every problem has; an extension member may not replace them.
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})
NON_FIELD_KEYS = frozenset({api_settings.NON_FIELD_ERRORS_KEY, "__all__"})


def problem_type(code: str) -> str:
    """The `type` URI of a problem code."""
    slug = PROBLEM_TYPES[code][0] if code in PROBLEM_TYPES else code.replace("_", "-")
    return PROBLEM_BASE + slug


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    title: Any = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem document (members in the order RFC 9457 lists them)."""
    if title is None:
        title = PROBLEM_TYPES[code][1] if code in PROBLEM_TYPES else _status_title(status)
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": str(title),
        "status": status,
        "detail": str(detail),
        "instance": instance,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    for name, value in (extra or {}).items():
        if name not in RESERVED_MEMBERS:
            body[name] = value
    return body


def problem_response(
    body: dict[str, Any], *, headers: dict[str, str] | None = None
) -> HttpResponse:
    """The answer carrying a problem; `problem` keeps the document for whoever stores it
    (an idempotent write's first answer)."""
    response = HttpResponse(
        JSONRenderer().render(body),
        status=body["status"],
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
    response.problem = body
    return response


def field_errors(detail: Any, *, query: bool = False) -> list[dict[str, str]]:
    """A ValidationError's detail as a flat list of `{"pointer", "detail", "code"}`.

    Nested serializers give dicts, a `many=True` one a list with one entry per item ({} for
    an item without errors), a ListField or DictField a dict by index or key: each level is
    one step of the pointer. `query`: the fields are query parameters (a GET's).
    """
    found: list[dict[str, str]] = []
    _flatten(detail, "", found)
    if query:
        for entry in found:
            first = entry["pointer"].split("/")[1] if entry["pointer"] else ""
            entry["parameter"] = first.replace("~1", "/").replace("~0", "~")
    return found


def _flatten(detail: Any, pointer: str, found: list[dict[str, str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            child = pointer if key in NON_FIELD_KEYS else f"{pointer}/{_escape(str(key))}"
            _flatten(value, child, found)
    elif isinstance(detail, list | tuple):
        for index, item in enumerate(detail):
            # Messages are the field's own; a list of dicts or lists is one per item.
            child = pointer if _is_message(item) else f"{pointer}/{index}"
            _flatten(item, child, found)
    else:
        found.append(
            {
                "pointer": pointer,
                "detail": str(detail),
                "code": str(getattr(detail, "code", None) or "invalid"),
            }
        )


def _is_message(item: Any) -> bool:
    return not isinstance(item, dict | list | tuple)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _status_title(status: int) -> Any:
    if status in STATUS_TITLES:
        return STATUS_TITLES[status]
    return STATUS_TITLES[500] if status >= 500 else STATUS_TITLES[400]


def _validation_summary(errors: list[dict[str, str]]) -> str:
    if len(errors) == 1:
        return errors[0]["detail"]
    return ngettext(
        "%(count)d part of the request was refused; see errors.",
        "%(count)d parts of the request were refused; see errors.",
        len(errors),
    ) % {"count": len(errors)}


def _plain(value: Any) -> Any:
    """An exception detail's extra value as plain JSON (ErrorDetail is a str already)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _is_query(request: Any) -> bool:
    return request is not None and request.method in SAFE_METHODS


def problem_from_exception(exc: exceptions.APIException, *, request: Any) -> dict[str, Any]:
    """The problem document for a DRF exception raised while answering `request`."""
    instance = request.path if request is not None else ""
    status = exc.status_code
    title = getattr(exc, "title", None)
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail, query=_is_query(request))
        # DRF's own is "invalid"; a subclass names its kind (a 422's "unprocessable").
        return problem_body(
            status=status,
            code=exc.default_code,
            detail=_validation_summary(errors),
            instance=instance,
            title=title,
            errors=errors,
        )
    detail = exc.detail
    extra: dict[str, Any] = {}
    code = getattr(detail, "code", None) or exc.default_code
    if isinstance(detail, dict):
        members = dict(detail)
        message = members.pop("detail", None) or exc.default_detail
        code = str(members.pop("code", None) or exc.default_code)
        extra = _plain(members)
        detail = message
    elif isinstance(detail, list):
        code = (getattr(detail[0], "code", None) or code) if detail else code
        detail = " ".join(str(message) for message in detail) or exc.default_detail
    return problem_body(
        status=status, code=str(code), detail=detail, instance=instance, title=title, extra=extra
    )


def problem_from_data(data: Any, *, status: int, request: Any) -> dict[str, Any]:
    """The problem document for an error answer a view returned rather than raised
    ({"detail": …, "member_id": 4} with 409); one that is a problem already is kept."""
    instance = request.path if request is not None else ""
    if isinstance(data, dict) and {"type", "status"} <= data.keys():
        return data
    code = STATUS_CODES.get(status, "server_error" if status >= 500 else "bad_request")
    if isinstance(data, dict) and "detail" in data:
        members = dict(data)
        detail = members.pop("detail")
        code = str(members.pop("code", None) or code)
        return problem_body(
            status=status, code=code, detail=detail, instance=instance, extra=_plain(members)
        )
    if isinstance(data, dict | list) and data and status < 500:
        errors = field_errors(data, query=_is_query(request))
        return problem_body(
            status=status,
            code="invalid",
            detail=_validation_summary(errors),
            instance=instance,
            errors=errors,
        )
    return problem_body(status=status, code=code, detail=_status_title(status), instance=instance)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: DRF's exceptions, Http404 and PermissionDenied
    as problems; anything else is left to raise (a 500, answered by `server_error`)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(exc.wait))
    set_rollback()
    body = problem_from_exception(exc, request=context.get("request"))
    return problem_response(body, headers=headers)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a problem for an /api/ path no route matches, else Django's page."""
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    body = problem_body(
        status=404,
        code="not_found",
        detail=_("There is no API endpoint at this address."),
        instance=request.path,
    )
    return problem_response(body)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a problem for an /api/ path (the error itself is logged by Django),
    else Django's page."""
    if not is_api_request(request):
        return defaults.server_error(request)
    body = problem_body(
        status=500,
        code="server_error",
        detail=_("Something went wrong on our side and was logged; try again later."),
        instance=request.path,
    )
    return problem_response(body)
