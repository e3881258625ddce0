from django.db.models import Prefetch
from rest_framework import generics
from rest_framework.pagination import CursorPagination

from communities.api.views import OrganisationScopedAPIView
from communities.permissions import can_read_results
from surveys.api.serializers import ResponseOutputSerializer, SurveyOutputSerializer
from surveys.models import Answer, Question, Response, Survey


class SurveyPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class _SurveyAPI(OrganisationScopedAPIView):
    model = Survey
    permission = staticmethod(can_read_results)
    serializer_class = SurveyOutputSerializer

    def get_queryset(self):
        return self.scoped_queryset().prefetch_related(
            Prefetch("questions", queryset=Question.objects.prefetch_related("choices"))
        )


class SurveyListAPI(_SurveyAPI, generics.ListAPIView):
    pagination_class = SurveyPagination


class SurveyDetailAPI(_SurveyAPI, generics.RetrieveAPIView):
    pass


class ResponsePagination(CursorPagination):
    ordering = ("-submitted_at", "-id")
    page_size = 100


class SurveyResponseListAPI(OrganisationScopedAPIView, generics.ListAPIView):
    """A survey's responses, newest first, with their answers (cursor-paginated)."""

    model = Response
    permission = staticmethod(can_read_results)
    serializer_class = ResponseOutputSerializer
    pagination_class = ResponsePagination

    def get_queryset(self):
        survey = generics.get_object_or_404(
            Survey.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )
        return (
            self.scoped_queryset()
            .filter(survey=survey)
            .prefetch_related(
                Prefetch("answers", queryset=Answer.objects.prefetch_related("choices"))
            )
        )
