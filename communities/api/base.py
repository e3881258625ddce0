"""What every API view shares, staff-session or key-only: listed first in its bases
(OrganisationScopedAPIView does; EventReceiveAPI, which only keys call, too), so a view
gets all of it by doing nothing:

- errors: every refusal is an RFC 9457 problem (config.api_errors); an error answer a
  view returns instead of raising (a 409 naming the duplicate) is turned into one too.
- rate limits: each caller (an API key, a staff member; an address before either is known)
  has a budget of reads and one of writes per minute in each organisation (settings
  API_RATE_READS_PER_MINUTE, API_RATE_WRITES_PER_MINUTE). Every answer says where it
  stands (RateLimit-Limit, -Remaining, -Reset in seconds, -Policy); over it, 429 with
  Retry-After.
- API key scopes: a key calls a view only with "<api_area>:read" (GET, HEAD, OPTIONS) or
  "<api_area>:write" (other methods), else 403; a view without an api_area takes no keys.
- Idempotency-Key on writes (communities.api.idempotency).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from communities.api.idempotency import (
    IDEMPOTENCY_HEADER,
    REPLAYED_HEADER,
    idempotency_answer_keep,
    idempotency_claim,
    idempotency_key_check,
    idempotency_release,
    request_fingerprint,
)
from communities.models import ApiToken, IdempotencyRecord
from config.api_errors import problem_from_data, problem_response
from config.ratelimit import RateWindow, client_ip, rate_hit

RATE_WINDOW_SECONDS = 60


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


class _Replay(Exception):
    """Raised from `initial` to answer with a key's first answer instead of the view."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


class ApiConventionsMixin:
    """Problems, rate limits, key scopes and Idempotency-Key for a DRF view."""

    # The area a key's scopes name ("<area>:read" / "<area>:write"): surveys, responses,
    # members, rewards, cases, results, webhooks. Every concrete view sets it.
    api_area: str = ""
    api_token: ApiToken | None = None
    organisation = None
    rate_window: RateWindow | None = None
    idempotency_record: IdempotencyRecord | None = None

    # --- the request's way in ------------------------------------------------------------

    def perform_authentication(self, request) -> None:
        try:
            super().perform_authentication(request)
        except exceptions.APIException:
            # A refused credential counts against its address, and answers its own refusal.
            self.rate_window = self.rate_count(request)
            raise
        self.rate_window = self.rate_count(request)
        if self.rate_window.exceeded:
            raise exceptions.Throttled(wait=self.rate_window.reset)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.caller_resolve(request, **kwargs)
        self.api_key_scope_check(request)
        self.idempotency_begin(request)

    def caller_resolve(self, request, **kwargs) -> None:
        """Who calls, in which organisation. A key-only view's permission class has set the
        organisation already; the scoped base resolves it here for keys and staff alike."""
        if isinstance(request.auth, ApiToken):
            self.api_token = request.auth

    def api_key_scope_check(self, request) -> None:
        token = self.api_token
        if token is None:
            return
        if not self.api_area:
            # Fail closed: a view that names no area was never meant for keys.
            raise InsufficientScope(_("API keys cannot call this endpoint."))
        access = "read" if request.method in SAFE_METHODS else "write"
        scope = f"{self.api_area}:{access}"
        if not token.allows(scope):
            raise InsufficientScope(
                {
                    "detail": _("This API key lacks the scope %(scope)s.") % {"scope": scope},
                    "required_scope": scope,
                }
            )

    # --- rate limits -----------------------------------------------------------------------

    def credential(self, request) -> str:
        """Who the caller is, without authenticating again: "token:<id>", "user:<id>", or
        their address when neither is known (yet)."""
        auth = getattr(request, "_auth", None)
        if isinstance(auth, ApiToken):
            return f"token:{auth.pk}"
        user = getattr(request, "_user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def rate_count(self, request) -> RateWindow:
        write = request.method not in SAFE_METHODS
        limit = settings.API_RATE_WRITES_PER_MINUTE if write else settings.API_RATE_READS_PER_MINUTE
        return rate_hit(
            scope="api-write" if write else "api-read",
            key=f"{self.kwargs.get('org', '')}|{self.credential(request)}",
            limit=limit,
            window=RATE_WINDOW_SECONDS,
        )

    def rate_headers_set(self, response: HttpResponse) -> None:
        window = self.rate_window
        response["RateLimit-Limit"] = str(window.limit)
        response["RateLimit-Remaining"] = str(window.remaining)
        response["RateLimit-Reset"] = str(window.reset)
        response["RateLimit-Policy"] = f"{window.limit};w={window.window}"

    # --- Idempotency-Key -------------------------------------------------------------------

    def idempotency_begin(self, request) -> None:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or request.method in SAFE_METHODS or self.organisation is None:
            return
        claim = idempotency_claim(
            organisation=self.organisation,
            credential=self.credential(request),
            key=idempotency_key_check(key=key),
            method=request.method,
            path=request.path,
            fingerprint=request_fingerprint(request._request),
        )
        if claim.replay:
            raise _Replay(claim.record)
        self.idempotency_record = claim.record

    def idempotency_finish(self, response: HttpResponse) -> None:
        record, self.idempotency_record = self.idempotency_record, None
        if record is None:
            return
        body = _json_body(response)
        if body is _NOT_JSON:
            # Nothing a replay could repeat faithfully: let the key go.
            idempotency_release(record=record)
            return
        idempotency_answer_keep(
            record=record,
            status_code=response.status_code,
            body=body,
            headers=dict(response.items()),
        )

    # --- the answer ------------------------------------------------------------------------

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, _Replay):
            return _replayed(exc.record)
        try:
            return super().handle_exception(exc)
        except Exception:
            # About to be a 500: the client may retry with the same key.
            record, self.idempotency_record = self.idempotency_record, None
            if record is not None:
                idempotency_release(record=record)
            raise

    def finalize_response(self, request, response, *args, **kwargs) -> HttpResponse:
        if isinstance(response, Response) and response.status_code >= 400:
            headers = {k: v for k, v in response.items() if k.lower() != "content-type"}
            body = problem_from_data(response.data, status=response.status_code, request=request)
            response = problem_response(body, headers=headers)
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.rate_window is None:
            # Refused before authentication (an Accept it cannot answer): still counted.
            self.rate_window = self.rate_count(request)
        self.rate_headers_set(response)
        self.idempotency_finish(response)
        return response


_NOT_JSON = object()


def _json_body(response: HttpResponse) -> Any:
    problem = getattr(response, "problem", None)
    if problem is not None:
        return problem
    if isinstance(response, Response):
        return None if response.data is None else json.loads(JSONRenderer().render(response.data))
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(response.content or b"null")
    return _NOT_JSON


def _replayed(record: IdempotencyRecord) -> HttpResponse:
    headers = {**record.headers, REPLAYED_HEADER: "true"}
    if record.status >= status.HTTP_400_BAD_REQUEST:
        return problem_response(record.body, headers=headers)
    return Response(record.body, status=record.status, headers=headers)
