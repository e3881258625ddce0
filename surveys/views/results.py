"""Staff: the survey list and a survey's results."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.views.generic import DetailView, ListView

from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from surveys.choices import SurveyKind
from surveys.models import Survey
from surveys.selectors import poll_distribution, survey_list, survey_results


class StaffSurveyListView(StaffScopedMixin, ListView):
    template_name = "surveys/staff_survey_list.html"
    permission = staticmethod(can_read_results)
    context_object_name = "surveys"
    model = Survey

    def scope_queryset(self, queryset):
        del queryset  # survey_list is the one definition of the list; the base re-scopes it
        return survey_list(organisation=self.organisation)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=can_manage(self.role), **kwargs)


class StaffSurveyResultsView(StaffScopedMixin, DetailView):
    template_name = "surveys/staff_survey_results.html"
    permission = staticmethod(can_read_results)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["results"] = survey_results(organisation=self.organisation, survey=self.object)
        if self.object.kind == SurveyKind.POLL:
            context["poll"] = poll_distribution(
                organisation=self.organisation,
                survey=self.object,
                language=translation.get_language(),
            )
        context["public_url"] = self.request.build_absolute_uri(
            reverse("surveys:survey_respond", args=[self.object.public_id])
        )
        return context
