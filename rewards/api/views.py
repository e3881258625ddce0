"""The rewards API: the catalogue, redemptions and their decisions, a member's points.

Scoped and role-checked as the members API is: a staff session (owners, admins and
analysts read; owners and admins write) or an organisation API key with the "rewards"
scopes. A request the schema refuses is a 400; one of the right shape that this
organisation's data refuses (a community of another organisation, a window that ends
before it starts) is a 422; a redemption someone decided first is a 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response as DRFResponse

from communities.api import views as communities_api
from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import Unprocessable, service_refusal
from communities.choices import MemberStatus
from communities.models import Community, Member, User
from communities.permissions import can_manage, can_read_results
from communities.scoping import OrganisationScopedAPIView
from rewards.api.serializers import (
    LedgerEntryOutputSerializer,
    MemberPointsOutputSerializer,
    RedemptionApproveInputSerializer,
    RedemptionFulfilInputSerializer,
    RedemptionListQuerySerializer,
    RedemptionOutputSerializer,
    RedemptionRejectInputSerializer,
    RewardCreateInputSerializer,
    RewardListQuerySerializer,
    RewardOutputSerializer,
    RewardUpdateInputSerializer,
    reward_fields_resolve,
)
from rewards.models import Redemption, Reward
from rewards.selectors import member_balance, redemption_queue, reward_list, staff_member_ledger
from rewards.services import (
    redemption_approve,
    redemption_fulfil,
    redemption_reject,
    reward_create,
    reward_update,
)

PAGING_PARAMS = {"cursor", "page_size"}
CONFLICT = OpenApiResponse(
    description=(
        'The redemption was already decided (code "already_decided"), by a colleague or an '
        "earlier call; `detail` says its status now."
    ),
)
UNPROCESSABLE = communities_api.UNPROCESSABLE


class LedgerPagination(communities_api.StrictCursorPagination):
    """Newest first, as a member's history reads; a cursor, so entries written while a
    client pages through do not shift the pages it has not read yet."""

    ordering = ("-created_at", "-id")


class RedemptionAlreadyDecided(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_decided"


class _RewardsAPI(OrganisationScopedAPIView):
    """Staff (owners, admins, analysts read; owners and admins write) or an API key."""

    api_area = "rewards"

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    pagination_class = communities_api.IdPagination
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    # The query parameters a list understands; any other is a 400, never ignored: a
    # mistyped filter must not quietly return everything.
    query_filters: frozenset[str] = frozenset()

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        # Shipping addresses are personal data only the people who ship may read.
        context["show_address"] = self.api_token is not None or can_manage(self.role)
        context["organisation"] = self.organisation
        return context

    def actor(self) -> User | None:
        """Who did it: the staff member, or None for a key (it acts for the organisation,
        not a person)."""
        return self.request.user if self.api_token is None else None

    def query_check(self, shape: type | None = None) -> dict[str, Any]:
        """The list's filters, checked for their shape (a 400): a parameter the list does
        not know is refused, never ignored, so a mistyped filter cannot return everything."""
        query = self.request.query_params
        unknown = sorted(set(query) - self.query_filters - PAGING_PARAMS)
        if unknown:
            raise ValidationError({key: [_("Not a filter this list knows.")] for key in unknown})
        if shape is None:
            return {}
        filters = shape(data=query)
        filters.is_valid(raise_exception=True)
        return filters.validated_data

    def query_object(self, filters: dict[str, Any], name: str, queryset: QuerySet, message: str):
        """The object a filter names, of this organisation (None when the filter is not
        given); an id that names nothing here is a 422."""
        if name not in filters:
            return None
        found = queryset.for_organisation(self.organisation).filter(pk=filters[name]).first()
        if found is None:
            raise Unprocessable({name: [message]})
        return found


def _service_errors(exc: DjangoValidationError) -> APIException:
    """A service's refusal as a 422, or a 409 when someone decided first."""
    if getattr(exc, "code", None) == "already_decided":
        return RedemptionAlreadyDecided({"detail": exc.messages[0], "code": "already_decided"})
    return service_refusal(exc)


# --- the catalogue -------------------------------------------------------------------------


