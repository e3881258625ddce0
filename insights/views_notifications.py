"""Staff: notification preferences (everyone, their own), threshold alerts per store and
the weekly report (owners and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.permissions import can_manage
from insights.forms_notifications import PreferenceForm, ReportScheduleForm, ThresholdAlertForm
from insights.models import ReportSchedule, ThresholdAlert
from insights.notify.config import (
    report_schedule_save,
    threshold_alert_delete,
    threshold_alert_save,
)
from insights.notify.preferences import preference_of, preference_save


class NotificationPreferencesView(StaffFormView):
    """Every staff role chooses its own emails; nobody edits anyone else's."""

    template_name = "insights/notifications/preferences.html"
    form_class = PreferenceForm
    success_message = _("Your notification preferences are saved.")

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = preference_of(organisation=self.organisation, user=self.request.user)
        return kwargs

    def form_save(self, form):
        return preference_save(
            organisation=self.organisation, user=self.request.user, **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("staff:notification_preferences", args=[self.organisation.slug])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = can_manage(self.role)
        return context


class _AlertFormMixin:
    form_class = ThresholdAlertForm
    permission = staticmethod(can_manage)
    model = ThresholdAlert

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["organisation"] = self.organisation
        return kwargs

    def get_success_url(self) -> str:
        return reverse("staff:notification_alert_list", args=[self.organisation.slug])


class ThresholdAlertListView(_AlertFormMixin, StaffFormView):
    """The organisation's alerts, and a form to add one."""

    template_name = "insights/notifications/alert_list.html"
    success_message = _("The alert is saved.")

    def form_save(self, form):
        return threshold_alert_save(organisation=self.organisation, **form.cleaned_data)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["alerts"] = (
            self.get_queryset().select_related("location").prefetch_related("recipients")
        )
        return context


class ThresholdAlertEditView(_AlertFormMixin, StaffObjectFormView):
    template_name = "insights/notifications/alert_edit.html"
    success_message = _("The alert is saved.")

    def get_initial(self) -> dict:
        alert = self.object
        return {
            "location": alert.location,
            "threshold": alert.threshold,
            "window_minutes": alert.window_minutes,
            "recipients": list(alert.recipients.all()),
            "active": alert.active,
        }

    def form_save(self, form):
        return threshold_alert_save(
            organisation=self.organisation, alert=self.object, **form.cleaned_data
        )


class ThresholdAlertDeleteView(StaffActionView):
    permission = staticmethod(can_manage)
    model = ThresholdAlert

    def act(self, obj) -> HttpResponse:
        threshold_alert_delete(alert=obj)
        messages.success(self.request, _("The alert is removed."))
        return redirect("staff:notification_alert_list", self.organisation.slug)

    def refused_url(self, obj) -> str:
        return reverse("staff:notification_alert_list", args=[self.organisation.slug])


class ReportScheduleView(StaffFormView):
    """The weekly report: on or off, its day and hour, its recipients."""

    template_name = "insights/notifications/report.html"
    form_class = ReportScheduleForm
    permission = staticmethod(can_manage)
    success_message = _("The weekly report's schedule is saved.")

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["organisation"] = self.organisation
        return kwargs

    def get_initial(self) -> dict:
        schedule = ReportSchedule.objects.for_organisation(self.organisation).first()
        if schedule is None:
            return {"active": False, "weekday": 0, "hour": 8}
        return {
            "active": schedule.active,
            "weekday": schedule.weekday,
            "hour": schedule.hour,
            "recipients": list(schedule.recipients.all()),
        }

    def form_save(self, form):
        return report_schedule_save(organisation=self.organisation, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("staff:notification_report", args=[self.organisation.slug])
