"""Staff: text answers to read, and their top terms."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from communities.permissions import can_read_results, can_work_cases
from communities.scoping import StaffScopedMixin
from insights.text.forms import TextFilterForm
from insights.text.selectors import text_answers

PAGE_SIZE = 25


class StaffTextAnswersView(StaffScopedMixin, TemplateView):
    template_name = "insights/text/answers.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = TextFilterForm(self.request.GET, organisation=self.organisation)
        filters = form.text_filters()
        found = page = None
        if filters is not None:
            found = text_answers(organisation=self.organisation, filters=filters)
            if not found.withheld and found.count:
                page = Paginator(found.answers, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=form,
            found=found,
            page=page,
            keyword=filters.keyword if filters else "",
            query=query.urlencode(),
            k=self.organisation.min_group_size,
            show_cases=can_work_cases(self.role),
        )
        return context
