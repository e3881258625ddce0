"""The API documentation page at /api/docs/: Swagger UI over the site's own OpenAPI schema,
for staff only (any role in any organisation; the schema is the same for all of them)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.generic import TemplateView

from communities.selectors import staff_roles_of


class ApiDocsView(LoginRequiredMixin, TemplateView):
    """Signed out: the login page, as every staff page. Signed in without a staff role
    (a member): 404, as a staff page of an organisation one is not in."""

    template_name = "api/docs.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.roles = staff_roles_of(user=request.user)
        if not self.roles:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schema_url = reverse("api:schema")
        context.update(
            schema_url=f"{schema_url}?format=json",
            schema_yaml_url=f"{schema_url}?format=yaml",
            # Each organisation's slug is the {org} of its paths; owners and admins get a
            # link to its keys.
            staff_roles=self.roles,
        )
        return context
