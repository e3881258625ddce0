"""Staff: the survey list and a survey's results."""

from __future__ import annotations

from django.http import QueryDict
from django.urls import reverse
from django.views.generic import DetailView, ListView

from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from surveys.choices import SurveyKind
from surveys.exports.params import ExportParams, export_params_read
from surveys.models import Survey
from surveys.poll_trend import INTERVALS
from surveys.selectors import survey_list, survey_results
from surveys.selectors_results import results_links

# The results page's filters: the export's, so its export block carries them along.
FILTER_FIELDS = ("since", "until", "channel", "location", "language")


def _query_with(query: QueryDict, **values: str) -> str:
    """The page's query string with `values` set (the other filters kept)."""
    changed = query.copy()
    for name, value in values.items():
        changed[name] = value
    return changed.urlencode()


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
        params, form = export_params_read(
            organisation=self.organisation, data=self.request.GET, default_labels=""
        )
        # A poll's periods: weeks or months; any other value is ignored (the span picks).
        every = self.request.GET.get("every")
        # Filters that do not make sense are shown with their errors, over every response.
        results = survey_results(
            organisation=self.organisation,
            survey=self.object,
            params=params or ExportParams(),
            every=every if every in INTERVALS else None,
        )
        context["results"] = results
        context["links"] = results_links(
            organisation=self.organisation, survey=self.object, query=self.request.GET
        )
        context["every_query"] = {
            interval: _query_with(self.request.GET, every=interval) for interval in INTERVALS
        }
        context["filter_form"] = form
        context["filter_fields"] = [form[name] for name in FILTER_FIELDS]
        if self.object.kind == SurveyKind.POLL:
            context["poll"] = results.questions[0] if results.questions else None
        context["public_url"] = self.request.build_absolute_uri(
            reverse("surveys:survey_respond", args=[self.object.public_id])
        )
        return context
