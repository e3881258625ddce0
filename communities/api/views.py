from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import (
    APIException,
    Throttled,
    ValidationError,
)
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response as DRFResponse

from communities import flows
from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import (
    CommunityOutputSerializer,
    DuplicateMemberSerializer,
    MemberCreateInputSerializer,
    MemberInviteInputSerializer,
    MemberOutputSerializer,
    MemberUpdateInputSerializer,
    SegmentOutputSerializer,
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
from communities.services.attributes import community_attributes
from communities.services.common import email_normalise
from communities.services.members import member_create, member_update
from communities.services.segments import segment_filter_clean
from config.ratelimit import rate_limited

# --- communities, members and segments: what a CRM syncs -------------------------------------

# Writes per organisation per minute, keys and staff together: a CRM's nightly sync at full
# speed stays under it, a runaway loop does not.
API_WRITES_PER_MINUTE = 600
# Invitations send email, so they share the staff page's hourly budget (same scope and key).
INVITES_PER_HOUR = 200
FILTER_PARAMS = ("search", "active_within_days", "inactive_for_days", "joined_within_days")
ATTRIBUTE_PARAM = "attr."


class IdPagination(CursorPagination):
    """Oldest first by id: rows added while a sync pages through land on later pages
    instead of shifting earlier ones, so nothing is skipped or read twice."""

    ordering = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class _CommunityAPI(OrganisationScopedAPIView):
    """Staff (owners, admins, analysts read; owners and admins write) or an API key."""

    api_area = "members"

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS and rate_limited(
            scope="api-write",
            key=str(self.organisation.pk),
            limit=API_WRITES_PER_MINUTE,
            window=60,
        ):
            raise Throttled(wait=60)

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


def _service_errors(exc: DjangoValidationError, *, top_level: set[str]) -> ValidationError:
    """A service's ValidationError as a 400 body: fields in `top_level` stay where they are,
    every other key is an attribute's and goes under "attributes"."""
    if not hasattr(exc, "error_dict"):
        return ValidationError({"non_field_errors": exc.messages})
    body: dict = {}
    for key, messages in exc.message_dict.items():
        if key in top_level or key == "__all__":
            body["non_field_errors" if key == "__all__" else key] = messages
        else:
            body.setdefault("attributes", {})[key] = messages
    return ValidationError(body)


MEMBER_FILTER_PARAMETERS = [
    OpenApiParameter(
        "status",
        str,
        many=True,
        enum=[value for value in MemberStatus.values if value != MemberStatus.ERASED],
        description="Member status; repeat for several (any of them).",
    ),
    OpenApiParameter("search", str, description="Part of the name or email address."),
    OpenApiParameter("segment", int, description="A segment of the same community."),
    OpenApiParameter("active_within_days", int, description="Active in the last N days."),
    OpenApiParameter("inactive_for_days", int, description="Not active for N days."),
    OpenApiParameter("joined_within_days", int, description="Joined in the last N days."),
    OpenApiParameter(
        "attr.<key>",
        str,
        description=(
            "An attribute equals this value, e.g. attr.city=Bangkok; repeat a choice or "
            "text attribute for any of several values."
        ),
    ),
]


@extend_schema_view(
    get=extend_schema(summary="List the organisation's communities"),
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


@extend_schema_view(get=extend_schema(summary="One community with its member counts"))
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
            raise ValidationError({key: ["Not a filter this list knows."] for key in unknown})
        raw: dict = {key: query[key] for key in FILTER_PARAMS if key in query}
        if query.getlist("status"):
            raw["status"] = query.getlist("status")
        kinds = {d.key: d.kind for d in definitions}
        attributes = {}
        for param in query:
            if not param.startswith(ATTRIBUTE_PARAM):
                continue
            key, values = param[len(ATTRIBUTE_PARAM) :], query.getlist(param)
            if kinds.get(key) in (AttributeKind.NUMBER, AttributeKind.DATE):
                # "Equals" for an ordered value is both bounds at once.
                if len(values) > 1:
                    raise ValidationError({param: ["Give one value for this attribute."]})
                attributes[key] = {"gte": values[0], "lte": values[0]}
            else:
                attributes[key] = {"in": values}
        if attributes:
            raw["attributes"] = attributes
        try:
            clean = segment_filter_clean(community=community, filter=raw, definitions=definitions)
        except DjangoValidationError as exc:
            raise ValidationError(
                {
                    (
                        ATTRIBUTE_PARAM + key.removeprefix("attributes.")
                        if key.startswith("attributes.")
                        else key
                    ): messages
                    for key, messages in exc.message_dict.items()
                }
            ) from None
        return clean

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
                .filter(community=community, pk=segment_id if segment_id.isdigit() else None)
                .first()
            )
            if segment is None:
                raise ValidationError({"segment": ["No such segment in this community."]})
            members = members & _segment_members(community=community, segment=segment)
        return self.members_for_output(members)

    @extend_schema(summary="List a community's members", parameters=MEMBER_FILTER_PARAMETERS)
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
        responses={201: MemberOutputSerializer, 409: DuplicateMemberSerializer},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        community = self.get_community()
        data = MemberCreateInputSerializer(
            data=request.data,
            context={
                "community": community,
                "definitions": community_attributes(community=community),
            },
        )
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        existing = _existing_member(community, fields["email"])
        if existing is not None:
            return _duplicate(existing)
        try:
            member = member_create(
                community=community,
                email=fields["email"],
                name=fields.get("name", ""),
                locale=fields.get("locale", ""),
                attributes=fields["attributes"],
                consent_channel=ConsentChannel.API,
                marketing=fields["marketing"],
            )
        except DjangoValidationError as exc:
            # Another request added the address between the check and the write.
            existing = _existing_member(community, fields["email"])
            if existing is not None:
                return _duplicate(existing)
            raise _service_errors(exc, top_level={"email", "name", "locale"}) from None
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
            "detail": "This address is already a member of this community.",
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
        responses={201: MemberOutputSerializer, 409: DuplicateMemberSerializer},
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
            raise _service_errors(exc, top_level={"email", "name", "locale"}) from None
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
        responses={200: MemberOutputSerializer},
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
            raise _service_errors(exc, top_level={"name", "locale"}) from None
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

    @extend_schema(summary="The members a segment selects now")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
