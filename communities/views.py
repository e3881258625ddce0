from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from communities.models import ApiToken
from communities.permissions import can_manage
from communities.selectors import staff_organisations, staff_role
from communities.services import api_token_create, api_token_revoke


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


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What will use this key?"), max_length=100)


class StaffApiTokenListView(StaffScopedMixin, TemplateView):
    """The organisation's API keys; a new key is shown once, on the page that made it."""

    template_name = "communities/staff_api_tokens.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiTokenForm())
        context["tokens"] = ApiToken.objects.for_organisation(self.organisation).select_related(
            "created_by"
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = api_token_create(
                    organisation=self.organisation,
                    name=form.cleaned_data["name"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                form.add_error("name", exc.messages[0])
            else:
                page = self.render_to_response(self.get_context_data(new_key=key, new_token=token))
                page["Cache-Control"] = "no-store"
                return page
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StaffApiTokenRevokeView(StaffScopedMixin, View):
    permission = staticmethod(can_manage)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        token = get_object_or_404(ApiToken.objects.for_organisation(self.organisation), pk=pk)
        api_token_revoke(token=token)
        messages.success(request, _("The key is revoked; calls with it now fail."))
        return redirect("staff:api_tokens", self.organisation.slug)
