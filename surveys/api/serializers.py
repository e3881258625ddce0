from rest_framework import serializers

from surveys.models import Answer, Question, Response, Survey


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
