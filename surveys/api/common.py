"""What every surveys API view shares: the credentials it takes, who may read and write, how
a query string is checked, and how a service's refusal becomes a problem answer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError

from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import Unprocessable
from communities.models import User
from communities.permissions import can_manage, can_read_results
from communities.scoping import OrganisationScopedAPIView
from config.api_pagination import StrictCursorPagination
from surveys.services.authoring import STATE_CODES

PAGING_PARAMS = frozenset({"cursor", "page_size"})


class SurveyStateConflict(APIException):
    """The survey's state refuses this (a live survey's questions, closing a draft…)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "survey_state"
    default_detail = gettext_lazy("The survey's status does not allow this.")


# A problem (the schema's ProblemDetails, config.api_schema) whose `code` says why.
CONFLICT = OpenApiResponse(
    description="The survey's status does not allow this; `code` says why (survey_not_draft, "
    "survey_not_live, survey_live, not_publishable, close_time_passed, "
    "question_has_dependants, choice_answered, choice_has_dependants).",
)
UNPROCESSABLE = OpenApiResponse(
    description="The request fits the schema but not the organisation's data (an id of "
    "nothing it has, a text in a language the survey lacks, a show-if rule that looks at no "
    "earlier question); `errors` names the fields.",
)


def _nested(messages: dict[str, list]) -> dict[str, Any]:
    """{"questions.0.settings": [...]} -> {"questions": {0: {"settings": [...]}}}."""
    nested: dict[Any, Any] = {}
    for dotted, errors in messages.items():
        parts: list[Any] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        if parts == ["__all__"]:
            parts = ["non_field_errors"]
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = [ErrorDetail(" ".join(e.messages), e.code or "invalid") for e in errors]
    return nested


def _renamed(dotted: str, renames: dict[str, str]) -> str:
    *parents, last = dotted.split(".")
    return ".".join([*parents, renames.get(last, last)])


def service_refusal(
    exc: DjangoValidationError, *, field: str = "non_field_errors", renames: dict | None = None
) -> APIException:
    """A service's ValidationError as the API answers it: 409 for a refusal because of the
    survey's state, else 422 (the request fits the schema; the organisation's data refuses
    it) naming the fields (`renames` maps the service's field names to
    the request's, e.g. show_if -> settings.show_if; a refusal without fields lands on
    `field`)."""
    code = getattr(exc, "code", None)
    if code in STATE_CODES:
        return SurveyStateConflict(detail=" ".join(exc.messages), code=code)
    if hasattr(exc, "error_dict"):
        for error_list in exc.error_dict.values():
            if error_list and error_list[0].code in STATE_CODES:
                return SurveyStateConflict(
                    detail=" ".join(str(e.message) for e in error_list), code=error_list[0].code
                )
        renamed = {_renamed(k, renames or {}): v for k, v in exc.error_dict.items()}
        return Unprocessable(_nested(renamed))
    return Unprocessable({field: [ErrorDetail(m, code or "invalid") for m in exc.messages]})


class SurveysAPIView(OrganisationScopedAPIView):
    """A staff session (owners, admins and analysts read; owners and admins write) or an
    organisation API key with the area's scope."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role (or the key's scope) itself.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    # The query parameters a GET understands; any other is a 400, never ignored: a mistyped
    # filter must not quietly return everything.
    query_filters: frozenset[str] = frozenset()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "organisation": self.organisation}

    def actor(self) -> User | None:
        """Who did it: the staff member; None for a key (it acts for the organisation)."""
        return self.request.user if self.api_token is None else None

    def query_check(self) -> None:
        unknown = sorted(set(self.request.query_params) - self.query_filters - PAGING_PARAMS)
        if unknown:
            raise ValidationError({key: [_("Not a filter this list knows.")] for key in unknown})

    def query_choice(self, name: str, choices: list[str]) -> str | None:
        raw = self.request.query_params.get(name)
        if raw is not None and raw not in choices:
            raise ValidationError({name: [_("Choose one of: %s.") % ", ".join(choices)]})
        return raw

    def query_object(self, name: str, queryset: QuerySet, message: str) -> Model | None:
        """The object a filter parameter names, of this organisation; None when absent. An id
        of no such object is 422 (the schema cannot know the organisation's ids), anything
        but an id a 400."""
        raw = self.request.query_params.get(name)
        if raw is None:
            return None
        # ASCII digits only ("²" is a digit to Python, not to int()); a number beyond a
        # bigint names nothing and must not reach the database.
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit() and len(digits) < 40):
            raise ValidationError({name: [_("Give an id.")]})
        found = None
        if 0 < int(raw) < 2**63:
            found = queryset.for_organisation(self.organisation).filter(pk=int(raw)).first()
        if found is None:
            raise Unprocessable({name: [message]})
        return found


def cursor_pagination(
    name: str, ordering: tuple[str, ...], page_size: int, maximum: int
) -> type[StrictCursorPagination]:
    return type(
        name,
        (StrictCursorPagination,),
        {
            "__module__": __name__,
            "ordering": ordering,
            "page_size": page_size,
            "page_size_query_param": "page_size",
            "max_page_size": maximum,
        },
    )
