"""The members API: an organisation's communities, their members and segments, as a CRM
syncs them.

A staff session (owners, admins and analysts read; owners and admins write) or an API key
with the "members" scopes. A request the schema refuses is a 400; one of the right shape
that the community's data refuses (an attribute it does not define, a segment of another
community, a suppressed address) is a 422; an address already a member is a 409.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import (
    APIException,
    Throttled,
    ValidationError,
)
from rest_framework.response import Response as DRFResponse

from communities import flows
from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import (
    ATTRIBUTE_KEY_PATTERN,
    ATTRIBUTE_TEXT_MAX,
    CommunityOutputSerializer,
    DuplicateMemberSerializer,
    MemberCreateInputSerializer,
    MemberInviteInputSerializer,
    MemberListQuerySerializer,
    MemberOutputSerializer,
    MemberUpdateInputSerializer,
    SegmentOutputSerializer,
    Unprocessable,
    service_refusal,
)
from communities.choices import AttributeKind, ConsentChannel, MemberStatus
from communities.models import Community, ConsentRecord, Member, Segment
from communities.permissions import can_manage, can_read_results
from communities.scoping import OrganisationScopedAPIView
from communities.selectors import (
    member_status_counts,
    member_status_counts_by_community,
    members_matching,
    segment_counts,
)
from communities.services.attributes import attributes_clean, community_attributes
from communities.services.common import email_normalise
from communities.services.members import member_create, member_update
from communities.services.segments import segment_filter_clean
from config.api_pagination import StrictCursorPagination
from config.ratelimit import rate_limited

# --- communities, members and segments: what a CRM syncs -------------------------------------

# Invitations send email, so they share the staff page's hourly budget (same scope and key).
INVITES_PER_HOUR = 200
FILTER_PARAMS = ("search", "active_within_days", "inactive_for_days", "joined_within_days")
ATTRIBUTE_PARAM = "attr."
ATTRIBUTE_KEY_RE = re.compile(ATTRIBUTE_KEY_PATTERN)


class IdPagination(StrictCursorPagination):
    """Oldest first by id: rows added while a sync pages through land on later pages
    instead of shifting earlier ones, so nothing is skipped or read twice."""

    ordering = ("id",)


UNPROCESSABLE = OpenApiResponse(
    description=(
        "The request has the right shape but this organisation's data refuses it "
        "(an attribute the community does not define, a value that does not fit it)."
    ),
)


class _CommunityAPI(OrganisationScopedAPIView):
    """Staff (owners, admins, analysts read; owners and admins write) or an API key."""

    api_area = "members"

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)

    def get_community(self) -> Community:
        if not hasattr(self, "community"):
            self.community = get_object_or_404(
                Community.objects.for_organisation(self.organisation).select_related(
                    "organisation"
                ),
                pk=self.kwargs["pk"],
            )
        return self.community

    def members_for_output(self, members: QuerySet[Member]) -> QuerySet[Member]:
        return members.prefetch_related(
            Prefetch("consents", queryset=ConsentRecord.objects.order_by("recorded_at", "pk"))
        )


class SegmentFilterStale(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This segment's saved filter no longer fits the community; edit it on the Segments page."
    )
    default_code = "segment_filter_stale"


def _segment_members(*, community: Community, segment: Segment) -> QuerySet[Member]:
    try:
        return members_matching(community=community, filter=segment.filter)
    except ValueError:
        # The selector refuses a filter it cannot read rather than widening it.
        raise SegmentFilterStale from None


SEGMENT_STALE = OpenApiResponse(
    description="The segment's saved filter no longer fits its community (code "
    '"segment_filter_stale"); edit it on the Segments page.'
)
DUPLICATE = OpenApiResponse(
    response=DuplicateMemberSerializer,
    description="The address is already a member of this community; `member_id` names them.",
)


class CommunityListAPI(_CommunityAPI, generics.ListAPIView):
    model = Community
    serializer_class = CommunityOutputSerializer
    pagination_class = IdPagination

    def scope_queryset(self, queryset: QuerySet[Community]) -> QuerySet[Community]:
        return queryset.prefetch_related("attributes")

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["member_counts"] = getattr(self, "member_counts", {})
        return context

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.member_counts = member_status_counts_by_community(
            organisation=self.organisation, communities=page or []
        )
        return page

    @extend_schema(summary="List the organisation's communities")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CommunityDetailAPI(_CommunityAPI, generics.RetrieveAPIView):
    model = Community
    serializer_class = CommunityOutputSerializer

    def get_object(self) -> Community:
        community = get_object_or_404(
            self.scoped_queryset().prefetch_related("attributes"), pk=self.kwargs["pk"]
        )
        self.member_counts = {community.pk: member_status_counts(community=community)}
        return community

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["member_counts"] = getattr(self, "member_counts", {})
        return context

    @extend_schema(summary="One community with its member counts")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CommunityMemberListAPI(_CommunityAPI, generics.ListAPIView):
    """A community's members, filtered as the staff member list filters them.

    A query parameter this endpoint does not know is a 400, never ignored: a mistyped
    filter must not quietly return everyone.
    """

    model = Member
    serializer_class = MemberOutputSerializer
    pagination_class = IdPagination

    def _filter(self, community: Community, definitions) -> dict:
        query = self.request.query_params
        known = {"status", "segment", "cursor", "page_size", *FILTER_PARAMS}
        unknown = sorted(
            key for key in query if key not in known and not key.startswith(ATTRIBUTE_PARAM)
        )
        if unknown:
            raise ValidationError({key: [_("Not a filter this list knows.")] for key in unknown})
        shape = MemberListQuerySerializer(data=query)
        shape.is_valid(raise_exception=True)
        fields = shape.validated_data
        raw: dict = {key: fields[key] for key in FILTER_PARAMS if key in fields}
        if fields.get("status"):
            raw["status"] = sorted(fields["status"])
        attributes = self._attribute_conditions(definitions)
        if attributes:
            raw["attributes"] = attributes
        try:
            return segment_filter_clean(community=community, filter=raw, definitions=definitions)
        except DjangoValidationError as exc:
            raise Unprocessable(
                {
                    (
                        ATTRIBUTE_PARAM + key.removeprefix("attributes.")
                        if key.startswith("attributes.")
                        else key
                    ): messages
                    for key, messages in exc.message_dict.items()
                }
            ) from None

    def _attribute_conditions(self, definitions) -> dict:
        """attr.<key>=value conditions: their shape is checked here (400), whether the
        community defines the key and the value fits it by segment_filter_clean (422)."""
        query = self.request.query_params
        kinds = {d.key: d.kind for d in definitions}
        attributes, errors = {}, {}
        for param in query:
            if not param.startswith(ATTRIBUTE_PARAM):
                continue
            key, values = param[len(ATTRIBUTE_PARAM) :], query.getlist(param)
            if not ATTRIBUTE_KEY_RE.fullmatch(key):
                errors[param] = [_("Not an attribute key (letters, digits, - and _).")]
            elif any(len(value) > ATTRIBUTE_TEXT_MAX or "\x00" in value for value in values):
                errors[param] = [_("Send at most 200 characters, without NUL.")]
            elif kinds.get(key) in (AttributeKind.NUMBER, AttributeKind.DATE):
                # "Equals" for an ordered value is both bounds at once.
                if len(values) > 1:
                    errors[param] = [_("Give one value for this attribute.")]
                else:
                    attributes[key] = {"gte": values[0], "lte": values[0]}
            else:
                attributes[key] = {"in": values}
        if errors:
            raise ValidationError(errors)
        return attributes

    def scope_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        # Built from the community's own filter semantics; the base still keeps the result
        # to this organisation.
        del queryset
        community = self.get_community()
        definitions = community_attributes(community=community)
        members = members_matching(community=community, filter=self._filter(community, definitions))
        segment_id = self.request.query_params.get("segment")
        if segment_id:
            segment = (
                Segment.objects.for_organisation(self.organisation)
                .filter(community=community, pk=int(segment_id))
                .first()
            )
            if segment is None:
                raise Unprocessable({"segment": [_("No such segment in this community.")]})
            members = members & _segment_members(community=community, segment=segment)
        return self.members_for_output(members)

    @extend_schema(
        summary="List a community's members",
        description=(
            "Filters combine (all must hold). Besides the parameters below, `attr.<key>=value` "
            "keeps members whose attribute equals the value, e.g. `attr.city=bangkok`; repeat "
            "a choice or text attribute for any of several values. A parameter this list does "
            "not know is a 400; an attribute or segment the community does not have, a 422."
        ),
        parameters=[MemberListQuerySerializer],
        responses={200: MemberOutputSerializer(many=True), 409: SEGMENT_STALE, 422: UNPROCESSABLE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a member who accepted the community terms in your system",
        description=(
            'Send "consent": true only once the person accepted the community terms and '
            "privacy policy in your system: it is recorded as their consent through the API, "
            "and without it nobody is added. An address already in the community answers 409 "
            "with that member's id."
        ),
        request=MemberCreateInputSerializer,
        responses={201: MemberOutputSerializer, 409: DUPLICATE, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "A new member from a CRM",
                request_only=True,
                value={
                    "email": "kim@example.com",
                    "name": "Kim",
                    "locale": "en",
                    "attributes": {"city": "bangkok"},
                    "consent": True,
                    "marketing": False,
                },
            )
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        community = self.get_community()
        data = MemberCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            attributes = attributes_clean(
                community=community,
                values=fields.get("attributes") or {},
                definitions=community_attributes(community=community),
            )
        except DjangoValidationError as exc:
            raise Unprocessable({"attributes": exc.message_dict}) from None
        existing = _existing_member(community, fields["email"])
        if existing is not None:
            return _duplicate(existing)
        try:
            member = member_create(
                community=community,
                email=fields["email"],
                name=fields.get("name", ""),
                locale=fields.get("locale", ""),
                attributes=attributes,
                consent_channel=ConsentChannel.API,
                marketing=fields["marketing"],
            )
        except DjangoValidationError as exc:
            # Another request added the address between the check and the write.
            existing = _existing_member(community, fields["email"])
            if existing is not None:
                return _duplicate(existing)
            raise service_refusal(
                exc, nest="attributes", top_level={"email", "name", "locale"}
            ) from None
        return _member_created(self, member)


def _existing_member(community: Community, email: str) -> Member | None:
    return (
        Member.objects.for_organisation(community.organisation_id)
        .filter(community=community, email=email_normalise(email))
        .only("pk")
        .first()
    )


def _duplicate(existing: Member) -> DRFResponse:
    return DRFResponse(
        {
            "detail": _("This address is already a member of this community."),
            "member_id": existing.pk,
        },
        status=status.HTTP_409_CONFLICT,
    )


def _member_created(view: _CommunityAPI, member: Member) -> DRFResponse:
    member = view.members_for_output(Member.objects.filter(pk=member.pk)).get()
    return DRFResponse(
        MemberOutputSerializer(member, context=view.get_serializer_context()).data,
        status=status.HTTP_201_CREATED,
    )


class CommunityMemberInviteAPI(_CommunityAPI):
    """Invite one person by email: an invited member and an invitation email with their link.

    They become a member, with their own consent recorded, only when they accept.
    """

    serializer_class = MemberInviteInputSerializer

    @extend_schema(
        summary="Invite one person to join the community",
        request=MemberInviteInputSerializer,
        responses={201: MemberOutputSerializer, 409: DUPLICATE, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "An invitation in Japanese",
                request_only=True,
                value={"email": "ann@example.com", "name": "Ann", "locale": "ja"},
            )
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        community = self.get_community()
        data = MemberInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        existing = _existing_member(community, fields["email"])
        if existing is not None:
            return _duplicate(existing)
        if rate_limited(
            scope="member-invite",
            key=str(self.organisation.pk),
            limit=INVITES_PER_HOUR,
            window=3600,
        ):
            raise Throttled(wait=3600)
        try:
            member = flows.member_invite(
                community=community,
                email=fields["email"],
                name=fields["name"],
                locale=fields["locale"],
                invited_by=self.request.user if self.api_token is None else None,
            )
        except DjangoValidationError as exc:
            existing = _existing_member(community, fields["email"])
            if existing is not None:
                return _duplicate(existing)
            raise service_refusal(exc) from None
        return _member_created(self, member)


class MemberDetailAPI(_CommunityAPI, generics.RetrieveAPIView):
    """One member. There is no DELETE: erasure is the member's own right, from their portal."""

    model = Member
    serializer_class = MemberOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        return self.members_for_output(
            queryset.filter(erased_at__isnull=True)
            .exclude(status=MemberStatus.ERASED)
            .select_related("community__organisation")
        )

    @extend_schema(summary="One member with their current consent per purpose")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Correct a member's name, language or attributes",
        request=MemberUpdateInputSerializer,
        responses={200: MemberOutputSerializer, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "A new city, and the age band cleared",
                request_only=True,
                value={"attributes": {"city": "tokyo", "age_band": None}},
            )
        ],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        member = self.get_object()
        data = MemberUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            member_update(
                member=member,
                name=fields.get("name", member.name),
                locale=fields.get("locale", member.locale),
                attributes=fields.get("attributes", {}),
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc, nest="attributes", top_level={"name", "locale"}) from None
        member = self.get_queryset().get(pk=member.pk)
        return DRFResponse(self.get_serializer(member).data)


class CommunitySegmentListAPI(_CommunityAPI, generics.ListAPIView):
    model = Segment
    serializer_class = SegmentOutputSerializer
    pagination_class = IdPagination

    def scope_queryset(self, queryset: QuerySet[Segment]) -> QuerySet[Segment]:
        return queryset.filter(community=self.get_community())

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.member_counts = segment_counts(community=self.get_community(), segments=page or [])
        return page

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["member_counts"] = getattr(self, "member_counts", {})
        return context

    @extend_schema(summary="A community's segments with their live member counts")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SegmentMemberListAPI(_CommunityAPI, generics.ListAPIView):
    model = Member
    serializer_class = MemberOutputSerializer
    pagination_class = IdPagination

    def scope_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        del queryset  # the segment selects; the base keeps the result to this organisation
        segment = get_object_or_404(
            Segment.objects.for_organisation(self.organisation).select_related(
                "community__organisation"
            ),
            pk=self.kwargs["pk"],
        )
        return self.members_for_output(
            _segment_members(community=segment.community, segment=segment)
        )

    @extend_schema(
        summary="The members a segment selects now",
        responses={200: MemberOutputSerializer(many=True), 409: SEGMENT_STALE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
