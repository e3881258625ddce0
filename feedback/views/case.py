"""One case: the response it was opened on, what may be said about the respondent, the
timeline, and the forms that change it. Each form posts to its own URL, whose view calls
one service and goes back to the case with a message; bad input changes nothing and is
said on the case page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from communities.formviews import StaffActionView
from communities.permissions import can_read_results, can_work_cases
from communities.scoping import StaffScopedMixin
from communities.views.settings import organisation_time_zone
from feedback.choices import CASE_DONE_STATUSES, CASE_TRANSITIONS, CasePriority, CaseStatus
from feedback.forms import (
    CaseAssignForm,
    CaseNoteForm,
    CasePriorityForm,
    CaseReplyForm,
    CaseStatusForm,
    CaseTeamForm,
)
from feedback.models import Case
from feedback.selectors import case_page, case_staff, case_teams, root_causes
from feedback.services.case_priority import case_priority_set
from feedback.services.case_reply import case_reply_language, case_reply_send
from feedback.services.cases import (
    case_assign,
    case_note_post,
    case_status_change,
    case_team_set,
)
from feedback.services.contact import followup_recipient
from feedback.services.recovery import case_resolve
from feedback.timeline import (
    case_due_text,
    case_event_actor,
    case_event_body_html,
    case_event_text,
)
from surveys.models import Response


def respondent_context(*, response: Response, role: str | None) -> dict[str, Any] | None:
    """What the case page may say about who answered: nothing for an anonymous response
    (or one nobody is known for); else their name (not once erased), their address only
    while they agree to be contacted about the answer (followup_recipient), and a link to
    their member page for the roles that may open it."""
    if response.is_anonymous:
        return None
    member = response.member if response.member_id else None
    if member is not None and member.erased_at:
        member = None
    if member is None and response.invitation_id is None:
        return None
    return {
        "name": member.name if member is not None else "",
        "email": followup_recipient(response=response),
        "member": member if member is not None and can_read_results(role) else None,
        "consent_to_contact": response.consent_to_contact,
    }


class StaffCaseDetailView(StaffScopedMixin, DetailView):
    template_name = "feedback/staff_case_detail.html"
    permission = staticmethod(can_work_cases)
    model = Case
    context_object_name = "case"

    def scope_queryset(self, queryset):
        del queryset  # case_page is the organisation's cases with what the page shows
        return case_page(organisation=self.organisation)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case: Case = self.object
        response = case.response
        staff = case_staff(organisation=self.organisation)
        now = timezone.now()
        case.due_text, case.is_overdue = case_due_text(
            due_at=case.due_at, status=case.status, now=now
        )
        if case.first_response_at is None:
            case.response_due_text, case.response_overdue = case_due_text(
                due_at=case.first_response_due_at, status=case.status, now=now
            )
        causes = list(root_causes(organisation=self.organisation))
        allowed = CASE_TRANSITIONS.get(case.status, frozenset())
        context.update(
            answers=response.answers.all(),
            timeline=[
                {
                    "event": event,
                    "text": case_event_text(event),
                    "actor": case_event_actor(event),
                    "body": case_event_body_html(event),
                }
                for event in case.events.all()
            ],
            respondent=respondent_context(response=response, role=self.role),
            assign_form=CaseAssignForm(
                initial={"assignee": str(case.assignee_id or "")},
                staff=staff,
                user=self.request.user,
            ),
            status_form=CaseStatusForm(root_causes=causes),
            root_causes=causes,
            priority_form=CasePriorityForm(initial={"priority": case.priority}),
            team_form=CaseTeamForm(
                initial={"team": case.team_id or ""},
                teams=case_teams(organisation=self.organisation),
            ),
            is_done=case.status in CASE_DONE_STATUSES,
            status_choices=[(v, label) for v, label in CaseStatus.choices if v in allowed],
            note_form=CaseNoteForm(initial={"submission": uuid.uuid4().hex}),
            reply_form=CaseReplyForm(initial={"submission": uuid.uuid4().hex}),
            reply_language=case_reply_language(case=case),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


class _CaseAction(StaffActionView):
    """A form on the case page: validate it, call one service, go back to the case."""

    model = Case
    permission = staticmethod(can_work_cases)
    form_class: type = CaseStatusForm

    def refused_url(self, case: Case) -> str:
        return reverse("staff:case_detail", args=[self.organisation.slug, case.pk])

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def act(self, case: Case) -> HttpResponse:
        form = self.form_class(self.request.POST, **self.form_kwargs())
        if not form.is_valid():
            raise ValidationError(
                [str(error) for errors in form.errors.values() for error in errors]
            )
        message = self.save(case, form.cleaned_data)
        messages.success(self.request, message)
        return redirect(self.refused_url(case))

    def save(self, case: Case, data: dict[str, Any]) -> str:
        """Call the one service; return what to tell the staff member."""
        raise NotImplementedError


class StaffCaseAssignView(_CaseAction):
    form_class = CaseAssignForm

    def form_kwargs(self) -> dict[str, Any]:
        return {"staff": case_staff(organisation=self.organisation), "user": self.request.user}

    def save(self, case: Case, data: dict[str, Any]) -> str:
        assignee = data["assignee"]
        event = case_assign(case=case, assignee=assignee, actor=self.request.user)
        name = (assignee.name or assignee.email) if assignee else ""
        if event is None:
            return (
                _("The case was already with %(name)s.") % {"name": name}
                if assignee
                else _("The case was already unassigned.")
            )
        return (
            _("Case assigned to %(name)s.") % {"name": name} if assignee else _("Case unassigned.")
        )


class StaffCaseTeamView(_CaseAction):
    form_class = CaseTeamForm

    def form_kwargs(self) -> dict[str, Any]:
        return {"teams": case_teams(organisation=self.organisation)}

    def save(self, case: Case, data: dict[str, Any]) -> str:
        team = data["team"]
        event = case_team_set(case=case, team=team, actor=self.request.user)
        if event is None:
            return _("The case was already there.")
        if team is None:
            return _("The case is with no team now.")
        return _("Case moved to the team %(name)s.") % {"name": team.name}


class StaffCasePriorityView(_CaseAction):
    form_class = CasePriorityForm

    def save(self, case: Case, data: dict[str, Any]) -> str:
        event = case_priority_set(case=case, priority=data["priority"], actor=self.request.user)
        if event is None:
            return _("The case already had that priority.")
        return _("Priority changed to %(priority)s; the due times follow its service level.") % {
            "priority": CasePriority(data["priority"]).label
        }


class StaffCaseStatusView(_CaseAction):
    form_class = CaseStatusForm

    def form_kwargs(self) -> dict[str, Any]:
        return {"root_causes": root_causes(organisation=self.organisation)}

    def save(self, case: Case, data: dict[str, Any]) -> str:
        if data["status"] == CaseStatus.RESOLVED:
            case_resolve(
                case=case,
                resolution=data["resolution"],
                root_cause=data["root_cause"],
                recovery=data["recovery"],
                actor=self.request.user,
            )
            if data["recovery"]:
                return _("Case resolved; the customer is asked whether it is fixed.")
            return _("Case resolved.")
        case_status_change(case=case, status=data["status"], actor=self.request.user)
        if data["status"] == CaseStatus.CLOSED:
            return _("Case closed.")
        if case.status in CASE_DONE_STATUSES:
            return _("Case reopened.")
        return _("Case moved to %(status)s.") % {"status": CaseStatus(data["status"]).label}


class StaffCaseNoteView(_CaseAction):
    form_class = CaseNoteForm

    def save(self, case: Case, data: dict[str, Any]) -> str:
        event = case_note_post(
            case=case,
            body=data["body"],
            actor=self.request.user,
            staff=case_staff(organisation=self.organisation),
            submission=data["submission"],
        )
        me = self.request.user.pk
        mentioned = [m["name"] for m in event.data.get("mentions", []) if m["id"] != me]
        if mentioned:
            return _("Note added; %(names)s will get an email.") % {"names": ", ".join(mentioned)}
        return _("Note added.")


class StaffCaseReplyView(_CaseAction):
    form_class = CaseReplyForm

    def save(self, case: Case, data: dict[str, Any]) -> str:
        case_reply_send(
            case=case, body=data["body"], actor=self.request.user, submission=data["submission"]
        )
        return _("Reply sent to the customer; the case waits on their answer.")
