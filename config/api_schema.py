"""What the OpenAPI schema says about every operation, written once here rather than on
each view: a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

For each operation of a view on the shared API base (communities.api.base):

- every error status it can answer, as a ProblemDetails (RFC 9457) in
  application/problem+json: 401, 403, 404 and 429 always; 400 for a write or a read with
  query parameters; 422 for a read with filters (one names an object the organisation
  does not have); and for a write 409 (its Idempotency-Key is still running), 413 (body
  too large), 415 (not JSON) and 422 (the data refuses it, or the key was used for another
  request). An error the
  view documents itself keeps its description and its own schema, combined with
  ProblemDetails (a duplicate's `member_id`);
- the `Idempotency-Key` header on writes, and `Idempotent-Replayed` on their answers;
- the RateLimit-* headers on every answer, Retry-After on a 429;
- the key scope it needs, in its description and (OpenAPI 3.1) its security requirement.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.plumbing import get_doc

from communities.api.base import ApiConventionsMixin
from communities.api.idempotency import IDEMPOTENCY_KEY_PATTERN
from communities.models.idempotency import IDEMPOTENCY_KEY_MAX_LENGTH
from communities.scoping import OrganisationScopedAPIView
from config.api_errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = WRITE_METHODS | {"get", "head", "options", "trace"}
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
SHARED_BASES = (OrganisationScopedAPIView, ApiConventionsMixin)

DEFAULT_DESCRIPTIONS = {
    400: "The input was refused: `errors` lists each refusal with a JSON pointer to the field "
    "(a query parameter, for a GET).",
    401: "No credentials, or an unknown or revoked API key.",
    403: "The API key lacks the scope this needs, or the staff role may not do this.",
    404: "No such object in this organisation, or no such organisation for this caller.",
    409: "A request with the same Idempotency-Key is still running; retry in a moment.",
    413: "The request body is too large.",
    415: "The body is not JSON: send `Content-Type: application/json`.",
    422: "The request fits this schema but the organisation's data refuses it (an id of "
    "another organisation or of nothing), or its Idempotency-Key was sent before with another "
    "request (method, path or body).",
    429: "Too many requests this minute: wait `Retry-After` seconds.",
}
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 429)
READ_ERRORS = (401, 403, 404, 429)
# Query parameters every list has; a read with others (filters) can refuse them with 400,
# or with 422 when a filter names an object the organisation does not have.
PAGING_PARAMETERS = frozenset({"cursor", "page_size"})
FILTER_422 = (
    "A filter fits this schema but names an object this organisation does not have "
    "(code `unprocessable`)."
)

FIELD_ERROR_SCHEMA = {
    "type": "object",
    "description": "One refused part of the input.",
    "properties": {
        "pointer": {
            "type": "string",
            "description": 'A JSON pointer (RFC 6901) into the request body, e.g. "/email" or '
            '"/attributes/city"; "" for the request as a whole.',
        },
        "parameter": {
            "type": "string",
            "description": "For a GET: the query parameter refused.",
        },
        "detail": {"type": "string", "description": "What is wrong, in words."},
        "code": {"type": "string", "description": 'Machine-readable, e.g. "required".'},
    },
    "required": ["pointer", "detail", "code"],
}


def _problem_schema(example_key: str) -> dict[str, Any]:
    example = {
        "type": PROBLEM_BASE + "validation",
        "title": "Invalid input",
        "status": 400,
        "detail": "Enter a valid email address.",
        "instance": "/api/v1/demo-coffee/communities/4/members/",
        "code": "invalid",
        "errors": [
            {"pointer": "/email", "detail": "Enter a valid email address.", "code": "invalid"}
        ],
    }
    return {
        "type": "object",
        "description": (
            "An error as RFC 9457 problem details (application/problem+json). `type` names "
            f"the kind of problem: {PROBLEM_BASE}<slug>, e.g. validation, not-found, "
            "rate-limited, insufficient-scope, idempotency-key-reused. An error may carry "
            "members of its own, named in the operation's description of it."
        ),
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "The kind of problem."},
            "title": {"type": "string", "description": "The kind of problem, in words."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "This occurrence, in words."},
            "instance": {"type": "string", "description": "The path that was asked."},
            "code": {"type": "string", "description": 'Machine-readable, e.g. "throttled".'},
            "errors": {
                "type": "array",
                "description": "For refused input: each refusal.",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
            "required_scope": {
                "type": "string",
                "description": "For a key without the scope the call needs: that scope.",
            },
        },
        "required": ["type", "title", "status", "detail", "instance", "code"],
        example_key: [example] if example_key == "examples" else example,
    }


def _integer_header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer", "minimum": 0}}


HEADERS = {
    "RateLimit-Limit": _integer_header("Requests allowed in the window (reads or writes)."),
    "RateLimit-Remaining": _integer_header("Requests left in the current window."),
    "RateLimit-Reset": _integer_header("Seconds until the window starts again."),
    "RateLimit-Policy": {
        "description": 'The budget as "<limit>;w=<seconds>", e.g. "600;w=60".',
        "schema": {"type": "string"},
    },
    "Retry-After": _integer_header("Seconds to wait before trying again."),
    "Idempotent-Replayed": {
        "description": '"true" when this is the kept answer to an earlier request with the '
        "same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A unique string (a UUID) for this write. A retry with the same key and body answers "
        "the first answer again instead of acting twice; keys are kept for 24 hours."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}


def postprocess_api_conventions(result: dict, generator, **kwargs: Any) -> dict:
    """Add the shared errors, headers, parameters and scopes to every API operation."""
    openapi_31 = str(result.get("openapi", "")).startswith("3.1")
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ProblemDetails"] = _problem_schema("examples" if openapi_31 else "example")
    schemas["ProblemFieldError"] = FIELD_ERROR_SCHEMA
    components.setdefault("headers", {}).update(HEADERS)
    components.setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_PARAMETER
    views = _views_by_operation(generator)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            view = views.get((path, method))
            if method in HTTP_METHODS and isinstance(view, ApiConventionsMixin):
                _operation_document(operation, method=method, view=view, openapi_31=openapi_31)
    return result


def _views_by_operation(generator) -> dict[tuple[str, str], Any]:
    """(path as the schema writes it, method) -> a view instance, as the generator made."""
    views = {}
    for path, _regex, method, callback in generator.endpoints or []:
        view = generator.create_view(callback, method)
        views[(generator.coerce_path(path, method, view), method.lower())] = view
    return views


def _operation_document(operation: dict, *, method: str, view, openapi_31: bool) -> None:
    write = method in WRITE_METHODS
    responses = operation.setdefault("responses", {})
    statuses = WRITE_ERRORS if write else READ_ERRORS
    filters = {
        p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"
    } - PAGING_PARAMETERS
    if not write and (filters or _paginated(view)):
        statuses = (400, *statuses)
    if not write and filters:
        statuses = (*statuses, 422)
    for code in statuses:
        description = FILTER_422 if code == 422 and not write else DEFAULT_DESCRIPTIONS[code]
        responses.setdefault(str(code), {"description": description})
    for code, response in responses.items():
        if int(code) >= 400:
            _problem_document(response, int(code), ours=int(code) in statuses)
        _headers_document(response, int(code), write=write)
    if write:
        parameters = operation.setdefault("parameters", [])
        ref = {"$ref": "#/components/parameters/IdempotencyKey"}
        if ref not in parameters:
            parameters.append(ref)
    _inherited_description_drop(operation)
    _scope_document(operation, view=view, write=write, openapi_31=openapi_31)


def _paginated(view) -> bool:
    return getattr(view, "pagination_class", None) is not None and hasattr(view, "list")


def _problem_document(response: dict, code: int, *, ours: bool) -> None:
    schema = None
    for media in response.get("content", {}).values():
        schema = media.get("schema") or schema
    if schema and "$ref" in schema and schema != PROBLEM_REF:
        schema = {"allOf": [PROBLEM_REF, schema]}
    else:
        schema = PROBLEM_REF
    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": schema}}
    default = DEFAULT_DESCRIPTIONS.get(code, "")
    description = response.get("description") or ""
    if not description and schema is not PROBLEM_REF:
        # The view documents its own error here, without words for it.
        description = "Refused for a reason of this operation's: see `detail` and `code`."
    if not description:
        response["description"] = default
    elif ours and default and default not in description:
        # The view's own reason for this status, and the convention's.
        response["description"] = f"{description} Or: {default}"
    else:
        response["description"] = description


def _headers_document(response: dict, code: int, *, write: bool) -> None:
    headers = response.setdefault("headers", {})
    names = list(RATE_HEADERS)
    if code == 429:
        names.append("Retry-After")
    if write and code < 400:
        names.append("Idempotent-Replayed")
    for name in names:
        headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})


def _inherited_description_drop(operation: dict) -> None:
    """drf-spectacular describes a view without a docstring by its nearest base's: the
    shared bases' words are about this code, not about the operation."""
    description = operation.get("description", "")
    if any(description and description == get_doc(base) for base in SHARED_BASES):
        del operation["description"]


def _scope_document(operation: dict, *, view, write: bool, openapi_31: bool) -> None:
    security = operation.get("security") or []
    takes_keys = any("apiKey" in requirement for requirement in security)
    if not takes_keys or not view.api_area:
        return
    scope = f"{view.api_area}:{'write' if write else 'read'}"
    note = f"API key scope: `{scope}`."
    description = operation.get("description", "")
    if note not in description:
        operation["description"] = f"{description}\n\n{note}".strip()
    if openapi_31:
        for requirement in security:
            if "apiKey" in requirement:
                requirement["apiKey"] = [scope]
