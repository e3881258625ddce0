from django.views.generic import DetailView, ListView

from communities.permissions import can_work_cases
from communities.scoping import StaffScopedMixin
from feedback.choices import CaseStatus
from feedback.models import Case
from feedback.selectors import case_list


class StaffCaseListView(StaffScopedMixin, ListView):
    template_name = "feedback/staff_case_list.html"
    permission = staticmethod(can_work_cases)
    context_object_name = "cases"
    model = Case
    paginate_by = 50

    def scope_queryset(self, queryset):
        del queryset  # case_list is the one definition of the inbox; the base re-scopes it
        status = self.request.GET.get("status")
        return case_list(
            organisation=self.organisation,
            status=status if status in CaseStatus.values else None,
        )


class StaffCaseDetailView(StaffScopedMixin, DetailView):
    template_name = "feedback/staff_case_detail.html"
    permission = staticmethod(can_work_cases)
    model = Case
    context_object_name = "case"

    def scope_queryset(self, queryset):
        return queryset.select_related("response__survey", "response__member")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["answers"] = (
            self.object.response.answers.select_related("question")
            .prefetch_related("choices")
            .order_by("question__position")
        )
        context["events"] = self.object.events.select_related("actor")
        return context
