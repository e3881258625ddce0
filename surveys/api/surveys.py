"""The surveys API: surveys and quick polls (kind "poll"), written as the staff builder writes
them, every write recorded in the audit log (surveys.services.authoring)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response as DRFResponse

from communities.models import Community
from surveys.api.common import (
    CONFLICT,
    UNPROCESSABLE,
    SurveysAPIView,
    cursor_pagination,
    service_refusal,
)
from surveys.api.inputs import (
    SurveyCreateInput,
    SurveyUpdateInput,
    checked,
    inline_question_spec,
)
from surveys.api.serializers import SurveyOutputSerializer
from surveys.api.texts import texts_merged
from surveys.choices import SurveyKind, SurveyStatus
from surveys.models import Question, Survey
from surveys.services.authoring import (
    survey_close_audited,
    survey_create_audited,
    survey_delete_audited,
    survey_duplicate_audited,
    survey_publish_audited,
    survey_update_audited,
)

SurveyPagination = cursor_pagination("SurveyPagination", ("-id",), 20, 100)

# A service's field names that the API nests elsewhere.
SURVEY_RENAMES = {"show_if": "settings.show_if"}

CREATE_EXAMPLE = OpenApiExample(
    "An NPS survey in English and Thai",
    request_only=True,
    value={
        "title": {"en": "How was your visit?", "th": "การมาเยือนเป็นอย่างไรบ้าง"},
        "languages": ["en", "th"],
        "kind": "survey",
        "anonymity": "identified",
        "points": 20,
        "questions": [
            {
                "type": "nps",
                "text": {
                    "en": "How likely are you to recommend us?",
                    "th": "คุณจะแนะนำเราให้เพื่อนไหม",
                },
                "settings": {
                    "min_label": {"en": "Not likely", "th": "ไม่น่าจะ"},
                    "max_label": {"en": "Very likely", "th": "แน่นอน"},
                },
            },
            {
                "type": "single_choice",
                "text": {"en": "What went wrong?", "th": "เกิดอะไรขึ้น"},
                "choices": [
                    {"en": "Waiting time", "th": "รอนาน"},
                    {"en": "Staff", "th": "พนักงาน"},
                ],
                "settings": {
                    "other": True,
                    "show_if": {"question_position": 1, "op": "lte", "values": [6]},
                },
            },
        ],
    },
)
POLL_EXAMPLE = OpenApiExample(
    "A quick poll",
    request_only=True,
    value={
        "title": {"en": "Which new flavour?"},
        "languages": ["en"],
        "kind": "poll",
        "questions": [
            {
                "type": "single_choice",
                "text": {"en": "Which flavour should we add?"},
                "choices": [{"en": "Yuzu"}, {"en": "Matcha"}, {"en": "Thai tea"}],
            }
        ],
    },
)
UPDATE_EXAMPLE = OpenApiExample(
    "Add the Hebrew title and close at the end of June",
    request_only=True,
    value={
        "languages": ["en", "th", "he"],
        "title": {"he": "איך היה הביקור?"},
        "closes_at": "2025-06-30T23:59:00+07:00",
    },
)


def surveys_with_questions(queryset: QuerySet[Survey]) -> QuerySet[Survey]:
    return queryset.prefetch_related(
        Prefetch("questions", queryset=Question.objects.prefetch_related("choices"))
    )


class _SurveyAPI(SurveysAPIView):
    api_area = "surveys"
    model = Survey
    serializer_class = SurveyOutputSerializer

    def scope_queryset(self, queryset: QuerySet[Survey]) -> QuerySet[Survey]:
        return surveys_with_questions(queryset)

    def survey_answer(self, survey: Survey, code: int = status.HTTP_200_OK) -> DRFResponse:
        """The survey as saved now; a new one answers 201 with its address."""
        fresh = surveys_with_questions(Survey.objects.for_organisation(self.organisation)).get(
            pk=survey.pk
        )
        headers = None
        if code == status.HTTP_201_CREATED:
            headers = {
                "Location": reverse("api:survey_detail", args=[self.organisation.slug, survey.pk])
            }
        return DRFResponse(self.get_serializer(fresh).data, status=code, headers=headers)


class SurveyListAPI(_SurveyAPI, generics.ListAPIView):
    """GET: the organisation's surveys and polls, newest first. POST: a new draft."""

    pagination_class = SurveyPagination
    query_filters = frozenset({"status", "kind", "community"})

    def scope_queryset(self, queryset: QuerySet[Survey]) -> QuerySet[Survey]:
        self.query_check()
        surveys = super().scope_queryset(queryset)
        if (wanted := self.query_choice("status", SurveyStatus.values)) is not None:
            surveys = surveys.filter(status=wanted)
        if (kind := self.query_choice("kind", SurveyKind.values)) is not None:
            surveys = surveys.filter(kind=kind)
        message = _("No such community in this organisation.")
        if (community := self.query_object("community", Community.objects, message)) is not None:
            surveys = surveys.filter(community=community)
        return surveys

    @extend_schema(
        summary="List surveys and quick polls",
        parameters=[
            OpenApiParameter("status", str, enum=SurveyStatus.values),
            OpenApiParameter("kind", str, enum=SurveyKind.values, description='"poll": polls.'),
            OpenApiParameter(
                "community", int, description="Surveys for this community (422 if none has the id)."
            ),
        ],
        responses={200: SurveyOutputSerializer(many=True), 422: UNPROCESSABLE},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a draft survey or poll, with its questions",
        description=(
            "Texts are objects with one member per language (en, th, he, ja); each must be "
            "one of the survey's `languages` and every text needs the first language. "
            "Questions come in order; a show-if rule names an earlier question by its "
            "`question_position` (from 1) and, for a choice question, its answers by their "
            "positions. Or give a library `template` instead of questions. The draft is "
            "published with POST …/publish/."
        ),
        request=SurveyCreateInput,
        responses={201: SurveyOutputSerializer, 422: UNPROCESSABLE},
        examples=[CREATE_EXAMPLE, POLL_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        fields = checked(
            SurveyCreateInput(data=request.data, context=self.get_serializer_context())
        )
        questions = fields.pop("questions", [])
        try:
            survey = survey_create_audited(
                organisation=self.organisation,
                actor=self.actor(),
                title=fields.pop("title", {}),
                languages=fields.pop("languages"),
                kind=fields.pop("kind"),
                community=fields.pop("community", None),
                template=fields.pop("template", None),
                settings=fields,
                questions=[inline_question_spec(q, questions) for q in questions],
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc, renames=SURVEY_RENAMES) from None
        return self.survey_answer(survey, status.HTTP_201_CREATED)


class SurveyDetailAPI(_SurveyAPI, generics.RetrieveAPIView):
    @extend_schema(summary="One survey or poll, with its questions")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change a survey's settings",
        description=(
            "Fields left out keep their value; in a text, languages left out keep theirs and "
            "an empty string removes one. A published survey's settings change as on the "
            "staff pages; its `kind` only while it is a draft (409 otherwise). Questions "
            "change through …/questions/."
        ),
        request=SurveyUpdateInput,
        responses={200: SurveyOutputSerializer, 409: CONFLICT, 422: UNPROCESSABLE},
        examples=[UPDATE_EXAMPLE],
    )
    def patch(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.get_object()
        context = {**self.get_serializer_context(), "survey": survey}
        fields = checked(SurveyUpdateInput(data=request.data, context=context))
        if "languages" in fields:
            # The texts are kept in the new languages only (survey_update), so they go too.
            fields.setdefault("title", {})
            fields.setdefault("thank_you", {})
        for name in ("title", "thank_you"):
            if name in fields:
                fields[name] = texts_merged(getattr(survey, name), fields[name])
        try:
            survey_update_audited(survey=survey, actor=self.actor(), **fields)
        except DjangoValidationError as exc:
            raise service_refusal(exc, renames=SURVEY_RENAMES) from None
        return self.survey_answer(survey)

    @extend_schema(
        summary="Delete a draft",
        description="A survey that was ever published keeps its answers: close it instead (409).",
        responses={204: None, 409: CONFLICT},
    )
    def delete(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.get_object()
        try:
            survey_delete_audited(survey=survey, actor=self.actor())
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return DRFResponse(status=status.HTTP_204_NO_CONTENT)


class _SurveyActionAPI(_SurveyAPI):
    """POST with no body: one service call on the survey."""

    answer_status = status.HTTP_200_OK

    def act(self, survey: Survey) -> Survey:
        raise NotImplementedError

    def post(self, request, *args, **kwargs) -> DRFResponse:
        survey = self.get_object()
        try:
            result = self.act(survey)
        except DjangoValidationError as exc:
            raise service_refusal(exc) from None
        return self.survey_answer(result, self.answer_status)


class SurveyPublishAPI(_SurveyActionAPI):
    def act(self, survey: Survey) -> Survey:
        return survey_publish_audited(survey=survey, actor=self.actor())

    @extend_schema(
        summary="Publish a draft (or reopen a closed survey)",
        description=(
            "Live from its `opens_at`, if it has one (its `phase` is then scheduled). 409 "
            "when it is live already, is not ready (`code` not_publishable: no question, a "
            "choice question with fewer than two answers, a poll that is not one tap), or "
            "its close time has passed."
        ),
        request=None,
        responses={200: SurveyOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)


class SurveyCloseAPI(_SurveyActionAPI):
    def act(self, survey: Survey) -> Survey:
        return survey_close_audited(survey=survey, actor=self.actor())

    @extend_schema(
        summary="Close a live survey",
        description="No more answers are taken. 409 unless the survey is live.",
        request=None,
        responses={200: SurveyOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)


class SurveyDuplicateAPI(_SurveyActionAPI):
    answer_status = status.HTTP_201_CREATED

    def act(self, survey: Survey) -> Survey:
        return survey_duplicate_audited(survey=survey, actor=self.actor())

    @extend_schema(
        summary="Copy a survey as a new draft",
        description="Every question, answer to choose and show-if rule; no responses. The "
        "answer is the copy (its address in Location).",
        request=None,
        responses={201: SurveyOutputSerializer},
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        return super().post(request, *args, **kwargs)
