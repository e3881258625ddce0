"""The organisations a person works in and their team: the staff home (and a new
organisation), staff roles, and staff invitations sent and accepted."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from communities import flows
from communities.choices import Role
from communities.forms.staff import OrganisationForm, StaffInviteForm, StaffRoleForm
from communities.formviews import ServiceFormMixin, StaffActionView, StaffFormView
from communities.links import LinkError
from communities.models import Organisation, StaffInvitation, StaffRole
from communities.permissions import can_manage, can_read_results
from communities.selectors import staff_invitations_open, staff_roles_of, team_members
from communities.services.organisations import (
    organisation_create,
    staff_invitation_accept,
    staff_invitation_from_token,
    staff_invitation_revoke,
    staff_role_change,
    staff_role_remove,
    user_has_verified_email,
)


def staff_landing_url(*, organisation_slug: str, role: str | None) -> str:
    """Where a staff member starts in an organisation: surveys, or cases for an agent."""
    name = "staff:survey_list" if can_read_results(role) else "staff:case_list"
    return reverse(name, args=[organisation_slug])


class StaffHomeView(LoginRequiredMixin, ServiceFormMixin, FormView):
    """The staff start page: the user's organisations with their role; make a new one."""

    template_name = "communities/staff_home.html"
    form_class = OrganisationForm

    def may_create(self) -> bool:
        """Under invite-only sign-up an account (a member's, say) does not make itself an
        organisation: only the site's superusers and people already on some organisation's
        staff may. With open sign-up anyone signed in may, as the sign-up page promises."""
        user = self.request.user
        return (
            settings.ACCOUNT_SIGNUP == "open"
            or user.is_superuser
            or bool(staff_roles_of(user=user))
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not self.may_create():
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = staff_roles_of(user=self.request.user)
        self.request.staff_roles = roles
        context["may_create"] = self.may_create()
        context["memberships"] = [
            (r, staff_landing_url(organisation_slug=r.organisation.slug, role=r.role))
            for r in roles
        ]
        return context

    def form_save(self, form: OrganisationForm) -> Organisation:
        return organisation_create(owner=self.request.user, **form.cleaned_data)

    def get_success_message(self, form: OrganisationForm) -> str:
        return _("%(org)s is ready, and you are its owner. Start with a community.") % {
            "org": self.saved.name
        }

    def get_success_url(self) -> str:
        return reverse("staff:community_list", args=[self.saved.slug])


# --- the team: staff, roles and invitations ---------------------------------------------------


class StaffTeamView(StaffFormView):
    """The organisation's staff and open invitations; owners and admins invite here."""

    template_name = "communities/staff_team.html"
    permission = staticmethod(can_manage)
    form_class = StaffInviteForm
    service_error_statuses = {"rate_limited": 429}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_role": self.role}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        team = list(team_members(organisation=self.organisation))
        for staff_role in team:
            staff_role.may_change = staff_role.user_id != self.request.user.pk and (
                staff_role.role != Role.OWNER or self.role == Role.OWNER
            )
            staff_role.role_form = StaffRoleForm(
                actor_role=self.role, initial={"role": staff_role.role}, prefix=f"r{staff_role.pk}"
            )
        context["team"] = team
        context["invitations"] = staff_invitations_open(organisation=self.organisation)
        return context

    def form_save(self, form: StaffInviteForm) -> StaffInvitation:
        return flows.staff_invitation_send(
            organisation=self.organisation,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=self.request.user,
            actor_role=self.role,
        )

    def get_success_message(self, form: StaffInviteForm) -> str:
        return _("Invitation sent to %(email)s.") % {"email": self.saved.email}

    def get_success_url(self) -> str:
        return reverse("staff:team", args=[self.organisation.slug])


class _TeamActionView(StaffActionView):
    """A one-button action in a row of the team list: a refusal is flashed on the team page."""

    permission = staticmethod(can_manage)

    def refused_url(self, obj) -> str:
        return reverse("staff:team", args=[self.organisation.slug])

    def refusal_messages(self, exc: ValidationError) -> list[str]:
        return [" ".join(exc.messages)]

    def done(self) -> HttpResponse:
        return redirect(self.refused_url(self.object))


class StaffInvitationRevokeView(_TeamActionView):
    model = StaffInvitation

    def act(self, invitation: StaffInvitation) -> HttpResponse:
        staff_invitation_revoke(invitation=invitation, actor=self.request.user)
        messages.success(
            self.request,
            _("The invitation to %(email)s is revoked; its link no longer works.")
            % {"email": invitation.email},
        )
        return self.done()


class StaffRoleChangeView(_TeamActionView):
    model = StaffRole

    def scope_queryset(self, queryset):
        return queryset.select_related("user", "organisation")

    def act(self, staff_role: StaffRole) -> HttpResponse:
        form = StaffRoleForm(self.request.POST, actor_role=self.role, prefix=f"r{staff_role.pk}")
        if not form.is_valid():
            messages.error(self.request, _("Choose one of the roles offered."))
            return self.done()
        staff_role_change(
            staff_role=staff_role,
            role=form.cleaned_data["role"],
            actor=self.request.user,
            actor_role=self.role,
        )
        messages.success(
            self.request,
            _("%(email)s is now %(role)s.")
            % {"email": staff_role.user.email, "role": Role(form.cleaned_data["role"]).label},
        )
        return self.done()


class StaffRoleRemoveView(_TeamActionView):
    model = StaffRole

    def scope_queryset(self, queryset):
        return queryset.select_related("user", "organisation")

    def act(self, staff_role: StaffRole) -> HttpResponse:
        staff_role_remove(staff_role=staff_role, actor=self.request.user, actor_role=self.role)
        messages.success(
            self.request,
            _("%(email)s no longer has access to %(org)s.")
            % {"email": staff_role.user.email, "org": self.organisation.name},
        )
        return self.done()


class StaffInvitationAcceptView(View):
    """/staff-invitation/<signed>/: the link in a staff invitation email.

    Signed out, the page offers sign-in or sign-up and brings them back (the address is
    stashed as verified: the link proves the person reads that mailbox). Signed in with
    the invited address, one button accepts. A bad link says why, with a fitting status.
    """

    template_name = "communities/staff_invitation.html"
    STATUS = {"forged": 400, "expired": 410, "revoked": 410, "used": 409}

    def _invitation(self, request: HttpRequest, signed: str):
        try:
            return staff_invitation_from_token(signed=signed), None
        except LinkError as exc:
            invitation = exc.obj
            if (
                exc.reason == "used"
                and invitation is not None
                and invitation.accepted_by_id == request.user.pk
            ):
                return None, redirect(
                    staff_landing_url(
                        organisation_slug=invitation.organisation.slug,
                        role=StaffRole.objects.filter(
                            user=request.user, organisation=invitation.organisation
                        )
                        .values_list("role", flat=True)
                        .first(),
                    )
                )
            page = render(
                request,
                self.template_name,
                {"problem": exc.reason, "invitation": invitation},
                status=self.STATUS[exc.reason],
            )
            return None, page

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        invitation, page = self._invitation(request, signed)
        if page is not None:
            return page
        context = {"invitation": invitation, "role_label": Role(invitation.role).label}
        if not request.user.is_authenticated:
            get_adapter(request).stash_verified_email(request, invitation.email)
            next_query = urlencode({"next": request.path})
            context.update(
                login_url=f"{reverse('account_login')}?{next_query}",
                signup_url=f"{reverse('account_signup')}?"
                + urlencode({"next": request.path, "email": invitation.email}),
            )
            return render(request, self.template_name, context)
        if not user_has_verified_email(user=request.user, email=invitation.email):
            context["wrong_user"] = True
            return render(request, self.template_name, context, status=403)
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, signed: str) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
        invitation, page = self._invitation(request, signed)
        if page is not None:
            return page
        try:
            staff_role = staff_invitation_accept(invitation=invitation, user=request.user)
        except LinkError as exc:
            return render(
                request,
                self.template_name,
                {"problem": exc.reason, "invitation": invitation},
                status=self.STATUS[exc.reason],
            )
        except ValidationError:
            context = {
                "invitation": invitation,
                "role_label": Role(invitation.role).label,
                "wrong_user": True,
            }
            return render(request, self.template_name, context, status=403)
        messages.success(
            request,
            _("Welcome to %(org)s. You are %(role)s.")
            % {"org": invitation.organisation.name, "role": Role(staff_role.role).label},
        )
        return redirect(
            staff_landing_url(organisation_slug=invitation.organisation.slug, role=staff_role.role)
        )
