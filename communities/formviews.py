"""The one way a staff page handles a form: validate, call one service, show its errors.

A one-button action on one row (publish, revoke, remove) is a `StaffActionView`: `act`
calls one service on the row; a refusal is flashed and the page it came from shown again.

A staff form page is a `StaffFormView`: the form validates the input, `form_save` calls
one service, and a `ValidationError` from the service lands on the form next to the field
it names (`service_errors_apply`), answered 400 with nothing written. On success the page
redirects (`get_success_url`) with an optional flash message (`success_message`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView
from django.views.generic.detail import SingleObjectMixin

from communities.forms.attributes import service_errors_apply
from communities.scoping import Permission, StaffScopedMixin


class ServiceFormMixin(ABC):
    """FormView behaviour for a form whose valid data goes to one service call."""

    # Service field names that the form calls something else.
    service_field_map: dict[str, str] | None = None
    # Refusal codes answered with another status than 400, e.g. {"rate_limited": 429}.
    service_error_statuses: dict[str, int] = {}
    success_message: str = ""
    # A form is sent by POST. FormView would take a PUT as one too; here it answers 405, as
    # on every other page.
    http_method_names = ["get", "post", "head", "options", "trace"]

    @abstractmethod
    def form_save(self, form) -> Any:
        """Call the one service with the form's cleaned data; return what it made (or an
        HttpResponse, for a page that answers with something other than a redirect)."""

    def form_valid(self, form) -> HttpResponse:
        try:
            self.saved = self.form_save(form)
        except ValidationError as exc:
            self.service_errors_put(form, exc)
            status = self.service_error_statuses.get(getattr(exc, "code", None), 400)
            return self.form_invalid(form, status=status)
        if isinstance(self.saved, HttpResponse):
            return self.saved
        message = self.get_success_message(form)
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url())

    def service_errors_put(self, form, exc: ValidationError) -> None:
        """Put the service's refusal on the form; a form whose fields are named otherwise
        (a member filter's "attributes.city") overrides this."""
        service_errors_apply(form, exc, self.service_field_map)

    def get_success_message(self, form) -> str:
        return str(self.success_message)

    def form_invalid(self, form, status: int = 400) -> HttpResponse:
        # 400: the page is shown again with the errors, and nothing was written.
        return self.render_to_response(self.get_context_data(form=form), status=status)


class StaffFormView(StaffScopedMixin, ServiceFormMixin, FormView):
    """A staff form page under /staff/<org>/: scoped, role-checked, one service call."""

    # Asked as well as `permission` before a POST, when set: a page that more roles may
    # read than may change (as OrganisationScopedAPIView.write_permission for the API).
    write_permission: Permission | None = None

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if not self._role_check(self.write_permission):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)


class StaffObjectFormView(StaffFormView, SingleObjectMixin):
    """A staff form about one of the organisation's rows (`self.object`, fetched through the
    scoped queryset): Django's SingleObjectMixin + FormView recipe."""

    def get(self, request, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)


class StaffActionView(StaffScopedMixin, SingleObjectMixin, View, ABC):
    """A POST-only button on one of the organisation's rows (`pk` in the URL): run one
    service on it, say how it went, go back. A ValidationError from the service is flashed
    and the caller goes back to `refused_url`, there being no page of its own to show it on.
    """

    http_method_names = ["post"]

    @abstractmethod
    def act(self, obj) -> HttpResponse:
        """Run the one service on the row; flash how it went and return where to go."""

    @abstractmethod
    def refused_url(self, obj) -> str:
        """Where the button was, to show a refusal on."""

    def refusal_messages(self, exc: ValidationError) -> list[str]:
        return exc.messages

    def post(self, request, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        try:
            return self.act(self.object)
        except ValidationError as exc:
            for message in self.refusal_messages(exc):
                messages.error(request, message)
            return redirect(self.refused_url(self.object))
