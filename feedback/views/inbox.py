"""The case inbox a support team works in: filtered, sorted and paged through the query
string (so a view of it can be bookmarked), with bulk assign and bulk status changes."""

from __future__ import annotations

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView

from communities.models import Location
from communities.permissions import can_work_cases
from communities.scoping import StaffScopedMixin
from communities.views.settings import organisation_time_zone
from feedback.choices import CaseStatus
from feedback.forms import BULK_ASSIGN, CaseBulkForm, CaseFilterForm
from feedback.models import Case
from feedback.selectors import CaseFilters, case_inbox, case_staff, case_teams, root_causes
from feedback.services.cases import case_assign, case_status_change
from feedback.views.inbox_filters import filter_fields_html
from feedback.views.inbox_rows import inbox_rows_html
from surveys.models import Survey

PAGE_SIZE = 50
# Past this many matching cases the inbox says "1,000+" instead of counting them all: an
# exact count of 100,000 cases costs more than the page itself, and nobody pages that far.
COUNT_CAP = 1000
PAGE_MAX = 1_000_000


class CappedPage(Page):
    """A page that knows whether another follows from one extra row read, not the count."""

    def __init__(self, object_list, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (`count_capped` says when there were more) and
    reads each page with one row beyond it to know whether a next page exists."""

    @cached_property
    def count(self) -> int:
        # Only the ids, in no order: the row's joins and its sentiment subquery would
        # otherwise be worked out for every case counted.
        return self.object_list.order_by().values("pk")[: COUNT_CAP + 1].count()

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        if number > PAGE_MAX:
            # An offset no database column holds: no such page, rather than a crash.
            raise EmptyPage(_("That page contains no results"))
        if not self.count_capped and number > self.num_pages:
            raise EmptyPage(_("That page contains no results"))
        return number

    def page(self, number) -> CappedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class StaffCaseListView(StaffScopedMixin, ListView):
    template_name = "feedback/staff_case_list.html"
    permission = staticmethod(can_work_cases)
    context_object_name = "cases"
    model = Case
    paginate_by = PAGE_SIZE
    paginator_class = CappedPaginator

    _filter_form: CaseFilterForm | None = None

    def filter_form(self) -> CaseFilterForm:
        if self._filter_form is None:
            self.staff = case_staff(organisation=self.organisation)
            self._filter_form = CaseFilterForm(
                self.request.GET or None,
                staff=self.staff,
                surveys=Survey.objects.for_organisation(self.organisation)
                .only("id", "title")
                .order_by("-created_at", "-id"),
                locations=Location.objects.for_organisation(self.organisation)
                .only("id", "name")
                .order_by("name", "id"),
                teams=case_teams(organisation=self.organisation),
            )
        return self._filter_form

    def scope_queryset(self, queryset):
        del queryset  # case_inbox is the one definition of the inbox; the base re-scopes it
        form = self.filter_form()
        return case_inbox(
            organisation=self.organisation,
            user=self.request.user,
            filters=form.filters() if form.is_bound else CaseFilters(),
            time_zone=organisation_time_zone(self.organisation),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        time_zone = organisation_time_zone(self.organisation)
        # The rows are written out in Python (see inbox_rows): through the template engine
        # they were most of the page's time.
        rows_html = inbox_rows_html(
            context["cases"], organisation_slug=self.organisation.slug, time_zone=time_zone
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter_form=self.filter_form(),
            # Written out in Python (see inbox_filters), not through crispy per request.
            filter_fields=filter_fields_html(self.filter_form()),
            staff=self.staff,
            statuses=CaseStatus.choices,
            root_causes=root_causes(organisation=self.organisation),
            query=query.urlencode(),
            cap=COUNT_CAP,
            time_zone=time_zone,
            rows_html=rows_html,
        )
        return context


def _back_query(raw: str) -> str:
    """The inbox's query string the bulk form came from, keeping only the inbox's own
    parameters (nothing else is carried into the redirect)."""
    kept = QueryDict(mutable=True)
    parsed = QueryDict(raw or "")
    for name in (*CaseFilterForm.base_fields, "page"):
        values = parsed.getlist(name)
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


class StaffCaseBulkView(StaffScopedMixin, View):
    """Assign the ticked cases, or move them to a status, each through the one service a
    single case uses and in its own transaction: a case that refuses (a colleague resolved
    it a moment ago) is reported and leaves the others changed."""

    permission = staticmethod(can_work_cases)
    model = Case
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs) -> HttpResponse:
        submitted = [v for v in request.POST.getlist("cases") if v.isdigit() and len(v) <= 18]
        cases = {
            case.pk: case
            for case in Case.objects.for_organisation(self.organisation).filter(
                pk__in=[int(v) for v in submitted]
            )
        }
        form = CaseBulkForm(
            request.POST,
            staff=case_staff(organisation=self.organisation),
            user=request.user,
            case_ids=cases,
            root_causes=root_causes(organisation=self.organisation),
        )
        back = reverse("staff:case_list", args=[self.organisation.slug])
        query = _back_query(request.POST.get("back", ""))
        back = f"{back}?{query}" if query else back
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        changed, unchanged, refused = 0, 0, []
        for pk in data["cases"]:
            try:
                if data["action"] == BULK_ASSIGN:
                    event = case_assign(
                        case=cases[pk], assignee=data["assignee"], actor=request.user
                    )
                else:
                    event = case_status_change(
                        case=cases[pk],
                        status=data["status"],
                        resolution=data["resolution"],
                        root_cause=data["root_cause"],
                        actor=request.user,
                    )
            except ValidationError as exc:
                refused.append((pk, " ".join(exc.messages)))
                continue
            if event is None:
                unchanged += 1
            else:
                changed += 1
        self._summarise(data=data, changed=changed, unchanged=unchanged, refused=refused)
        return HttpResponseRedirect(back)

    def _summarise(self, *, data: dict, changed: int, unchanged: int, refused: list) -> None:
        request = self.request
        if data["action"] == BULK_ASSIGN:
            assignee = data["assignee"]
            if assignee is None:
                text = ngettext("%(n)d case unassigned.", "%(n)d cases unassigned.", changed) % {
                    "n": changed
                }
            else:
                text = ngettext(
                    "%(n)d case assigned to %(name)s.", "%(n)d cases assigned to %(name)s.", changed
                ) % {"n": changed, "name": assignee.name or assignee.email}
        else:
            text = ngettext(
                "%(n)d case moved to %(status)s.", "%(n)d cases moved to %(status)s.", changed
            ) % {"n": changed, "status": CaseStatus(data["status"]).label}
        if unchanged:
            text += " " + ngettext(
                "%(n)d already had that owner.", "%(n)d already had that owner.", unchanged
            ) % {"n": unchanged}
        (messages.success if changed or not refused else messages.warning)(request, text)
        for pk, reason in refused:
            messages.error(
                request,
                _("Case #%(id)s was not changed: %(reason)s") % {"id": pk, "reason": reason},
            )