# Every field a reward has through the API, so an update can pass the service the current
# value of each field a PATCH leaves out.
REWARD_FIELDS = (
    "community",
    "kind",
    "name",
    "description",
    "translations",
    "cost",
    "stock",
    "per_member_limit",
    "available_from",
    "available_until",
    "auto_approve",
    "active",
)


REWARD_EXAMPLE = {
    "kind": "perk",
    "community": None,
    "name": "Free coffee",
    "description": "Any drink, any size.",
    "translations": {"th": {"name": "กาแฟฟรี"}},
    "cost": 150,
    "stock": 100,
    "per_member_limit": 1,
    "available_from": "2026-06-01T00:00:00+07:00",
    "available_until": None,
    "auto_approve": True,
    "active": True,
}


class RewardListAPI(_RewardsAPI, generics.ListAPIView):
    model = Reward
    serializer_class = RewardOutputSerializer
    query_filters = frozenset({"community", "active"})

    def scope_queryset(self, queryset: QuerySet[Reward]) -> QuerySet[Reward]:
        del queryset  # the selector filters; the base keeps the result to this organisation
        filters = self.query_check(RewardListQuerySerializer)
        community = self.query_object(
            filters, "community", Community.objects, _("No such community in this organisation.")
        )
        return reward_list(
            organisation=self.organisation, community=community, active=filters.get("active")
        )

    @extend_schema(
        summary="List the reward catalogue",
        parameters=[RewardListQuerySerializer],
        responses={200: RewardOutputSerializer(many=True), 422: UNPROCESSABLE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a reward to the catalogue",
        description="Images are uploaded on the staff pages, not through the API.",
        request=RewardCreateInputSerializer,
        responses={201: RewardOutputSerializer, 422: UNPROCESSABLE},
        examples=[OpenApiExample("A perk for one a member", REWARD_EXAMPLE, request_only=True)],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        data = RewardCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = reward_fields_resolve(
            organisation=self.organisation, reward=None, fields=data.validated_data
        )
        try:
            reward = reward_create(organisation=self.organisation, actor=self.actor(), **fields)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        reward = self.get_queryset().get(pk=reward.pk)
        return DRFResponse(self.get_serializer(reward).data, status=status.HTTP_201_CREATED)


class RewardDetailAPI(_RewardsAPI, generics.RetrieveAPIView):
    model = Reward
    serializer_class = RewardOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Reward]) -> QuerySet[Reward]:
        del queryset  # the selector annotates codes_left; the base keeps it to this organisation
        return reward_list(organisation=self.organisation)

    @extend_schema(summary="One reward of the catalogue")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change a reward (fields left out keep their value)",
        request=RewardUpdateInputSerializer,
        responses={200: RewardOutputSerializer, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "Withdrawn for now",
                {"active": False},
                request_only=True,
            )
        ],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        reward = self.get_object()
        data = RewardUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        given = reward_fields_resolve(
            organisation=self.organisation, reward=reward, fields=data.validated_data
        )
        fields = {name: getattr(reward, name) for name in REWARD_FIELDS}
        try:
            reward_update(reward=reward, actor=self.actor(), **{**fields, **given})
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return DRFResponse(self.get_serializer(self.get_queryset().get(pk=reward.pk)).data)


# --- redemptions ---------------------------------------------------------------------------


class _RedemptionAPI(_RewardsAPI):
    model = Redemption
    serializer_class = RedemptionOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Redemption]) -> QuerySet[Redemption]:
        return queryset.select_related("reward", "member__community", "decided_by")


