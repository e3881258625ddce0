"""The cases API's shapes: a case in the inbox, a case with its response and timeline, and
the bodies of assign, status and note.

What a case says about its respondent honours how they answered: nothing about the person
behind an anonymous response, and their address only where they agreed to be contacted
about the answer and have not withdrawn it (feedback.services.followup_recipient).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from communities.api.serializers import StrictInput
from feedback.choices import CASE_DONE_STATUSES, CaseEventKind, CasePriority, CaseStatus
from feedback.models import Case, CaseEvent
from feedback.reasons import CODES, reason_render
from feedback.services import followup_recipient
from feedback.services.cases import NOTE_MAX_LENGTH, RESOLUTION_MAX_LENGTH
from feedback.timeline import case_event_actor, case_event_body, case_event_text
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Answer, Response

# Some character that is not white space (a note or resolution of spaces says nothing), and
# no NUL anywhere (PostgreSQL cannot store it): the schema's pattern is the server's check.
SOMETHING_WRITTEN = r"^[^\x00]*[^\x00\s][^\x00]*$"
# The largest id the databases store (a bigint): a larger number names nothing.
ID_MAX = 2**63 - 1


class StaffPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The staff member's name, else their email address.")


def _staff_person(user) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.name or user.email} if user is not None else None


@extend_schema_field({"type": ["number", "null"]})
class NumberField(serializers.Field):
    """A number as stored: a whole score stays whole (6, not 6.0), a sentiment keeps its
    fraction."""

    def to_representation(self, value: Any) -> int | float | None:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def get_attribute(self, instance: Any) -> Any:
        return instance.get(self.source) if isinstance(instance, dict) else None


class CaseReasonSerializer(serializers.Serializer):
    """One follow-up rule that matched, as data and in words."""

    code = serializers.ChoiceField(choices=sorted(CODES))
    question = serializers.IntegerField(
        allow_null=True, help_text="The question whose answer matched, when one did."
    )
    value = NumberField(help_text="The score, the sentiment, or the chosen choice's id.")
    threshold = NumberField(help_text="The rule's threshold (none for a chosen choice).")
    text = serializers.SerializerMethodField(help_text="The reason in the caller's language.")

    def get_text(self, reason: dict) -> str:
        return reason_render(reason)


class CaseSurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(source="title_text")


class CaseOutputSerializer(serializers.ModelSerializer):
    """A case as the inbox lists it."""

    status = serializers.ChoiceField(choices=CaseStatus.choices)
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    reasons = serializers.SerializerMethodField()
    reason_text = serializers.CharField(
        source="reason", help_text="Why the case was opened, in the caller's language."
    )
    survey = CaseSurveySerializer(source="response.survey")
    response_id = serializers.IntegerField()
    is_anonymous = serializers.BooleanField(
        source="response.is_anonymous",
        help_text="The response was given anonymously: nothing about the person is shown.",
    )
    assignee = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField(
        help_text="Past its due time and not resolved.",
    )
    root_cause = serializers.SerializerMethodField(
        help_text="The root cause it was resolved under (its name, as the organisation wrote it)."
    )
    team_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "status",
            "priority",
            "reasons",
            "reason_text",
            "survey",
            "response_id",
            "is_anonymous",
            "assignee",
            "due_at",
            "first_response_due_at",
            "first_response_at",
            "overdue",
            "team_id",
            "root_cause",
            "resolution",
            "resolved_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(CaseReasonSerializer(many=True))
    def get_reasons(self, case: Case) -> list[dict]:
        reasons = [r for r in case.reasons or [] if isinstance(r, dict) and r.get("code") in CODES]
        return CaseReasonSerializer(reasons, many=True).data

    @extend_schema_field(StaffPersonSerializer(allow_null=True))
    def get_assignee(self, case: Case) -> dict | None:
        return _staff_person(case.assignee)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_root_cause(self, case: Case) -> str | None:
        return case.root_cause.name if case.root_cause_id else None

    def get_overdue(self, case: Case) -> bool:
        return (
            case.status not in CASE_DONE_STATUSES
            and case.due_at is not None
            and case.due_at < timezone.now()
        )


class AnswerChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(help_text="In the response's language, else the survey's.")


class CaseAnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    question_type = serializers.ChoiceField(choices=QuestionType.choices)
    question_text = serializers.SerializerMethodField()
    number = serializers.IntegerField(allow_null=True)
    choices = serializers.SerializerMethodField()
    text = serializers.CharField(allow_blank=True)
    sentiment = serializers.FloatField(
        allow_null=True, help_text="The text's polarity, -1 (negative) to 1 (positive)."
    )

    def get_question_text(self, answer: Answer) -> str:
        return answer.question.text_for(answer.response.language)

    @extend_schema_field(AnswerChoiceSerializer(many=True))
    def get_choices(self, answer: Answer) -> list[dict]:
        language = answer.response.language
        return [{"id": c.pk, "label": c.label_for(language)} for c in answer.choices.all()]


class CaseChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ChannelKind.choices)


class CaseLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RespondentSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(
        allow_null=True, help_text="The community member who answered, when one did."
    )
    name = serializers.CharField(allow_blank=True)
    email = serializers.EmailField(
        allow_null=True,
        help_text=(
            "Only when the respondent agreed to be contacted about this answer and has not "
            "withdrawn that consent (nor unsubscribed); else null."
        ),
    )


class CaseResponseSerializer(serializers.Serializer):
    """The response a case was opened on."""

    id = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    language = serializers.CharField()
    is_anonymous = serializers.BooleanField()
    consent_to_contact = serializers.BooleanField(
        help_text="The respondent ticked “contact me about my answers”."
    )
    channel = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    respondent = serializers.SerializerMethodField(
        help_text="Who answered; null for an anonymous response (or one nobody is known for)."
    )
    answers = CaseAnswerSerializer(many=True, source="answers.all")

    @extend_schema_field(CaseChannelSerializer(allow_null=True))
    def get_channel(self, response: Response) -> dict | None:
        if response.channel_id is None:
            return None
        return {"id": response.channel_id, "kind": response.channel.kind}

    @extend_schema_field(CaseLocationSerializer(allow_null=True))
    def get_location(self, response: Response) -> dict | None:
        if response.location_id is None:
            return None
        return {"id": response.location_id, "name": response.location.name}

    @extend_schema_field(RespondentSerializer(allow_null=True))
    def get_respondent(self, response: Response) -> dict | None:
        if response.is_anonymous:
            return None
        member = response.member if response.member_id else None
        if member is None and response.invitation_id is None:
            return None
        return {
            "member_id": member.pk if member is not None else None,
            "name": member.name if member is not None and not member.erased_at else "",
            "email": followup_recipient(response=response),
        }


class CaseEventActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            ("staff", "A staff member"),
            ("api_key", "An API key"),
            ("system", "Chorus itself (the follow-up rules), or a person since removed"),
        ]
    )
    id = serializers.IntegerField(allow_null=True, help_text="The staff member's user id.")
    name = serializers.CharField(help_text="Who, in the caller's language.")


class CaseEventOutputSerializer(serializers.ModelSerializer):
    """One entry of a case's timeline; the fields a kind does not use are null."""

    kind = serializers.ChoiceField(choices=CaseEventKind.choices)
    text = serializers.SerializerMethodField(help_text="What happened, in the caller's language.")
    actor = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField(
        help_text="What a person wrote with it: a note's text, or how the case was resolved."
    )
    status_from = serializers.SerializerMethodField()
    status_to = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField(
        help_text="Whom the case was given to (null: to nobody)."
    )
    previous_assignee = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "kind",
            "created_at",
            "text",
            "actor",
            "body",
            "status_from",
            "status_to",
            "assignee",
            "previous_assignee",
        ]

    def get_text(self, event: CaseEvent) -> str:
        return case_event_text(event)

    @extend_schema_field(CaseEventActorSerializer)
    def get_actor(self, event: CaseEvent) -> dict:
        if event.actor_id is not None:
            kind = "staff"
        elif event.data.get("api_key"):
            kind = "api_key"
        else:
            kind = "system"
        return {"type": kind, "id": event.actor_id, "name": case_event_actor(event)}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body(self, event: CaseEvent) -> str | None:
        return case_event_body(event) or None

    def _status(self, event: CaseEvent, key: str) -> str | None:
        if event.kind != CaseEventKind.STATUS_CHANGED:
            return None
        value = event.data.get(key)
        return value if value in CaseStatus.values else None

    @extend_schema_field(serializers.ChoiceField(choices=CaseStatus.choices, allow_null=True))
    def get_status_from(self, event: CaseEvent) -> str | None:
        return self._status(event, "from")

    @extend_schema_field(serializers.ChoiceField(choices=CaseStatus.choices, allow_null=True))
    def get_status_to(self, event: CaseEvent) -> str | None:
        return self._status(event, "to")

    def _person(self, event: CaseEvent, key: str) -> dict | None:
        if event.kind != CaseEventKind.ASSIGNED or event.data.get(key) is None:
            return None
        return {"id": event.data[key], "name": event.data.get(f"{key}_name") or ""}

    @extend_schema_field(StaffPersonSerializer(allow_null=True))
    def get_assignee(self, event: CaseEvent) -> dict | None:
        return self._person(event, "assignee")

    @extend_schema_field(StaffPersonSerializer(allow_null=True))
    def get_previous_assignee(self, event: CaseEvent) -> dict | None:
        return self._person(event, "previous")


