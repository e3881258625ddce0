"""The cases API: the inbox, one case with its response and timeline, and the three
changes staff make to a case (assign, status, note).

Owners, admins and agents use it, as they use the staff case pages, or an API key with the
"cases" scopes. Each change is one service call (feedback.services.cases), which writes the
timeline event, the audit entry and the webhook event with it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.response import Response as DRFResponse

from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import Unprocessable
from communities.models import User
from communities.permissions import can_work_cases
from communities.scoping import OrganisationScopedAPIView
from config.api_pagination import DefaultCursorPagination
from feedback.api.serializers import (
    CASE_STATUS_INPUT_SCHEMA,
    CaseAssignInputSerializer,
    CaseDetailOutputSerializer,
    CaseEventOutputSerializer,
    CaseListQuerySerializer,
    CaseNoteInputSerializer,
    CaseOutputSerializer,
    CasePriorityInputSerializer,
    case_status_input,
)
from feedback.choices import CASE_DONE_STATUSES
from feedback.models import Case, CaseEvent
from feedback.services import (
    CaseTransitionRefused,
    case_assign,
    case_note_add,
    case_status_change,
)
from feedback.services.case_priority import case_priority_set
from surveys.models import Answer

PAGING_PARAMETERS = ("cursor", "page_size")


class CasePagination(DefaultCursorPagination):
    """Newest first by id (unique, so a page boundary never splits or repeats cases that
    share an opening time, as an anonymous batch's cases do)."""

    ordering = ("-id",)
    page_size = 50
    max_page_size = 200


class CaseTransitionConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "transition_refused"
    default_detail = "The case cannot move to that status from the one it is in."


def _service_refusal(exc: DjangoValidationError) -> APIException:
    """A service's refusal as the API says it: a status move the case's state does not
    allow is a conflict (409); anything else is a request of the right shape that the
    organisation's data refuses (422, on its field), as someone who does not work cases."""
    if isinstance(exc, CaseTransitionRefused):
        return CaseTransitionConflict(exc.messages[0])
    if hasattr(exc, "error_dict"):
        return Unprocessable(
            {
                field: [
                    ErrorDetail(message, code=error.code or "invalid")
                    for error in errors
                    for message in error.messages
                ]
                for field, errors in exc.error_dict.items()
            }
        )
    return Unprocessable(exc.messages)


class _CaseAPI(OrganisationScopedAPIView):
    """Owners, admins and agents (a staff session), or an API key with "cases" scopes."""

    api_area = "cases"
    model = Case
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_work_cases)
    write_permission = staticmethod(can_work_cases)

    def actor(self) -> dict[str, Any]:
        """Who is changing the case, as the services take it: the staff member, or the key."""
        if self.api_token is not None:
            return {"actor": None, "api_key": self.api_token}
        return {"actor": self.request.user, "api_key": None}

    def detail_queryset(self) -> QuerySet[Case]:
        """The organisation's cases with everything a case's page of the API shows, in a
        fixed number of queries."""
        answers = Answer.objects.select_related("question").prefetch_related("choices")
        return (
            Case.objects.for_organisation(self.organisation)
            .select_related(
                "assignee",
                "root_cause",
                "response__survey",
                "response__member",
                "response__channel",
                "response__location",
            )
            .prefetch_related(
                Prefetch("response__answers", queryset=answers.order_by("question__position")),
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
            )
        )

    def detail_answer(self, case: Case, *, code: int = status.HTTP_200_OK) -> DRFResponse:
        fresh = self.detail_queryset().get(pk=case.pk)
        return DRFResponse(
            CaseDetailOutputSerializer(fresh, context=self.get_serializer_context()).data,
            status=code,
        )


