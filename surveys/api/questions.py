"""The surveys API: a draft's questions and a choice question's answers to choose from, under
their survey (…/surveys/<pk>/questions/<qid>/choices/<cid>/). Reading works at any status;
writing only in a draft (409 otherwise), with the staff builder's checks."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response as DRFResponse

from communities.api.serializers import Unprocessable
from surveys.api.common import (
    CONFLICT,
    UNPROCESSABLE,
    SurveysAPIView,
    cursor_pagination,
    service_refusal,
)
from surveys.api.inputs import (
    ChoiceInput,
    ChoiceOrderInput,
    ChoiceUpdateInput,
    QuestionCreateInput,
    QuestionOrderInput,
    QuestionUpdateInput,
    checked,
    question_problems,
)
from surveys.api.serializers import (
    ChoiceOutputSerializer,
    QuestionOutputSerializer,
    SurveyOutputSerializer,
)
from surveys.api.surveys import surveys_with_questions
from surveys.api.texts import texts_merged
from surveys.choices import Condition
from surveys.models import Choice, Question, Survey
from surveys.services.authoring import (
    choice_add_audited,
    choice_delete_audited,
    choice_update_audited,
    choices_reorder_audited,
    question_add_audited,
    question_delete_audited,
    question_update_audited,
    questions_reorder_audited,
)

QuestionPagination = cursor_pagination("QuestionPagination", ("position",), 100, 100)
ChoicePagination = cursor_pagination("ChoicePagination", ("position",), 50, 100)
QUESTION_RENAMES = {"show_if": "settings.show_if"}

QUESTION_EXAMPLE = OpenApiExample(
    "A rating scale from 1 to 7",
    request_only=True,
    value={
        "type": "rating",
        "text": {"en": "How easy was it to order?", "ja": "注文は簡単でしたか？"},
        "required": True,
        "settings": {
            "min": 1,
            "max": 7,
            "min_label": {"en": "Hard", "ja": "難しい"},
            "max_label": {"en": "Easy", "ja": "簡単"},
        },
    },
)
CHOICE_QUESTION_EXAMPLE = OpenApiExample(
    "A multiple-choice question shown to detractors",
    request_only=True,
    value={
        "type": "multi_choice",
        "text": {"en": "What should we improve?"},
        "choices": [{"en": "Price"}, {"en": "Speed"}, {"en": "Friendliness"}],
        "settings": {"other": True, "show_if": {"question": 101, "op": "lte", "values": [6]}},
    },
)
ORDER_EXAMPLE = OpenApiExample("A new order", request_only=True, value={"order": [12, 10, 11]})


def settings_for_builder(given: dict[str, Any]) -> dict[str, Any]:
    """Settings in the API's shape as the builder keeps them (show_if's `values` as its
    `value`: the list for "in", else the one number)."""
    stored = dict(given)
    rule = stored.pop("show_if", None)
    if rule:
        values = rule["values"]
        stored["show_if"] = {
            "question": rule["question"],
            "op": rule["op"],
            "value": values if rule["op"] == Condition.ANY_OF else values[0],
        }
    return stored


class _QuestionsAPI(SurveysAPIView):
    """Under a survey of this organisation: its id in the URL, else 404."""

    api_area = "surveys"

    def survey(self) -> Survey:
        if not hasattr(self, "_survey"):
            self._survey = get_object_or_404(
                Survey.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
            )
        return self._survey


class SurveyQuestionListAPI(_QuestionsAPI, generics.ListAPIView):
    model = Question
    serializer_class = QuestionOutputSerializer
    pagination_class = QuestionPagination

    def scope_queryset(self, queryset: QuerySet[Question]) -> QuerySet[Question]:
        self.query_check()
        return queryset.filter(survey=self.survey()).prefetch_related("choices")

    @extend_schema(summary="A survey's questions, in order (hidden ones too)")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a question at the end of a draft",
        description=(
            "Texts in the survey's languages, the first one required. Choice questions "
            "need at least two answers (at most 50); a rating scale runs within 0–10; a "
            "show-if rule looks at an earlier question by id."
        ),
        request=QuestionCreateInput,
        responses={201: QuestionOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[QUESTION_EXAMPLE, CHOICE_QUESTION_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.survey()
        context = {**self.get_serializer_context(), "survey": survey}
        fields = checked(QuestionCreateInput(data=request.data, context=context))
        try:
            question = question_add_audited(
                survey=survey,
                actor=self.actor(),
                type=fields["type"],
                text=fields["text"],
                required=fields["required"],
                settings=settings_for_builder(fields.get("settings", {})),
                choices=fields.get("choices"),
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc, renames=QUESTION_RENAMES) from None
        return DRFResponse(
            QuestionOutputSerializer(_fresh_question(question)).data,
            status=status.HTTP_201_CREATED,
            headers={
                "Location": reverse(
                    "api:survey_question_detail",
                    args=[self.organisation.slug, survey.pk, question.pk],
                )
            },
        )


def _fresh_question(question: Question) -> Question:
    return Question.objects.prefetch_related("choices").get(pk=question.pk)


class SurveyQuestionReorderAPI(_QuestionsAPI):
    model = Survey
    serializer_class = SurveyOutputSerializer

    @extend_schema(
        summary="Put a draft's questions in a new order",
        description="Every question id once; a question with a show-if rule must come "
        "after the question it looks at.",
        request=QuestionOrderInput,
        responses={200: SurveyOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[ORDER_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.survey()
        order = checked(QuestionOrderInput(data=request.data))["order"]
        try:
            questions_reorder_audited(survey=survey, actor=self.actor(), order=order)
        except DjangoValidationError as exc:
            raise service_refusal(exc, field="order") from None
        fresh = surveys_with_questions(Survey.objects.for_organisation(self.organisation))
        return DRFResponse(SurveyOutputSerializer(fresh.get(pk=survey.pk)).data)


class SurveyQuestionDetailAPI(_QuestionsAPI, generics.RetrieveAPIView):
    model = Question
    serializer_class = QuestionOutputSerializer
    lookup_url_kwarg = "qid"

    def scope_queryset(self, queryset: QuerySet[Question]) -> QuerySet[Question]:
        return queryset.filter(survey=self.survey()).prefetch_related("choices")

    @extend_schema(summary="One question of a survey")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change a draft's question",
        description=(
            "Fields left out keep their value; in a text, languages left out keep theirs; "
            "`settings` members left out keep theirs (`show_if: null` removes the rule). "
            "`choices` replaces the answers to choose, by position. A question keeps its type."
        ),
        request=QuestionUpdateInput,
        responses={200: QuestionOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "Translate into Hebrew",
                request_only=True,
                value={"text": {"he": "עד כמה סביר שתמליצו עלינו?"}},
            )
        ],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        question = self.get_object()
        survey = self.survey()
        context = {**self.get_serializer_context(), "question": question}
        given = checked(QuestionUpdateInput(data=request.data, context=context))
        stored = question.settings
        merged_settings = {**stored, **settings_for_builder(given.get("settings", {}))}
        for end in ("min_label", "max_label"):
            if end in given.get("settings", {}):
                merged_settings[end] = texts_merged(stored.get(end), given["settings"][end])
        if given.get("settings", {}).get("show_if", ...) is None:
            merged_settings.pop("show_if", None)
        fields = {
            "text": texts_merged(question.text, given.get("text", {})),
            "required": given.get("required", question.required),
            "settings": merged_settings,
            "choices": given.get("choices"),
        }
        problems = question_problems(
            kind=question.type,
            fields={**fields, "settings": given.get("settings", {})},
            languages=survey.languages,
            creating=False,
        )
        if problems:
            raise Unprocessable(problems)
        try:
            question_update_audited(question=question, actor=self.actor(), **fields)
        except DjangoValidationError as exc:
            raise service_refusal(exc, renames=QUESTION_RENAMES) from None
        return DRFResponse(QuestionOutputSerializer(_fresh_question(question)).data)

    @extend_schema(
        summary="Delete a draft's question",
        description="409 while another question's show-if rule looks at it.",
        responses={204: None, 409: CONFLICT},
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        question = self.get_object()
        try:
            question_delete_audited(question=question, actor=self.actor())
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)


# --- answers to choose from ----------------------------------------------------------------


class _ChoicesAPI(_QuestionsAPI):
    """Under a question of a survey of this organisation: both ids in the URL, else 404."""

    def question(self) -> Question:
        if not hasattr(self, "_question"):
            self._question = get_object_or_404(
                Question.objects.for_organisation(self.organisation).select_related("survey"),
                survey=self.survey(),
                pk=self.kwargs["qid"],
            )
        return self._question

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if self.organisation is not None and "qid" in self.kwargs:
            context["languages"] = self.question().survey.languages
        return context


class SurveyChoiceListAPI(_ChoicesAPI, generics.ListAPIView):
    model = Choice
    serializer_class = ChoiceOutputSerializer
    pagination_class = ChoicePagination

    def scope_queryset(self, queryset: QuerySet[Choice]) -> QuerySet[Choice]:
        self.query_check()
        return queryset.filter(question=self.question())

    @extend_schema(summary="A choice question's answers to choose, in order")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add an answer to choose at the end",
        description="In a draft's choice question; at most 50, each different in the "
        "survey's first language.",
        request=ChoiceInput,
        responses={201: ChoiceOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample(
                "An answer in two languages",
                request_only=True,
                value={"label": {"en": "Parking", "th": "ที่จอดรถ"}},
            )
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        question = self.question()
        label = checked(ChoiceInput(data=request.data, context=self.get_serializer_context()))[
            "label"
        ]
        try:
            choice = choice_add_audited(question=question, actor=self.actor(), label=label)
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(
            ChoiceOutputSerializer(choice).data,
            status=status.HTTP_201_CREATED,
            headers={
                "Location": reverse(
                    "api:survey_choice_detail",
                    args=[self.organisation.slug, question.survey_id, question.pk, choice.pk],
                )
            },
        )


class SurveyChoiceReorderAPI(_ChoicesAPI):
    model = Question
    serializer_class = QuestionOutputSerializer

    @extend_schema(
        summary="Put a draft's answers to choose in a new order",
        description="Every answer id of the question once.",
        request=ChoiceOrderInput,
        responses={200: QuestionOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[ORDER_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        question = self.question()
        order = checked(ChoiceOrderInput(data=request.data))["order"]
        try:
            choices_reorder_audited(question=question, actor=self.actor(), order=order)
        except DjangoValidationError as exc:
            raise service_refusal(exc, field="order") from None
        return DRFResponse(QuestionOutputSerializer(_fresh_question(question)).data)


class SurveyChoiceDetailAPI(_ChoicesAPI, generics.RetrieveAPIView):
    model = Choice
    serializer_class = ChoiceOutputSerializer
    lookup_url_kwarg = "cid"

    def scope_queryset(self, queryset: QuerySet[Choice]) -> QuerySet[Choice]:
        return queryset.filter(question=self.question()).select_related("question__survey")

    @extend_schema(summary="One answer to choose")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Reword an answer to choose",
        description="Languages left out keep their text.",
        request=ChoiceUpdateInput,
        responses={200: ChoiceOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[
            OpenApiExample("Fix a typo", request_only=True, value={"label": {"en": "Waiting time"}})
        ],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        choice = self.get_object()
        given = checked(ChoiceUpdateInput(data=request.data, context=self.get_serializer_context()))
        label = texts_merged(choice.label, given.get("label", {}))
        try:
            choice_update_audited(choice=choice, actor=self.actor(), label=label)
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(ChoiceOutputSerializer(choice).data)

    @extend_schema(
        summary="Remove an answer to choose",
        description="The rest close up. 409 while a show-if rule looks for it.",
        responses={204: None, 409: CONFLICT},
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        choice = self.get_object()
        try:
            choice_delete_audited(choice=choice, actor=self.actor())
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)
