from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.views.generic import TemplateView

from communities.selectors import staff_organisations, staff_role


class StaffScopedMixin(LoginRequiredMixin):
    """The one door to staff pages: resolves the organisation and the caller's role.

    An organisation the user holds no role in answers 404 (its existence is not
    revealed); a role that may not do this answers 403. `get_queryset` is scoped, so a
    view that lists or fetches by id cannot reach another organisation's rows.
    """

    permission: Callable[[str | None], bool] | None = None
    model = None

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        role = staff_role(user=request.user, organisation_slug=kwargs.get("org", ""))
        if role is None:
            raise Http404("No such organisation")
        self.organisation = role.organisation
        self.role = role.role
        if self.permission is not None and not self.permission(self.role):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.model.objects.for_organisation(self.organisation)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(organisation=self.organisation, role=self.role)
        return context


class StaffHomeView(LoginRequiredMixin, TemplateView):
    template_name = "communities/staff_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organisations"] = staff_organisations(user=self.request.user)
        return context
