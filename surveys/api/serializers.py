from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.api.texts import (
    LANGUAGE_CODES,
    ChoiceLabels,
    QuestionTexts,
    ScaleLabels,
    ThankYouTexts,
    TitleTexts,
)
from surveys.choices import Condition, EventOutcome, SurveyPhase, TriggerEvent
from surveys.models import Choice, Question, Survey, SurveyEvent
from surveys.services.events import EVENT_SKIP_TEXT, event_contact_allowed_after


class ShowIfSerializer(serializers.Serializer):
    """Show the question only when an earlier question's answer meets this: a score or yes/no
    (1/0) compared with `values[0]` ("lte", "gte", "eq") or any of `values` ("in"), or a
    choice question's answer being any of the choice ids in `values` (op "in")."""

    question = serializers.IntegerField(help_text="The earlier question's id.")
    op = serializers.ChoiceField(choices=Condition.choices)
    values = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class QuestionSettingsSerializer(serializers.Serializer):
    """A question's settings; each applies to some types only and is null elsewhere."""

    min = serializers.IntegerField(allow_null=True, help_text="A rating scale's low end.")
    max = serializers.IntegerField(allow_null=True, help_text="A rating scale's high end.")
    min_label = ScaleLabels(allow_null=True, help_text="NPS and rating scales.")
    max_label = ScaleLabels(allow_null=True, help_text="NPS and rating scales.")
    other = serializers.BooleanField(help_text='Choice questions: offer an "other" text box.')
    show_if = ShowIfSerializer(allow_null=True)


def question_settings_output(stored: dict) -> dict:
    """A question's stored settings in the API's shape (QuestionSettingsSerializer)."""
    rule = stored.get("show_if")
    if rule:
        value = rule.get("value")
        rule = {
            "question": rule.get("question"),
            "op": rule.get("op"),
            "values": value if isinstance(value, list) else [value],
        }
    return {
        "min": stored.get("min"),
        "max": stored.get("max"),
        "min_label": stored.get("min_label") or None,
        "max_label": stored.get("max_label") or None,
        "other": bool(stored.get("other")),
        "show_if": rule or None,
    }


class ChoiceOutputSerializer(serializers.ModelSerializer):
    label = ChoiceLabels(read_only=True)

    class Meta:
        model = Choice
        fields = ["id", "position", "label"]


class QuestionOutputSerializer(serializers.ModelSerializer):
    text = QuestionTexts(read_only=True)
    settings = serializers.SerializerMethodField()
    choices = ChoiceOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "position", "type", "text", "required", "hidden", "settings", "choices"]

    @extend_schema_field(QuestionSettingsSerializer)
    def get_settings(self, question: Question) -> dict:
        return QuestionSettingsSerializer(question_settings_output(question.settings)).data


class SurveyOutputSerializer(serializers.ModelSerializer):
    """A survey or quick poll (kind "poll") with its questions, hidden ones included (they
    were answered before being removed) and every text in every language it has."""

    title = TitleTexts(read_only=True)
    thank_you = ThankYouTexts(read_only=True)
    phase = serializers.ChoiceField(
        choices=SurveyPhase.choices,
        read_only=True,
        help_text="The status as it stands now: a live survey before its open time is "
        "scheduled, after its close time closed.",
    )
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CODES), read_only=True
    )
    community = serializers.IntegerField(source="community_id", allow_null=True, read_only=True)
    questions = QuestionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "public_id",
            "kind",
            "status",
            "phase",
            "title",
            "thank_you",
            "languages",
            "community",
            "anonymity",
            "points",
            "anonymous_points",
            "allow_multiple_responses",
            "one_question_per_page",
            "opens_at",
            "closes_at",
            "invitation_valid_days",
            "reminder_limit",
            "reminder_interval_days",
            "trigger",
            "created_at",
            "updated_at",
            "questions",
        ]


class EventInputSerializer(serializers.Serializer):
    """An event another system reports: who to survey about what, and when."""

    type = serializers.ChoiceField(choices=TriggerEvent.choices)
    # Something written: the schema's pattern says what the trimming CharField refuses.
    external_ref = serializers.RegexField(r"\S", max_length=200)
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], required=False, default=""
    )
    survey = serializers.IntegerField(required=False, min_value=1)
    delay_minutes = serializers.IntegerField(
        required=False, min_value=0, max_value=60 * 24 * 30, default=0
    )


class EventOutputSerializer(serializers.ModelSerializer):
    """An event and what became of it. Fields were only ever added (integrations read the
    first six): `skipped` is null while the event waits, `skip_reason` is the outcome
    of an event that sent nothing, `skip_reason_text` says it in the caller's language,
    and `contact_allowed_after` is when a person held back by the contact limit may be
    surveyed again."""

    processed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null while the event waits."
    )
    skipped = serializers.SerializerMethodField()
    skip_reason = serializers.SerializerMethodField()
    skip_reason_text = serializers.SerializerMethodField()
    contact_allowed_after = serializers.SerializerMethodField()

    class Meta:
        model = SurveyEvent
        fields = [
            "id",
            "kind",
            "external_ref",
            "outcome",
            "received_at",
            "send_after",
            "processed_at",
            "skipped",
            "skip_reason",
            "skip_reason_text",
            "contact_allowed_after",
        ]

    def get_skipped(self, event: SurveyEvent) -> bool | None:
        if event.outcome == EventOutcome.PENDING:
            return None
        return event.outcome != EventOutcome.INVITED

    def get_skip_reason(self, event: SurveyEvent) -> str | None:
        return event.outcome if event.outcome in EVENT_SKIP_TEXT else None

    def get_skip_reason_text(self, event: SurveyEvent) -> str | None:
        text = EVENT_SKIP_TEXT.get(event.outcome)
        return str(text) if text else None

    def get_contact_allowed_after(self, event: SurveyEvent) -> str | None:
        after = event_contact_allowed_after(event=event)
        return serializers.DateTimeField().to_representation(after) if after else None
