"""Staff pages of the organisation's stores (locations): the list, a new store, one store's
page (its details, which managers edit) and the archive and bring-back buttons.

A store's kiosks belong to surveys, a layer above: surveys serves them under the store's
URL (staff:location_kiosks), and the store's page links there when that route exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from communities.forms.locations import LocationForm
from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.models import Location
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import audit_entries, location_list, staff_users
from communities.services.locations import (
    location_archive,
    location_create,
    location_unarchive,
    location_update,
)
from communities.views.settings import audit_rows, organisation_time_zone


class StaffLocationListView(StaffScopedMixin, TemplateView):
    """The organisation's stores: those in use, then the archived ones."""

    template_name = "communities/staff_location_list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stores = list(location_list(organisation=self.organisation))
        context.update(
            active=[s for s in stores if s.archived_at is None],
            archived=[s for s in stores if s.archived_at is not None],
            can_manage=can_manage(self.role),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


class _LocationFormMixin:
    """The store form offers the organisation's staff, and only them, as managers."""

    form_class = LocationForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "staff": staff_users(organisation=self.organisation)}

    def location_fields(self, form: LocationForm) -> dict[str, Any]:
        return {name: form.cleaned_data[name] for name in ("name", "code", "language", "manager")}

    def get_success_url(self) -> str:
        return reverse("staff:location_detail", args=[self.organisation.slug, self.saved.pk])


class StaffLocationCreateView(_LocationFormMixin, StaffFormView):
    template_name = "communities/staff_location_form.html"
    permission = staticmethod(can_manage)

    def form_save(self, form: LocationForm) -> Location:
        return location_create(
            organisation=self.organisation, actor=self.request.user, **self.location_fields(form)
        )

    def get_success_message(self, form: LocationForm) -> str:
        return _("Store “%(name)s” created.") % {"name": self.saved.name}


class StaffLocationDetailView(_LocationFormMixin, StaffObjectFormView):
    """One store: analysts read its details; owners and admins edit them here."""

    template_name = "communities/staff_location_detail.html"
    model = Location
    context_object_name = "location"
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)

    def scope_queryset(self, queryset: QuerySet[Location]) -> QuerySet[Location]:
        return queryset.select_related("manager")

    def get_initial(self) -> dict[str, Any]:
        return LocationForm.initial_from(self.object)

    def form_save(self, form: LocationForm) -> Location:
        return location_update(
            location=self.object, actor=self.request.user, **self.location_fields(form)
        )

    def get_success_message(self, form: LocationForm) -> str:
        return _("Store “%(name)s” saved.") % {"name": self.saved.name}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            can_manage=can_manage(self.role),
            change_rows=audit_rows(
                audit_entries(
                    organisation=self.organisation,
                    target_type="location",
                    target_id=str(self.object.pk),
                    limit=10,
                )
            ),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


class _LocationActionView(StaffActionView):
    model = Location
    permission = staticmethod(can_manage)

    def refused_url(self, obj: Location) -> str:
        return reverse("staff:location_detail", args=[self.organisation.slug, obj.pk])


class StaffLocationArchiveView(_LocationActionView):
    def act(self, location: Location) -> HttpResponse:
        location_archive(location=location, actor=self.request.user)
        messages.success(
            self.request,
            _("Store “%(name)s” is archived: no new kiosks can be registered for it.")
            % {"name": location.name},
        )
        return redirect("staff:location_list", self.organisation.slug)


class StaffLocationUnarchiveView(_LocationActionView):
    def act(self, location: Location) -> HttpResponse:
        location_unarchive(location=location, actor=self.request.user)
        messages.success(
            self.request, _("Store “%(name)s” is back in use.") % {"name": location.name}
        )
        return redirect("staff:location_detail", self.organisation.slug, location.pk)