class CaseDetailOutputSerializer(CaseOutputSerializer):
    """A case with the response it was opened on and its timeline, oldest event first."""

    response = CaseResponseSerializer()
    timeline = CaseEventOutputSerializer(many=True, source="events.all")

    class Meta(CaseOutputSerializer.Meta):
        fields = [*CaseOutputSerializer.Meta.fields, "response", "timeline"]


# --- list filters ------------------------------------------------------------------------


class CaseListQuerySerializer(serializers.Serializer):
    """The inbox's filters (query parameters); each narrows the list, all together."""

    status = serializers.ListField(
        child=serializers.ChoiceField(choices=CaseStatus.choices),
        required=False,
        help_text="Any of these statuses (repeat the parameter for several).",
    )
    priority = serializers.ListField(
        child=serializers.ChoiceField(choices=CasePriority.choices),
        required=False,
        help_text="Any of these priorities (repeat the parameter for several).",
    )
    assignee = serializers.RegexField(
        r"^(me|none|[0-9]{1,18})$",
        required=False,
        help_text=(
            "A staff member's user id; `me` for the caller's own cases (none for an API "
            "key, which is no person); `none` for unassigned cases."
        ),
    )
    survey = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    created_after = serializers.DateTimeField(
        required=False, help_text="Opened at or after this time."
    )
    created_before = serializers.DateTimeField(required=False, help_text="Opened before this time.")
    overdue = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: past due and not resolved; false: the others.",
    )


