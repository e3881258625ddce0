"""Requests refused for their size: a clear page (or JSON) in the reader's language.

Django refuses a request whose body is over `DATA_UPLOAD_MAX_MEMORY_SIZE`
(`RequestDataTooBig`), or whose form has more than `DATA_UPLOAD_MAX_NUMBER_FIELDS` fields
(`TooManyFieldsSent`) or `DATA_UPLOAD_MAX_NUMBER_FILES` files (`TooManyFilesSent`), at the
moment something first reads `request.POST` or `request.body`: the CSRF check or the view.
Left to Django, each becomes a bare 400 and a security error with a traceback in the log.
`RequestLimitMiddleware` catches them in both places and answers instead: a page saying the
form sent too much and nothing was saved, with a link back (for the API a problem
document, config/api_errors.py; JSON for JSON posts such as a kiosk's), and one warning
line in the log, naming the route, not the path (a kiosk's path carries its device token).
`bad_request` (the project's `handler400`) does the same for one raised anywhere else, and
answers any other malformed /api/ request with a problem.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults

from config.api_errors import is_api_request, problem_body, problem_response

LIMIT_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)

# An answer sent before the whole body has been read makes some servers (gunicorn's sync
# worker) close a socket with unread data, which the client sees as a reset instead of
# the answer; so the rest is read and dropped first, up to this much.
DRAIN_MAX_BYTES = 8 * 1024 * 1024

logger = logging.getLogger("chorus.requests")


class RequestLimitMiddleware:
    """Answers a request over Django's upload limits clearly. Listed before
    CsrfViewMiddleware, whose check is the first to read a form."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # The CSRF check reads the form next (a limit it hits there is beyond any view's
        # reach); reading it here first costs nothing more. Exempt views (the API, the
        # kiosk's JSON) read their own bodies, and process_exception sees what they hit.
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        try:
            request.POST  # noqa: B018 - parsed (and cached) for its limits
        except LIMIT_ERRORS as exc:
            return request_refused(request, exc)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, LIMIT_ERRORS):
            return request_refused(request, exception)
        return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: the clear answer for a limit hit outside the middleware's reach."""
    if isinstance(exception, LIMIT_ERRORS):
        return request_refused(request, exception)
    if is_api_request(request):
        body = problem_body(
            status=400,
            code="bad_request",
            detail=_("The request was refused as malformed."),
            instance=request.path,
        )
        return problem_response(body)
    return defaults.bad_request(request, exception)


def request_refused(
    request: HttpRequest, exc: Exception, *, message: str = "", extra: dict | None = None
) -> HttpResponse:
    """The answer to a request over a limit: 413 for a body too large, else 400.

    `message` replaces the default words (a caller that knows what was sent); `extra` is
    added to a JSON answer. The view has not run, or stopped where it first read its input,
    before it wrote anything (a respondent's answer included).
    """
    too_big = isinstance(exc, RequestDataTooBig)
    status = 413 if too_big else 400
    _body_drain(request)
    _language_activate(request)
    route = request.resolver_match.view_name if request.resolver_match else "-"
    logger.warning("Refused %s %s: %s (%s)", request.method, route, exc.__class__.__name__, status)
    if not message:
        message = (
            _("The form sent more text or data than this site takes at once, so nothing was saved.")
            if too_big
            else _("The form sent more answers than this site takes at once, so nothing was saved.")
        )
    if is_api_request(request):
        # The API answers every refusal as a problem (config/api_errors.py).
        code = {RequestDataTooBig: "request_too_large", TooManyFilesSent: "too_many_files"}.get(
            type(exc), "too_many_fields"
        )
        body = problem_body(
            status=status, code=code, detail=message, instance=request.path, extra=extra
        )
        response = problem_response(body)
    elif _wants_json(request):
        code = {RequestDataTooBig: "too_large", TooManyFilesSent: "too_many_files"}.get(
            type(exc), "too_many_fields"
        )
        response = JsonResponse({"error": code, "message": message, **(extra or {})}, status=status)
    else:
        response = render(
            request,
            "surveys/request_refused.html",
            {"message": message, "back": _back_url(request)},
            status=status,
        )
    # This is the one line logged for it: not Django's "Bad Request: <path>" as well.
    response._has_been_logged = True
    return response


def _body_drain(request: HttpRequest) -> None:
    if hasattr(request, "_body"):
        # Read whole already (request.body): nothing is left on the socket.
        return
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if declared > DRAIN_MAX_BYTES:
        return
    try:
        while request.read(64 * 1024):
            pass
    except OSError:
        # A client gone mid-body reads no answer anyway.
        return


def _query_value(request: HttpRequest, name: str) -> str:
    try:
        return request.GET.get(name, "")
    except LIMIT_ERRORS:
        # The query string itself was over the field limit.
        return ""


def _language_activate(request: HttpRequest) -> None:
    """The page's ?lang= (respondent pages carry it on their forms), else the language
    already active: the view's, or the browser's."""
    language = _query_value(request, "lang")
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _wants_json(request: HttpRequest) -> bool:
    return (
        request.path.startswith("/api/")
        or request.content_type == "application/json"
        or request.headers.get("Accept", "").startswith("application/json")
    )


def _back_url(request: HttpRequest) -> str:
    """Where the form was: the page that sent it, if it is one of ours, else the address
    it was sent to (a form's own page, for most of them)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
