"""Staff: the organisation's insights dashboard."""

from __future__ import annotations

from django.views.generic import TemplateView

from communities.permissions import can_read_results
from communities.scoping import StaffScopedMixin
from insights.charts import trend_chart
from insights.forms import DashboardFilterForm
from insights.selectors import dashboard


class StaffInsightsDashboardView(StaffScopedMixin, TemplateView):
    template_name = "insights/dashboard.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = DashboardFilterForm(self.request.GET or None, organisation=self.organisation)
        board = dashboard(organisation=self.organisation, filters=form.filters())
        context.update(
            form=form,
            board=board,
            chart=trend_chart(cells=board.trend) if not board.withheld else None,
        )
        return context
