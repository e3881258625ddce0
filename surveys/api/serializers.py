from django.conf import settings
from rest_framework import serializers

from surveys.choices import EventOutcome, TriggerEvent
from surveys.models import Answer, Question, Response, Survey, SurveyEvent
from surveys.services.events import EVENT_SKIP_TEXT, event_contact_allowed_after


class QuestionOutputSerializer(serializers.ModelSerializer):
    choices = serializers.SerializerMethodField()

    class Meta:
        model = Question
        fields = ["id", "position", "type", "text", "required", "settings", "choices"]

    def get_choices(self, question: Question) -> list[dict]:
        return [{"id": c.pk, "label": c.label} for c in question.choices.all()]


class SurveyOutputSerializer(serializers.ModelSerializer):
    questions = QuestionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "public_id",
            "title",
            "kind",
            "status",
            "anonymity",
            "points",
            "languages",
            "opens_at",
            "closes_at",
            "questions",
        ]


class AnswerOutputSerializer(serializers.ModelSerializer):
    choice_ids = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["question_id", "question_type", "number", "choice_ids", "text", "sentiment"]

    def get_choice_ids(self, answer: Answer) -> list[int]:
        return [c.pk for c in answer.choices.all()]


class ResponseOutputSerializer(serializers.ModelSerializer):
    answers = AnswerOutputSerializer(many=True, read_only=True)
    member_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "submitted_at",
            "language",
            "is_anonymous",
            "consent_to_contact",
            "member_id",
            "channel_id",
            "location_id",
            "answers",
        ]


class EventInputSerializer(serializers.Serializer):
    """An event another system reports: who to survey about what, and when."""

    type = serializers.ChoiceField(choices=TriggerEvent.choices)
    external_ref = serializers.CharField(max_length=200)
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

    processed_at = serializers.DateTimeField(read_only=True)
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
