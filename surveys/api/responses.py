"""The responses API: a survey's responses, the organisation's, and one response, with the
organisation's minimum group size k respected (surveys.selectors_api):

- a filtered list (anything beyond `survey`) that matches fewer than k responses, but
  some, answers 422 `group_too_small`: widen the filter. None matching is an empty page.
- a response in a small group (fewer than k in its survey at its store, or at its store
  through its channel kind) comes without `location_id`, `channel_id` and `channel`, and
  its `submitted_at` is the start of its day; `small_group` says so. Filters on store,
  channel or time leave such responses out, so no filter places one in its group.
- an anonymous response never carries a member id.
"""

from __future__ import annotations

import datetime

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response as DRFResponse

from communities.api.serializers import Unprocessable
from communities.models import Location
from communities.views.settings import organisation_time_zone
from surveys.api.common import SurveysAPIView, cursor_pagination
from surveys.api.texts import LANGUAGE_CODES
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Answer, Response, Survey
from surveys.selectors_api import (
    ResponseFilters,
    response_list_api,
    responses_in_small_groups,
    responses_with_answers,
    survey_score_question,
)

ResponsePagination = cursor_pagination("ResponsePagination", ("-id",), 100, 500)
SCORE_MAX = 10
FILTERS = frozenset(
    {
        "submitted_after",
        "submitted_before",
        "channel",
        "location",
        "language",
        "min_score",
        "max_score",
    }
)


class GroupTooSmall(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "group_too_small"
    default_detail = gettext_lazy("Fewer responses match than the minimum group size.")


GROUP_TOO_SMALL = OpenApiResponse(
    description="The filters match fewer responses than the organisation's minimum group "
    "size (but some): widen the filter (`code` group_too_small). Or the organisation's data "
    "refuses a filter (`code` unprocessable): a store or survey id it does not have, "
    "submitted_before not after submitted_after, a score filter without a survey that asks "
    "a score question.",
)


class AnswerOutputSerializer(serializers.ModelSerializer):
    question_type = serializers.ChoiceField(choices=QuestionType.choices)
    choice_ids = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["question_id", "question_type", "number", "choice_ids", "text", "sentiment"]

    def get_choice_ids(self, answer: Answer) -> list[int]:
        return [c.pk for c in answer.choices.all()]


class ResponseOutputSerializer(serializers.ModelSerializer):
    """A response with its answers. In a small group (see `small_group`) its store and
    channel are null and `submitted_at` is the start of its day."""

    survey_id = serializers.IntegerField(read_only=True)
    submitted_at = serializers.SerializerMethodField()
    language = serializers.ChoiceField(choices=LANGUAGE_CODES)
    member_id = serializers.SerializerMethodField(help_text="Never for an anonymous response.")
    channel = serializers.SerializerMethodField(help_text="How it came in.")
    channel_id = serializers.SerializerMethodField()
    location_id = serializers.SerializerMethodField(help_text="The store, if any.")
    small_group = serializers.SerializerMethodField(
        help_text="Its store (or store and channel) has fewer responses in the survey than "
        "the organisation's minimum group size: store, channel and time are withheld."
    )
    answers = AnswerOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "survey_id",
            "submitted_at",
            "language",
            "is_anonymous",
            "consent_to_contact",
            "member_id",
            "channel",
            "channel_id",
            "location_id",
            "small_group",
            "answers",
        ]

    def _small(self, response: Response) -> bool:
        return response.pk in self.context.get("small_groups", ())

    def get_small_group(self, response: Response) -> bool:
        return self._small(response)

    def get_submitted_at(self, response: Response) -> datetime.datetime:
        if self._small(response):
            # The start of the organisation's day it was given on (submitted_on's zone).
            day = datetime.datetime.combine(response.submitted_on, datetime.time())
            return timezone.make_aware(day, self.context.get("zone") or datetime.UTC)
        return response.submitted_at

    def get_member_id(self, response: Response) -> int | None:
        return None if response.is_anonymous else response.member_id

    @staticmethod
    def _channel_kind(response: Response) -> str:
        return response.channel.kind if response.channel else ChannelKind.LINK

    @extend_schema_field(serializers.ChoiceField(choices=ChannelKind.choices, allow_null=True))
    def get_channel(self, response: Response) -> str | None:
        return None if self._small(response) else self._channel_kind(response)

    def get_channel_id(self, response: Response) -> int | None:
        return None if self._small(response) else response.channel_id

    def get_location_id(self, response: Response) -> int | None:
        return None if self._small(response) else response.location_id


class _ResponsesAPI(SurveysAPIView, generics.GenericAPIView):
    api_area = "responses"
    model = Response
    serializer_class = ResponseOutputSerializer

    def get_serializer(self, *args, **kwargs):
        responses = args[0] if args else None
        if responses is not None:
            many = responses if isinstance(responses, list) else [responses]
            self.small_groups = responses_in_small_groups(
                organisation=self.organisation, responses=many
            )
        return super().get_serializer(*args, **kwargs)

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            "small_groups": getattr(self, "small_groups", set()),
            # None while the schema is drawn (no request, no organisation).
            "zone": organisation_time_zone(self.organisation)
            if getattr(self, "organisation", None) is not None
            else None,
        }


