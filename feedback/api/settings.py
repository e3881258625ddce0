"""The case settings API: teams, root causes and the service level of each priority.

Everyone who works cases (owners, admins, agents, or an API key with "cases:read") reads
them; owners and admins (or a key with "cases:write") change them, as on the staff
settings pages. Each change is one audited service call (feedback.services.teams); the
conventions every API view shares (problems, rate limits, scopes, Idempotency-Key) come
from the scoped base view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response as DRFResponse

from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    Unprocessable,
    service_refusal,
)
from communities.models import User
from communities.permissions import can_manage, can_work_cases
from communities.scoping import OrganisationScopedAPIView
from config.api_pagination import StrictCursorPagination
from feedback.choices import CasePriority
from feedback.models import RootCause, SlaPolicy, Team
from feedback.services.teams import (
    SLA_MINUTES_MAX,
    root_cause_delete,
    root_cause_save,
    sla_policy_delete,
    sla_policy_save,
    team_delete,
    team_save,
)

UNPROCESSABLE = OpenApiResponse(
    description="Valid JSON this organisation refuses: a name taken, someone who does not "
    "work cases here, a first response due after the resolution."
)
CONFLICT = OpenApiResponse(description="The change clashes with the data (see `code`).")
TEAM_MEMBERS_MAX = 500


class SettingsPagination(StrictCursorPagination):
    ordering = ("id",)
    page_size = 100


# --- serializers -------------------------------------------------------------------------


class TeamOutputSerializer(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="lead_id", allow_null=True, read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ("id", "name", "lead", "members", "created_at", "updated_at")
        read_only_fields = fields

    def get_members(self, team: Team) -> list[int]:
        return sorted(member.pk for member in team.members.all())


class TeamInputSerializer(StrictInput):
    name = StrictCharField(max_length=100)
    lead = StrictIntegerField(allow_null=True, required=False, min_value=1)
    members = serializers.ListField(
        child=StrictIntegerField(min_value=1), required=False, max_length=TEAM_MEMBERS_MAX
    )


class TeamUpdateSerializer(TeamInputSerializer):
    name = StrictCharField(max_length=100, required=False)


class RootCauseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RootCause
        fields = ("id", "name", "active", "created_at", "updated_at")
        read_only_fields = fields


class RootCauseInputSerializer(StrictInput):
    name = StrictCharField(max_length=100)
    active = StrictBooleanField(required=False, default=True)


class RootCauseUpdateSerializer(StrictInput):
    name = StrictCharField(max_length=100, required=False)
    active = StrictBooleanField(required=False)


class SlaPolicyOutputSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    first_response_minutes = serializers.IntegerField()
    resolution_minutes = serializers.IntegerField()
    default = serializers.BooleanField(
        help_text="true: the organisation set no targets for this priority; these are "
        "Chorus's defaults."
    )


class SlaPolicyInputSerializer(StrictInput):
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    first_response_minutes = StrictIntegerField(min_value=1, max_value=SLA_MINUTES_MAX)
    resolution_minutes = StrictIntegerField(min_value=1, max_value=SLA_MINUTES_MAX)


class SlaPolicyUpdateSerializer(StrictInput):
    first_response_minutes = StrictIntegerField(
        min_value=1, max_value=SLA_MINUTES_MAX, required=False
    )
    resolution_minutes = StrictIntegerField(min_value=1, max_value=SLA_MINUTES_MAX, required=False)


def _checked(serializer: serializers.Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views -------------------------------------------------------------------------------


class _SettingsAPI(OrganisationScopedAPIView):
    """Read by case workers, changed by owners and admins; API keys by "cases" scopes."""

    api_area = "cases"
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_work_cases)
    write_permission = staticmethod(can_manage)
    pagination_class = SettingsPagination

    def actor(self) -> User | None:
        return None if self.api_token is not None else self.request.user

    def staff(self, ids: list[int] | None) -> list[User]:
        """The users named by id; an unknown id is refused as someone not working cases
        here (the service checks the rest), never looked up in another organisation."""
        ids = list(dict.fromkeys(ids or []))
        users = list(User.objects.filter(pk__in=ids))
        if len(users) != len(ids):
            raise Unprocessable(
                {"members": ["Pick people of this organisation who work cases."]},
                code="not_case_staff",
            )
        return users


class TeamListAPI(_SettingsAPI, generics.ListAPIView):
    model = Team
    serializer_class = TeamOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Team]) -> QuerySet[Team]:
        return queryset.prefetch_related("members")

    @extend_schema(summary="List the organisation's teams")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a team",
        description="A name unique in the organisation (any case), a lead and members who "
        "work cases here (owners, admins, agents); the lead is made a member.",
        request=TeamInputSerializer,
        responses={201: TeamOutputSerializer, 422: UNPROCESSABLE},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        data = _checked(TeamInputSerializer(data=request.data))
        lead_id = data.get("lead")
        lead = self.staff([lead_id])[0] if lead_id else None
        try:
            team = team_save(
                organisation=self.organisation,
                actor=self.actor(),
                name=data["name"],
                lead=lead,
                members=self.staff(data.get("members")),
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        location = reverse("api:case_team_detail", args=[self.organisation.slug, team.pk])
        fresh = Team.objects.prefetch_related("members").get(pk=team.pk)
        return DRFResponse(
            TeamOutputSerializer(fresh).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class TeamDetailAPI(_SettingsAPI, generics.RetrieveAPIView):
    model = Team
    serializer_class = TeamOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Team]) -> QuerySet[Team]:
        return queryset.prefetch_related("members").select_related("lead")

    @extend_schema(summary="One team")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change a team",
        description="Fields left out keep their value; `members` replaces the list.",
        request=TeamUpdateSerializer,
        responses={200: TeamOutputSerializer, 422: UNPROCESSABLE},
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        team = self.get_object()
        data = _checked(TeamUpdateSerializer(data=request.data))
        if "lead" in data:
            lead = self.staff([data["lead"]])[0] if data["lead"] else None
        else:
            lead = team.lead
        members = self.staff(data["members"]) if "members" in data else list(team.members.all())
        try:
            team_save(
                organisation=self.organisation,
                actor=self.actor(),
                name=data.get("name", team.name),
                lead=lead,
                members=members,
                team=team,
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        fresh = Team.objects.prefetch_related("members").get(pk=team.pk)
        return DRFResponse(TeamOutputSerializer(fresh).data)

    @extend_schema(
        summary="Delete a team", description="Its cases stay, with no team.", responses={204: None}
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        team_delete(team=self.get_object(), actor=self.actor())
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)


class RootCauseListAPI(_SettingsAPI, generics.ListAPIView):
    model = RootCause
    serializer_class = RootCauseOutputSerializer

    @extend_schema(summary="List the organisation's root causes (retired ones too)")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a root cause",
        description="A name unique in the organisation (any case).",
        request=RootCauseInputSerializer,
        responses={201: RootCauseOutputSerializer, 422: UNPROCESSABLE},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        data = _checked(RootCauseInputSerializer(data=request.data))
        try:
            cause = root_cause_save(
                organisation=self.organisation,
                actor=self.actor(),
                name=data["name"],
                active=data["active"],
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        location = reverse("api:case_root_cause_detail", args=[self.organisation.slug, cause.pk])
        return DRFResponse(
            RootCauseOutputSerializer(cause).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class RootCauseDetailAPI(_SettingsAPI, generics.RetrieveAPIView):
    model = RootCause
    serializer_class = RootCauseOutputSerializer

    @extend_schema(summary="One root cause")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Rename or retire a root cause",
        description="`active: false` retires it: no longer offered when resolving, kept on "
        "the cases filed under it.",
        request=RootCauseUpdateSerializer,
        responses={200: RootCauseOutputSerializer, 422: UNPROCESSABLE},
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        cause = self.get_object()
        data = _checked(RootCauseUpdateSerializer(data=request.data))
        try:
            cause = root_cause_save(
                organisation=self.organisation,
                actor=self.actor(),
                name=data.get("name", cause.name),
                active=data.get("active", cause.active),
                root_cause=cause,
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(RootCauseOutputSerializer(cause).data)

    @extend_schema(
        summary="Delete a root cause no case is filed under",
        description="One that cases are filed under is retired instead (409, `in_use`).",
        responses={204: None, 409: CONFLICT},
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        try:
            root_cause_delete(root_cause=self.get_object(), actor=self.actor())
        except DjangoValidationError as exc:
            return DRFResponse(
                {"detail": exc.messages[0], "code": "in_use"}, status=status.HTTP_409_CONFLICT
            )
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)


def _policy_rows(organisation_id: int) -> list[dict[str, Any]]:
    """Every priority's targets: the organisation's own, else the defaults."""
    own = {p.priority: p for p in SlaPolicy.objects.filter(organisation_id=organisation_id)}
    rows = []
    for priority in CasePriority.values:
        if priority in own:
            policy = own[priority]
            first, resolution, default = (
                policy.first_response_minutes,
                policy.resolution_minutes,
                False,
            )
        else:
            fallback = (
                settings.CASES_SLA_DEFAULTS.get(priority) or settings.CASES_SLA_DEFAULTS["normal"]
            )
            first, resolution, default = fallback["first_response"], fallback["resolution"], True
        rows.append(
            {
                "priority": priority,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "default": default,
            }
        )
    return rows


class SlaPolicyListAPI(_SettingsAPI):
    model = SlaPolicy
    pagination_class = None

    @extend_schema(
        summary="Each priority's service level",
        description="First response and resolution targets in business minutes, one row "
        "per priority (the defaults where the organisation set none).",
        responses={200: SlaPolicyOutputSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return DRFResponse(_policy_rows(self.organisation.pk))

    @extend_schema(
        summary="Set a priority's service level",
        description="409 (`exists`) when the priority has its own targets already: change "
        "them with PATCH …/sla-policies/<priority>/. Cases already open keep their due "
        "times.",
        request=SlaPolicyInputSerializer,
        responses={201: SlaPolicyOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        data = _checked(SlaPolicyInputSerializer(data=request.data))
        if SlaPolicy.objects.filter(
            organisation=self.organisation, priority=data["priority"]
        ).exists():
            return DRFResponse(
                {"detail": "This priority has its own targets already.", "code": "exists"},
                status=status.HTTP_409_CONFLICT,
            )
        try:
            sla_policy_save(organisation=self.organisation, actor=self.actor(), **data)
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        row = next(
            r for r in _policy_rows(self.organisation.pk) if r["priority"] == data["priority"]
        )
        location = reverse(
            "api:case_sla_policy_detail", args=[self.organisation.slug, data["priority"]]
        )
        return DRFResponse(row, status=status.HTTP_201_CREATED, headers={"Location": location})


class SlaPolicyDetailAPI(_SettingsAPI):
    model = SlaPolicy

    def policy(self) -> SlaPolicy:
        return generics.get_object_or_404(
            SlaPolicy.objects.filter(organisation=self.organisation),
            priority=self.kwargs["priority"],
        )

    @extend_schema(
        summary="One priority's service level", responses={200: SlaPolicyOutputSerializer}
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        for row in _policy_rows(self.organisation.pk):
            if row["priority"] == kwargs["priority"]:
                return DRFResponse(row)
        raise Http404

    @extend_schema(
        summary="Change a priority's service level",
        request=SlaPolicyUpdateSerializer,
        responses={200: SlaPolicyOutputSerializer, 422: UNPROCESSABLE},
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        policy = self.policy()
        data = _checked(SlaPolicyUpdateSerializer(data=request.data))
        try:
            sla_policy_save(
                organisation=self.organisation,
                actor=self.actor(),
                priority=policy.priority,
                first_response_minutes=data.get(
                    "first_response_minutes", policy.first_response_minutes
                ),
                resolution_minutes=data.get("resolution_minutes", policy.resolution_minutes),
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return self.get(request, *args, **kwargs)

    @extend_schema(
        summary="Remove a priority's own service level",
        description="Cases opened from now on get the defaults.",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        sla_policy_delete(policy=self.policy(), actor=self.actor())
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)