# --- writes ------------------------------------------------------------------------------


class CaseAssignInputSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        max_value=ID_MAX,
        help_text=(
            "The user id of a staff member of this organisation who works cases (an owner, "
            "admin or agent); null to unassign."
        ),
    )


class CasePriorityInputSerializer(StrictInput):
    # A PATCH names only what changes: without a priority the case is answered unchanged.
    priority = serializers.ChoiceField(
        choices=CasePriority.choices,
        required=False,
        help_text=(
            "low, normal or high; the case's first-response and resolution due times are "
            "worked out again from the organisation's service level for that priority."
        ),
    )


class CaseStatusPickSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)


class CaseMoveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(v, label) for v, label in CaseStatus.choices if v != CaseStatus.RESOLVED],
        help_text=(
            "new, open, waiting (on the customer) or closed (from resolved); a resolved or "
            "closed case may only be reopened (open) or, once resolved, closed."
        ),
    )


class CaseResolveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(CaseStatus.RESOLVED, CaseStatus.RESOLVED.label)])
    resolution = serializers.RegexField(
        SOMETHING_WRITTEN,
        max_length=RESOLUTION_MAX_LENGTH,
        help_text="How the case was resolved; required to resolve.",
    )
    root_cause = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        help_text="The id of one of the organisation's root causes; required to resolve.",
    )


def case_status_input(data: Any) -> dict[str, Any]:
    """A status change's body validated as its schema (CASE_STATUS_INPUT_SCHEMA) says: the
    status picks the shape, resolving with a resolution, any other status without one (a
    resolution sent with it is not read). Raises ValidationError (400) otherwise."""
    picked = CaseStatusPickSerializer(data=data)
    picked.is_valid(raise_exception=True)
    resolving = picked.validated_data["status"] == CaseStatus.RESOLVED
    shape = (CaseResolveInputSerializer if resolving else CaseMoveInputSerializer)(data=data)
    shape.is_valid(raise_exception=True)
    return {"resolution": "", "root_cause": None, **shape.validated_data}


class ShapesBySerializer(PolymorphicProxySerializer):
    """A body that is one of several shapes, told apart by a field every shape requires."""


class ShapesBySerializerExtension(PolymorphicProxySerializerExtension):
    """drf-spectacular's oneOf, plus the telling field as required: a body must then be
    sent (drf-spectacular cannot see that a oneOf of required shapes requires one)."""

    target_class = ShapesBySerializer
    priority = 1

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        return {**schema, "required": [self.target.resource_type_field_name]}


CASE_STATUS_INPUT_SCHEMA = ShapesBySerializer(
    component_name="CaseStatusChangeInput",
    serializers={
        CaseStatus.NEW.value: CaseMoveInputSerializer,
        CaseStatus.OPEN.value: CaseMoveInputSerializer,
        CaseStatus.WAITING.value: CaseMoveInputSerializer,
        CaseStatus.RESOLVED.value: CaseResolveInputSerializer,
        CaseStatus.CLOSED.value: CaseMoveInputSerializer,
    },
    resource_type_field_name="status",
)


class CaseNoteInputSerializer(serializers.Serializer):
    body = serializers.RegexField(
        SOMETHING_WRITTEN,
        max_length=NOTE_MAX_LENGTH,
        help_text="The note, as staff will read it on the case's timeline.",
    )