class _ResponseListAPI(_ResponsesAPI, generics.ListAPIView):
    pagination_class = ResponsePagination

    def survey_of_list(self) -> Survey | None:
        raise NotImplementedError

    def filters(self) -> ResponseFilters:
        self.query_check()
        survey = self.survey_of_list()
        after, before = (self._time(name) for name in ("submitted_after", "submitted_before"))
        if after and before and before <= after:
            raise Unprocessable({"submitted_before": [_("Give a time after submitted_after.")]})
        language = self.query_choice("language", LANGUAGE_CODES)
        location = self.filter_object(
            "location", Location.objects, _("No such store in this organisation.")
        )
        scores = {name: self._score(name) for name in ("min_score", "max_score")}
        question = None
        if any(value is not None for value in scores.values()):
            if survey is None:
                raise Unprocessable(
                    {"min_score": [_("Filter by score within one survey: add survey.")]}
                )
            question = survey_score_question(survey=survey)
            if question is None:
                raise Unprocessable({"min_score": [_("This survey asks no score question.")]})
        return ResponseFilters(
            survey=survey,
            submitted_after=after,
            submitted_before=before,
            channel=self.query_choice("channel", ChannelKind.values),
            location=location,
            language=language,
            score_question=question,
            min_score=scores["min_score"],
            max_score=scores["max_score"],
        )

    def filter_object(self, name: str, queryset: QuerySet, message: str) -> Model | None:
        """The object an id filter names: not an integer is a 400 (the schema's type), an
        integer naming nothing of this organisation's a 422 (its data refuses it)."""
        raw = self.request.query_params.get(name)
        if raw is not None and not (raw.isascii() and raw.lstrip("-").isdigit()):
            raise ValidationError({name: [_("Give an id (a whole number).")]})
        try:
            return self.query_object(name, queryset, message)
        except ValidationError as exc:
            raise Unprocessable(exc.detail) from None

    def _time(self, name: str) -> datetime.datetime | None:
        raw = self.request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = serializers.DateTimeField().to_internal_value(raw)
            # A time the database cannot hold (year 1 or 9999 in another zone) is no filter.
            value.astimezone(datetime.UTC)
        except (serializers.ValidationError, OverflowError, ValueError):
            raise ValidationError(
                {name: [_("Give an ISO 8601 date and time, e.g. 2025-05-01T09:00:00+07:00.")]}
            ) from None
        return value

    def _score(self, name: str) -> int | None:
        raw = self.request.query_params.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit() and len(raw) < 3 and int(raw) <= SCORE_MAX):
            raise ValidationError({name: [_("Give a whole number from 0 to 10.")]})
        return int(raw)

    def scope_queryset(self, queryset: QuerySet[Response]) -> QuerySet[Response]:
        del queryset  # the selector filters; the base keeps the result to this organisation
        filters = self.filters()
        responses = response_list_api(organisation=self.organisation, filters=filters)
        if filters.narrowing:
            matched = responses.count()
            minimum = self.organisation.min_group_size
            if 0 < matched < minimum:
                raise GroupTooSmall(
                    _(
                        "Fewer than %(k)s responses match (the organisation's minimum group "
                        "size); widen the filter."
                    )
                    % {"k": minimum}
                )
        return responses

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return list(page) if page is not None else None


LIST_PARAMETERS = [
    OpenApiParameter(
        "submitted_after",
        datetime.datetime,
        description="From this time (ISO 8601, inclusive).",
    ),
    OpenApiParameter(
        "submitted_before", datetime.datetime, description="Before this time (exclusive)."
    ),
    OpenApiParameter("channel", str, enum=ChannelKind.values, description="How it came in."),
    OpenApiParameter("location", int, description="A store's id."),
    OpenApiParameter("language", str, enum=LANGUAGE_CODES),
    OpenApiParameter(
        "min_score",
        {"type": "integer", "minimum": 0, "maximum": SCORE_MAX},
        description="The survey's score question (its first NPS question, else its first "
        "scale) answered at least this.",
    ),
    OpenApiParameter(
        "max_score",
        {"type": "integer", "minimum": 0, "maximum": SCORE_MAX},
        description="… and at most this.",
    ),
]
LIST_DESCRIPTION = (
    "Newest first. With any filter, fewer matches than the organisation's minimum group "
    "size (but some) answers 422 group_too_small. A response in a small group comes "
    "without store and channel and with its day only (`small_group`), and filters on "
    "store, channel or time leave it out; page through the list without them to read every "
    "response."
)


class SurveyResponseListAPI(_ResponseListAPI):
    """A survey's responses, newest first, with their answers (cursor-paginated)."""

    query_filters = FILTERS

    def survey_of_list(self) -> Survey | None:
        return generics.get_object_or_404(
            Survey.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )

    @extend_schema(
        summary="A survey's responses",
        description=LIST_DESCRIPTION,
        parameters=LIST_PARAMETERS,
        responses={200: ResponseOutputSerializer(many=True), 422: GROUP_TOO_SMALL},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)


class ResponseListAPI(_ResponseListAPI):
    """The organisation's responses to every survey, or to one (`survey`)."""

    query_filters = FILTERS | {"survey"}

    def survey_of_list(self) -> Survey | None:
        return self.filter_object(
            "survey", Survey.objects, _("No such survey in this organisation.")
        )

    @extend_schema(
        summary="The organisation's responses",
        description=LIST_DESCRIPTION + " Score filters need `survey`.",
        parameters=[OpenApiParameter("survey", int, description="One survey's."), *LIST_PARAMETERS],
        responses={200: ResponseOutputSerializer(many=True), 422: GROUP_TOO_SMALL},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)


class ResponseDetailAPI(_ResponsesAPI, generics.RetrieveAPIView):
    def scope_queryset(self, queryset: QuerySet[Response]) -> QuerySet[Response]:
        return responses_with_answers(queryset)

    @extend_schema(summary="One response, with its answers")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)
