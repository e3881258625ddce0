"""Staff: the responses behind a figure."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from communities.permissions import can_read_results, can_work_cases
from communities.scoping import StaffScopedMixin
from insights.drill.forms import ResponseFilterForm
from insights.drill.selectors import responses_behind, rows_of

PAGE_SIZE = 50


class StaffResponsesBehindView(StaffScopedMixin, TemplateView):
    template_name = "insights/responses/list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ResponseFilterForm(self.request.GET, organisation=self.organisation)
        filters = form.filters()
        drill = page = rows = None
        if filters is not None:
            drill = responses_behind(organisation=self.organisation, filters=filters)
            if not drill.withheld and drill.count:
                page = Paginator(drill.responses, PAGE_SIZE).get_page(self.request.GET.get("page"))
                rows = rows_of(page=page, drill=drill)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=form,
            drill=drill,
            page=page,
            rows=rows,
            query=query.urlencode(),
            k=self.organisation.min_group_size,
            show_cases=can_work_cases(self.role),
        )
        return context