class RedemptionListAPI(_RedemptionAPI, generics.ListAPIView):
    query_filters = frozenset({"status", "reward", "member", "community"})

    def scope_queryset(self, queryset: QuerySet[Redemption]) -> QuerySet[Redemption]:
        del queryset  # the selector filters; the base keeps the result to this organisation
        filters = self.query_check(RedemptionListQuerySerializer)
        reward = self.query_object(
            filters, "reward", Reward.objects, _("No such reward in this organisation.")
        )
        member = self.query_object(
            filters, "member", Member.objects, _("No such member in this organisation.")
        )
        community = self.query_object(
            filters, "community", Community.objects, _("No such community in this organisation.")
        )
        redemptions = redemption_queue(
            organisation=self.organisation, status=None, reward=reward, community=community
        )
        if filters.get("status"):
            redemptions = redemptions.filter(status__in=filters["status"])
        if member is not None:
            redemptions = redemptions.filter(member=member)
        return redemptions

    @extend_schema(
        summary="List redemptions, oldest first",
        description=(
            "Filter by status (repeat for several), reward, member or community. Voucher "
            "codes are never shown here: only the member's portal shows a code."
        ),
        parameters=[RedemptionListQuerySerializer],
        responses={200: RedemptionOutputSerializer(many=True), 422: UNPROCESSABLE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RedemptionDetailAPI(_RedemptionAPI, generics.RetrieveAPIView):
    @extend_schema(summary="One redemption")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _RedemptionDecisionAPI(_RedemptionAPI):
    """POST only: one service call on a redemption of this organisation."""

    input_serializer: type = RedemptionApproveInputSerializer

    def decide(self, redemption: Redemption, actor, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs) -> DRFResponse:
        redemption = self.get_object()
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            self.decide(redemption, self.actor(), data.validated_data)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return DRFResponse(self.get_serializer(self.get_queryset().get(pk=redemption.pk)).data)


def _decision_schema(summary: str, description: str, request: type, example: dict):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: RedemptionOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[OpenApiExample(summary, example, request_only=True)],
    )


class RedemptionApproveAPI(_RedemptionDecisionAPI):
    input_serializer = RedemptionApproveInputSerializer

    def decide(self, redemption: Redemption, actor, fields: dict[str, Any]) -> None:
        redemption_approve(redemption=redemption, actor=actor)

    @_decision_schema(
        "Approve a requested redemption",
        "The member is emailed. A voucher's code is handed over at once, so an approved "
        'voucher redemption is "fulfilled". 409 when it is no longer "requested".',
        RedemptionApproveInputSerializer,
        {},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)


class RedemptionRejectAPI(_RedemptionDecisionAPI):
    input_serializer = RedemptionRejectInputSerializer

    def decide(self, redemption: Redemption, actor, fields: dict[str, Any]) -> None:
        redemption_reject(redemption=redemption, actor=actor, reason=fields["reason"])

    @_decision_schema(
        "Reject a redemption and return its points",
        "Requested or approved (not yet fulfilled) redemptions; the points, item or voucher "
        "code go back and the member is emailed the reason. 409 when it is already "
        "fulfilled, rejected or cancelled.",
        RedemptionRejectInputSerializer,
        {"reason": "Out of stock until next month, sorry."},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)


class RedemptionFulfilAPI(_RedemptionDecisionAPI):
    input_serializer = RedemptionFulfilInputSerializer

    def decide(self, redemption: Redemption, actor, fields: dict[str, Any]) -> None:
        redemption_fulfil(redemption=redemption, actor=actor, tracking_note=fields["tracking_note"])

    @_decision_schema(
        "Mark an approved redemption as sent or done",
        'The member is emailed, with the tracking note. 409 unless it is "approved".',
        RedemptionFulfilInputSerializer,
        {"tracking_note": "Thailand Post EF123456789TH"},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)


# --- a member's points ---------------------------------------------------------------------


class MemberPointsAPI(_RewardsAPI, generics.GenericAPIView):
    """A member's balance and, a page at a time, the ledger lines that make it up."""

    model = Member
    serializer_class = MemberPointsOutputSerializer
    pagination_class = LedgerPagination
    query_filters = frozenset()

    def scope_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        return queryset.filter(erased_at__isnull=True).exclude(status=MemberStatus.ERASED)

    @extend_schema(
        summary="A member's points balance and history",
        parameters=[
            OpenApiParameter(p["name"], p["schema"], description=p["description"])
            for p in LedgerPagination().get_schema_operation_parameters(None)
        ],
        responses={
            200: MemberPointsOutputSerializer,
            400: OpenApiResponse(
                description="A query parameter it does not know, or a page_size out of range."
            ),
        },
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        self.query_check()
        member = self.get_object()
        entries = self.paginate_queryset(
            staff_member_ledger(organisation=self.organisation, member=member)
        )
        return DRFResponse(
            {
                "balance": member_balance(member=member),
                "next": self.paginator.get_next_link(),
                "previous": self.paginator.get_previous_link(),
                "entries": LedgerEntryOutputSerializer(entries, many=True).data,
            }
        )