class CaseListAPI(_CaseAPI, generics.ListAPIView):
    serializer_class = CaseOutputSerializer
    pagination_class = CasePagination

    def scope_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        # A mistyped filter must not quietly list every case: an unknown parameter is a 400.
        known = {*CaseListQuerySerializer().fields, *PAGING_PARAMETERS}
        unknown = sorted(set(self.request.query_params) - known)
        if unknown:
            raise ValidationError({name: [_("Not a filter this list knows.")] for name in unknown})
        # An empty value fits no filter's schema; DRF would quietly skip it as absent.
        empty = [
            name
            for name in self.request.query_params
            if name not in PAGING_PARAMETERS and "" in self.request.query_params.getlist(name)
        ]
        if empty:
            raise ValidationError(
                {name: [_("Give a value, or leave the filter out.")] for name in empty}
            )
        query = CaseListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        cases = queryset.select_related("response__survey", "assignee", "root_cause")
        if filters.get("status"):
            cases = cases.filter(status__in=filters["status"])
        if filters.get("priority"):
            cases = cases.filter(priority__in=filters["priority"])
        assignee = filters.get("assignee")
        if assignee == "none":
            cases = cases.filter(assignee__isnull=True)
        elif assignee == "me":
            # An API key is no person: no case is its own.
            me = self.request.user if self.api_token is None else None
            cases = cases.filter(assignee=me) if me is not None else cases.none()
        elif assignee is not None:
            cases = cases.filter(assignee_id=int(assignee))
        if "survey" in filters:
            cases = cases.filter(response__survey_id=filters["survey"])
        if "created_after" in filters:
            cases = cases.filter(created_at__gte=filters["created_after"])
        if "created_before" in filters:
            cases = cases.filter(created_at__lt=filters["created_before"])
        overdue = Q(due_at__lt=timezone.now()) & ~Q(status__in=CASE_DONE_STATUSES)
        if filters.get("overdue") is True:
            cases = cases.filter(overdue)
        elif filters.get("overdue") is False:
            cases = cases.exclude(overdue)
        return cases

    @extend_schema(
        summary="List cases, newest first",
        description=(
            "The organisation's follow-up cases, newest first, filtered by status, priority, "
            "assignee, survey, when they were opened, and whether they are overdue."
        ),
        parameters=[CaseListQuerySerializer],
        responses={200: CaseOutputSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CaseDetailAPI(_CaseAPI, generics.RetrieveAPIView):
    serializer_class = CaseDetailOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        del queryset  # detail_queryset is the organisation's, with what the answer shows
        return self.detail_queryset()

    @extend_schema(
        summary="One case, with its response and timeline",
        description=(
            "The response the case was opened on (answers, sentiment, channel, store) and "
            "the case's timeline, oldest event first. Nothing about the person behind an "
            "anonymous response is shown; a respondent's address only when they agreed to "
            "be contacted about the answer."
        ),
        responses={200: CaseDetailOutputSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change a case's priority",
        description=(
            "Sets the case's priority through the same service the case page uses: its "
            "first-response and resolution due times are recomputed from the organisation's "
            "service level for the new priority, and the change is recorded on the timeline "
            "and in the audit log (with the due times before and after). Setting the priority "
            "it already has, or sending no priority, changes nothing."
        ),
        request=CasePriorityInputSerializer,
        responses={
            200: OpenApiResponse(CaseDetailOutputSerializer, description="The case as it is now."),
            400: OpenApiResponse(
                description="The body is not a priority (low, normal or high), or has other fields."
            ),
        },
        examples=[OpenApiExample("Raise", value={"priority": "high"}, request_only=True)],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        case = generics.get_object_or_404(
            Case.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )
        data = CasePriorityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "priority" not in data.validated_data:
            return self.detail_answer(case)
        try:
            case_priority_set(case=case, priority=data.validated_data["priority"], **self.actor())
        except DjangoValidationError as exc:
            raise _service_refusal(exc) from None
        return self.detail_answer(case)


class _CaseChangeAPI(_CaseAPI):
    """POST only: one service call on a case of this organisation."""

    def case(self) -> Case:
        return generics.get_object_or_404(
            Case.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )


class CaseAssignAPI(_CaseChangeAPI):
    serializer_class = CaseAssignInputSerializer

    @extend_schema(
        summary="Assign a case (or unassign it)",
        description=(
            "Gives the case to a staff member of this organisation who works cases (an "
            "owner, admin or agent), or to nobody with null. Assigning it to whoever has it "
            "already changes nothing. Anyone else is refused (422)."
        ),
        request=CaseAssignInputSerializer,
        responses={
            200: OpenApiResponse(CaseDetailOutputSerializer, description="The case as it is now."),
            400: OpenApiResponse(description="The body is not an assignee (a user id or null)."),
            422: OpenApiResponse(
                description=(
                    "The assignee is not a staff member of this organisation who works cases "
                    "(`not_case_staff`, at `/assignee`)."
                )
            ),
        },
        examples=[
            OpenApiExample("Assign", value={"assignee": 42}, request_only=True),
            OpenApiExample("Unassign", value={"assignee": None}, request_only=True),
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        case = self.case()
        data = CaseAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = None
        if (pk := data.validated_data["assignee"]) is not None:
            assignee = User.objects.filter(pk=pk).first()
            if assignee is None:
                raise Unprocessable(
                    {
                        "assignee": [
                            _(
                                "Assign the case to someone of this organisation who works "
                                "cases (an owner, admin or agent)."
                            )
                        ]
                    },
                    code="not_case_staff",
                )
        try:
            case_assign(case=case, assignee=assignee, **self.actor())
        except DjangoValidationError as exc:
            raise _service_refusal(exc) from None
        return self.detail_answer(case)


class CaseStatusAPI(_CaseChangeAPI):
    @extend_schema(
        summary="Change a case's status",
        description=(
            "Moves the case along new → open → waiting (on the customer) → resolved → "
            "closed: resolving needs a resolution and one of the organisation's root causes "
            "(its id); a resolved or closed case may be reopened (to open), and a resolved "
            "one closed. A move the case's current status does not allow — to the status it "
            "is already in, or from resolved or closed to anything else — is a conflict "
            "(409); a root cause that is not the organisation's (or is retired) is 422."
        ),
        request=CASE_STATUS_INPUT_SCHEMA,
        responses={
            200: OpenApiResponse(CaseDetailOutputSerializer, description="The case as it is now."),
            409: OpenApiResponse(
                description=(
                    "The case's status does not allow this move (`transition_refused`: it is "
                    "already in that status, or it is resolved or closed and may only be "
                    "reopened or closed)."
                )
            ),
        },
        examples=[
            OpenApiExample("Start work", value={"status": "open"}, request_only=True),
            OpenApiExample(
                "Resolve",
                value={
                    "status": "resolved",
                    "resolution": "Called the customer; a voucher for the next visit.",
                    "root_cause": 3,
                },
                request_only=True,
            ),
            OpenApiExample("Reopen", value={"status": "open"}, request_only=True),
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        case = self.case()
        fields = case_status_input(request.data)
        try:
            case_status_change(
                case=case,
                status=fields["status"],
                resolution=fields["resolution"],
                root_cause=fields["root_cause"],
                **self.actor(),
            )
        except DjangoValidationError as exc:
            raise _service_refusal(exc) from None
        return self.detail_answer(case)


class CaseNoteAPI(_CaseChangeAPI):
    serializer_class = CaseNoteInputSerializer

    @extend_schema(
        summary="Add a note to a case",
        description="The note joins the case's timeline, as staff read it on the case page.",
        request=CaseNoteInputSerializer,
        responses={
            201: OpenApiResponse(CaseEventOutputSerializer, description="The timeline's new event.")
        },
        examples=[
            OpenApiExample(
                "Note",
                value={"body": "Left a voicemail; will call again tomorrow morning."},
                request_only=True,
            ),
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        case = self.case()
        data = CaseNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            event = case_note_add(case=case, body=data.validated_data["body"], **self.actor())
        except DjangoValidationError as exc:
            raise _service_refusal(exc) from None
        event = CaseEvent.objects.select_related("actor").get(pk=event.pk)
        return DRFResponse(
            CaseEventOutputSerializer(event, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
