"""The organisation's API keys: list, make one (its key shown once) and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from communities.forms.staff import ApiTokenForm
from communities.formviews import StaffActionView, StaffFormView
from communities.models import ApiToken
from communities.permissions import can_manage
from communities.services.organisations import api_token_create, api_token_revoke


class StaffApiTokenListView(StaffFormView):
    """The organisation's API keys; a new key is shown once, on the page that made it."""

    template_name = "communities/staff_api_tokens.html"
    permission = staticmethod(can_manage)
    form_class = ApiTokenForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tokens = list(
            ApiToken.objects.for_organisation(self.organisation).select_related("created_by")
        )
        for token in tokens:
            token.scope_labels = ApiTokenForm.scope_labels(token.scopes)
        context["tokens"] = tokens
        return context

    def form_save(self, form: ApiTokenForm) -> HttpResponse:
        token, key = api_token_create(
            organisation=self.organisation,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=self.request.user,
        )
        # Not a redirect: the key exists only in this response, which nothing may keep.
        page = self.render_to_response(
            self.get_context_data(form=ApiTokenForm(), new_key=key, new_token=token)
        )
        page["Cache-Control"] = "no-store"
        return page


class StaffApiTokenRevokeView(StaffActionView):
    permission = staticmethod(can_manage)
    model = ApiToken

    def act(self, token: ApiToken) -> HttpResponse:
        api_token_revoke(token=token, actor=self.request.user)
        messages.success(self.request, _("The key is revoked; calls with it now fail."))
        return redirect(self.refused_url(token))

    def refused_url(self, token: ApiToken) -> str:
        return reverse("staff:api_tokens", args=[self.organisation.slug])
