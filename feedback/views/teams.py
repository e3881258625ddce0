"""The case settings owners and admins keep: teams, root causes and service levels (the
business hours and the targets per priority the SLA clocks count)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.permissions import can_manage
from feedback.choices import CasePriority
from feedback.forms import RootCauseForm, ServiceLevelsForm, TeamForm
from feedback.models import RootCause, Team
from feedback.selectors import case_staff, case_teams, root_causes
from feedback.services.sla import business_hours_of, sla_targets
from feedback.services.teams import root_cause_save, service_levels_save, team_delete, team_save


class StaffTeamListView(StaffFormView):
    """The teams, and the form that adds one."""

    template_name = "feedback/staff_team_list.html"
    permission = staticmethod(can_manage)
    form_class = TeamForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "staff": case_staff(organisation=self.organisation)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["teams"] = case_teams(organisation=self.organisation).annotate(
            member_count=Count("members", distinct=True)
        )
        return context

    def form_save(self, form: TeamForm) -> Team:
        return team_save(
            organisation=self.organisation,
            actor=self.request.user,
            name=form.cleaned_data["name"],
            lead=form.cleaned_data.get("lead"),
            members=form.cleaned_data["members"],
        )

    def get_success_message(self, form) -> str:
        return _("Team “%(name)s” created.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:team_list", args=[self.organisation.slug])


class StaffTeamEditView(StaffObjectFormView):
    template_name = "feedback/staff_team_form.html"
    permission = staticmethod(can_manage)
    model = Team
    context_object_name = "team"
    form_class = TeamForm

    def scope_queryset(self, queryset: QuerySet[Team]) -> QuerySet[Team]:
        return queryset.select_related("lead").prefetch_related("members")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "staff": case_staff(organisation=self.organisation)}

    def get_initial(self) -> dict[str, Any]:
        return {
            "name": self.object.name,
            "lead": self.object.lead_id or "",
            "members": [m.pk for m in self.object.members.all()],
        }

    def form_save(self, form: TeamForm) -> Team:
        return team_save(
            organisation=self.organisation,
            actor=self.request.user,
            name=form.cleaned_data["name"],
            lead=form.cleaned_data.get("lead"),
            members=form.cleaned_data["members"],
            team=self.object,
        )

    def get_success_message(self, form) -> str:
        return _("Team “%(name)s” saved.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:team_list", args=[self.organisation.slug])


class StaffTeamDeleteView(StaffActionView):
    model = Team
    permission = staticmethod(can_manage)

    def refused_url(self, obj: Team) -> str:
        return reverse("staff:team_edit", args=[self.organisation.slug, obj.pk])

    def act(self, team: Team) -> HttpResponse:
        name = team.name
        team_delete(team=team, actor=self.request.user)
        messages.success(
            self.request, _("Team “%(name)s” deleted; its cases have no team now.") % {"name": name}
        )
        return redirect("staff:team_list", self.organisation.slug)


class StaffRootCauseListView(StaffFormView):
    """The organisation's root causes, and the form that adds one."""

    template_name = "feedback/staff_root_cause_list.html"
    permission = staticmethod(can_manage)
    form_class = RootCauseForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["causes"] = root_causes(organisation=self.organisation, active_only=False).annotate(
            case_count=Count("cases")
        )
        return context

    def form_save(self, form: RootCauseForm) -> RootCause:
        return root_cause_save(
            organisation=self.organisation,
            actor=self.request.user,
            name=form.cleaned_data["name"],
            active=True,
        )

    def get_success_message(self, form) -> str:
        return _("Root cause “%(name)s” added.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:root_cause_list", args=[self.organisation.slug])


class StaffRootCauseEditView(StaffObjectFormView):
    template_name = "feedback/staff_root_cause_form.html"
    permission = staticmethod(can_manage)
    model = RootCause
    context_object_name = "cause"
    form_class = RootCauseForm

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.object.name, "active": self.object.active}

    def form_save(self, form: RootCauseForm) -> RootCause:
        return root_cause_save(
            organisation=self.organisation,
            actor=self.request.user,
            name=form.cleaned_data["name"],
            active=form.cleaned_data["active"],
            root_cause=self.object,
        )

    def get_success_message(self, form) -> str:
        return _("Root cause “%(name)s” saved.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:root_cause_list", args=[self.organisation.slug])


class StaffServiceLevelsView(StaffFormView):
    """Business hours and the SLA targets per priority, on one page."""

    template_name = "feedback/staff_service_levels.html"
    permission = staticmethod(can_manage)
    form_class = ServiceLevelsForm
    success_message = ""

    def get_initial(self) -> dict[str, Any]:
        hours = business_hours_of(organisation=self.organisation)
        initial: dict[str, Any] = {"days": list(hours.days), "opens": hours.opens}
        initial["closes"] = hours.closes
        for priority in CasePriority.values:
            first, resolution = sla_targets(organisation=self.organisation, priority=priority)
            initial[f"{priority}_first_response"] = round(first / 60, 2)
            initial[f"{priority}_resolution"] = round(resolution / 60, 2)
        return initial

    def form_save(self, form: ServiceLevelsForm) -> None:
        service_levels_save(
            organisation=self.organisation,
            actor=self.request.user,
            days=form.cleaned_data["days"],
            opens=form.cleaned_data["opens"],
            closes=form.cleaned_data["closes"],
            targets=form.targets(),
        )

    def get_success_message(self, form) -> str:
        return _("Service levels saved; new cases and reopened ones are due by them.")

    def get_success_url(self) -> str:
        return reverse("staff:service_levels", args=[self.organisation.slug])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["time_zone_name"] = self.organisation.time_zone or "UTC"
        return context
