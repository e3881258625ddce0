from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from communities import flows
from communities.choices import LIFECYCLE_STATUSES, ConsentPurpose, JoinMode, MemberStatus, Role
from communities.flows import (
    member_confirmation_resend,
    member_erase,
    member_export,
    member_invitation_accept,
    member_join,
)
from communities.forms import (
    AttributeForm,
    CommunityForm,
    EraseForm,
    JoinForm,
    OrganisationForm,
    ProfileForm,
    StaffInviteForm,
    StaffRoleForm,
    service_errors_apply,
)
from communities.models import (
    ApiToken,
    AttributeDefinition,
    Community,
    Member,
    StaffInvitation,
    StaffRole,
    same_site_path_validator,
)
from communities.permissions import can_manage, can_read_results
from communities.selectors import (
    community_lifecycle_trend,
    community_list,
    member_consents,
    member_needs_terms,
    member_of,
    member_status_counts,
    staff_invitations_open,
    staff_roles_of,
    team_members,
)
from communities.services import (
    MEMBER_CURRENT_STATUSES,
    MemberLinkError,
    StaffInvitationError,
    api_token_create,
    api_token_revoke,
    attribute_create,
    attribute_delete,
    attribute_member_count,
    attribute_update,
    community_create,
    community_update,
    email_normalise,
    member_confirm,
    member_consent_change,
    member_from_confirm_link,
    member_from_invitation,
    member_profile_update,
    organisation_create,
    staff_invitation_accept,
    staff_invitation_from_token,
    staff_invitation_revoke,
    staff_role_change,
    staff_role_remove,
    user_has_verified_email,
)
from config.ratelimit import client_ip, rate_limited

# Attribute services name the English label "label"; the form calls it "label_en".
LABEL_FIELDS = {"label": "label_en"}


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
        # All the user's roles in one query: the navbar's organisation switcher reuses them.
        request.staff_roles = staff_roles_of(user=request.user)
        slug = kwargs.get("org", "")
        role = next((r for r in request.staff_roles if r.organisation.slug == slug), None)
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
    """The staff start page: the user's organisations with their role; make a new one."""

    template_name = "communities/staff_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = staff_roles_of(user=self.request.user)
        self.request.staff_roles = roles
        context["memberships"] = [
            (r, staff_landing_url(organisation_slug=r.organisation.slug, role=r.role))
            for r in roles
        ]
        context.setdefault("form", OrganisationForm())
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                organisation = organisation_create(owner=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
            else:
                messages.success(
                    request,
                    _("%(org)s is ready, and you are its owner. Start with a community.")
                    % {"org": organisation.name},
                )
                return redirect("staff:community_list", organisation.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


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


# --- the member side: join, confirm, invitations, profile, consent, my data -----------------
#
# Public pages under /c/<org>/<community>/ (namespace "community"). They are not staff
# pages: the community comes from the URL, the member from the signed-in user.

JOIN_PER_IP_PER_HOUR = 20
JOIN_PER_ADDRESS_PER_HOUR = 5
AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


class MemberPageMixin(View):
    """Resolves the community from the URL (404 when unknown), the signed-in user's
    membership and the language: ?lang= first, then the member's, then the browser's."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.community = get_object_or_404(
            Community.objects.select_related("organisation"),
            organisation__slug=kwargs["org"],
            slug=kwargs["community"],
        )
        self.organisation = self.community.organisation
        self.member = member_of(community=self.community, user=request.user)
        self.language = self._language(request)
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language
        return super().dispatch(request, *args, **kwargs)

    def _language(self, request: HttpRequest) -> str:
        codes = {code for code, _name in settings.LANGUAGES}
        for candidate in (
            request.GET.get("lang"),
            self.member.locale if self.member else None,
            getattr(request, "LANGUAGE_CODE", None),
            self.organisation.default_language,
        ):
            if candidate and candidate.split("-")[0] in codes:
                return candidate.split("-")[0]
        return settings.LANGUAGE_CODE

    def portal_url(self) -> str:
        return reverse("surveys:community_home", args=[self.organisation.slug, self.community.slug])

    def page(self, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            f"communities/{template}",
            {
                "community": self.community,
                "organisation": self.organisation,
                "brand": community_brand(community=self.community),
                "member": self.member,
                "is_current_member": self.member is not None
                and self.member.status in MEMBER_CURRENT_STATUSES,
                "languages": settings.LANGUAGES,
                **(context or {}),
            },
            status=status,
        )


def _local_path(value: str) -> str:
    try:
        same_site_path_validator(value)
    except ValidationError:
        return ""
    return value


def community_brand(*, community: Community) -> dict[str, str]:
    """The community's logo and colour, falling back to its organisation's."""
    return {
        # The organisation's logo predates the same-site rule: only a local path is shown.
        "logo": community.logo or _local_path(community.organisation.logo),
        "colour": community.brand_colour or community.organisation.brand_colour,
    }


def reconsent_page(request: HttpRequest, *, member: Member) -> HttpResponse | None:
    """The interstitial shown in place of a member page while the member has not accepted
    the community's current policy version; None when they have."""
    if member.status not in MEMBER_CURRENT_STATUSES or not member_needs_terms(member=member):
        return None
    community = member.community
    return render(
        request,
        "communities/member_reconsent.html",
        {
            "community": community,
            "organisation": community.organisation,
            "brand": community_brand(community=community),
            "member": member,
            "is_current_member": True,
            "languages": settings.LANGUAGES,
            "next": request.get_full_path(),
        },
    )


class MemberRequiredMixin(MemberPageMixin):
    """Pages for a signed-in, current member of this community. Others are sent to sign in
    (by emailed code) or to the community home; a newer policy version is asked first."""

    reconsent_gate = True

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("account_request_login_code"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = self._allowed()
        return refused if refused is not None else self.member_get(request)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = self._allowed()
        return refused if refused is not None else self.member_post(request)

    def _allowed(self) -> HttpResponse | None:
        if self.member is None or self.member.status not in MEMBER_CURRENT_STATUSES:
            messages.info(self.request, _("You are not a member of this community."))
            return redirect(self.portal_url())
        if self.reconsent_gate:
            return reconsent_page(self.request, member=self.member)
        return None

    def member_get(self, request: HttpRequest) -> HttpResponse:
        raise Http404

    def member_post(self, request: HttpRequest) -> HttpResponse:
        raise Http404


def _join_definitions(community: Community) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(community=community, ask_on_join=True))


class MemberJoinView(MemberPageMixin):
    """The public, branded join page of an open community."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.community.join_mode != JoinMode.OPEN:
            return self.page("member_invite_only.html", status=403)
        if self.member is not None and self.member.status in MEMBER_CURRENT_STATUSES:
            return redirect(self.portal_url())
        form = JoinForm(
            definitions=_join_definitions(self.community),
            language=self.language,
            initial={"language": self.language, "ref": request.GET.get("ref", "")[:16]},
        )
        return self._render(form)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.community.join_mode != JoinMode.OPEN:
            return self.page("member_invite_only.html", status=403)
        form = JoinForm(
            request.POST, definitions=_join_definitions(self.community), language=self.language
        )
        if rate_limited(
            scope="join-ip",
            key=f"{self.community.pk}:{client_ip(request)}",
            limit=JOIN_PER_IP_PER_HOUR,
            window=3600,
        ):
            return self.page("member_rate_limited.html", status=429)
        if not form.is_valid():
            return self._render(form, status=400)
        data = form.cleaned_data
        address = email_normalise(data["email"])
        if rate_limited(
            scope="join-address",
            key=f"{self.community.pk}:{address}",
            limit=JOIN_PER_ADDRESS_PER_HOUR,
            window=3600,
        ):
            return self.page("member_rate_limited.html", status=429)
        try:
            member_join(
                community=self.community,
                email=data["email"],
                name=data["name"],
                locale=data["language"],
                attributes=form.attribute_values(),
                terms_accepted=data["consent"],
                marketing=data["marketing"],
                referral_code=data.get("ref", ""),
            )
        except ValidationError as exc:
            service_errors_apply(form, exc)
            return self._render(form, status=400)
        return redirect(
            reverse("community:join_sent", args=[self.organisation.slug, self.community.slug])
            + f"?lang={data['language']}"
        )

    def _render(self, form: JoinForm, status: int = 200) -> HttpResponse:
        return self.page("member_join.html", {"form": form}, status=status)


class MemberJoinSentView(MemberPageMixin):
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self.page("member_join_sent.html")


class MemberConfirmView(MemberPageMixin):
    """The double opt-in link: confirms, signs the person in and opens the portal.

    A second click within the link's week signs in again; a forged link is 400, an
    expired one 410 with a button for a new link.
    """

    def get(self, request: HttpRequest, *args, signed: str, **kwargs) -> HttpResponse:
        try:
            member, payload = member_from_confirm_link(signed=signed, community=self.community)
        except MemberLinkError as exc:
            return self._refused(exc)
        try:
            member = member_confirm(member=member, payload=payload)
        except ValidationError as exc:
            return self.page("member_link_refused.html", {"message": exc.messages[0]}, status=409)
        auth_login(request, member.user, backend=AUTH_BACKEND)
        messages.success(
            request,
            _("Welcome to %(community)s! Your email address is confirmed.")
            % {"community": self.community.name},
        )
        return redirect(self.portal_url())

    def post(self, request: HttpRequest, *args, signed: str, **kwargs) -> HttpResponse:
        """Send a new link in place of an expired one."""
        try:
            member_from_confirm_link(signed=signed, community=self.community)
        except MemberLinkError as exc:
            if exc.reason == "expired" and exc.member is not None:
                member_confirmation_resend(member=exc.member)
                return redirect(
                    reverse(
                        "community:join_sent", args=[self.organisation.slug, self.community.slug]
                    )
                )
            return self._refused(exc)
        return redirect(request.path)

    def _refused(self, exc: MemberLinkError) -> HttpResponse:
        if exc.reason == "expired":
            pending = exc.member is not None and exc.member.status == MemberStatus.PENDING
            return self.page(
                "member_link_refused.html",
                {
                    "message": _("This confirmation link has expired.")
                    if pending
                    else _("This link has expired. You can sign in with a code we email you."),
                    "resend": pending,
                    "sign_in": not pending,
                },
                status=410,
            )
        return self.page(
            "member_link_refused.html",
            {"message": _("This link is not valid. Please use the link from your email as it is.")},
            status=400,
        )


class MemberInvitationView(MemberPageMixin):
    """An invitation-to-join link: the join form with the address fixed; accepting confirms
    at once, because the link proved the address."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.signed = kwargs.get("signed", "")
        return super().dispatch(request, *args, **kwargs)

    def _invited(self) -> Member | HttpResponse:
        try:
            return member_from_invitation(signed=self.signed, community=self.community)
        except MemberLinkError as exc:
            reasons = {
                "expired": (
                    _("This invitation has expired. Please ask for a new one."),
                    410,
                ),
                "used": (
                    _("This invitation has already been used. Sign in to visit the community."),
                    409,
                ),
            }
            message, status = reasons.get(
                exc.reason,
                (_("This link is not valid. Please use the link from your email as it is."), 400),
            )
            return self.page(
                "member_link_refused.html",
                {"message": message, "sign_in": exc.reason == "used"},
                status=status,
            )

    def _form(self, invited: Member, data=None) -> JoinForm:
        return JoinForm(
            data,
            definitions=_join_definitions(self.community),
            language=self.language,
            fixed_email=invited.email,
            initial={"name": invited.name, "language": invited.locale or self.language},
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        invited = self._invited()
        if isinstance(invited, HttpResponse):
            return invited
        return self.page("member_join.html", {"form": self._form(invited), "invited": invited})

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        invited = self._invited()
        if isinstance(invited, HttpResponse):
            return invited
        form = self._form(invited, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                member = member_invitation_accept(
                    member=invited,
                    name=data["name"],
                    locale=data["language"],
                    attributes=form.attribute_values(),
                    terms_accepted=data["consent"],
                    marketing=data["marketing"],
                )
            except ValidationError as exc:
                service_errors_apply(form, exc)
            else:
                auth_login(request, member.user, backend=AUTH_BACKEND)
                messages.success(
                    request,
                    _("Welcome to %(community)s!") % {"community": self.community.name},
                )
                return redirect(self.portal_url())
        return self.page("member_join.html", {"form": form, "invited": invited}, status=400)


class MemberProfileView(MemberRequiredMixin):
    def _form(self, data=None) -> ProfileForm:
        return ProfileForm(
            data,
            definitions=list(AttributeDefinition.objects.filter(community=self.community)),
            language=self.language,
            attributes=self.member.attributes,
            initial={"name": self.member.name, "language": self.member.locale},
        )

    def member_get(self, request: HttpRequest) -> HttpResponse:
        return self.page("member_profile.html", {"form": self._form()})

    def member_post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                member_profile_update(
                    member=self.member,
                    name=form.cleaned_data["name"],
                    locale=form.cleaned_data["language"],
                    attributes=form.attribute_values(),
                )
            except ValidationError as exc:
                service_errors_apply(form, exc)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect(
                    reverse("community:profile", args=[self.organisation.slug, self.community.slug])
                    + f"?lang={form.cleaned_data['language']}"
                )
        return self.page("member_profile.html", {"form": form}, status=400)


class MemberConsentView(MemberRequiredMixin):
    """The consent centre: each purpose's state, grant or withdraw, and the full history.

    Reachable while a new policy version waits to be accepted: it is where one accepts it
    or leaves.
    """

    reconsent_gate = False

    def member_get(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("leave"):
            return self.page("member_leave.html")
        return self._render()

    def _render(self, status: int = 200) -> HttpResponse:
        latest = member_consents(member=self.member)
        purposes = [
            {
                "value": purpose.value,
                "label": purpose.label,
                "help": CONSENT_HELP[purpose.value],
                "record": latest[purpose.value],
                "granted": bool(latest[purpose.value] and latest[purpose.value].granted),
            }
            for purpose in ConsentPurpose
        ]
        return self.page(
            "member_consent.html",
            {
                "purposes": purposes,
                "history": self.member.consents.order_by("-recorded_at", "-pk"),
                "needs_terms": member_needs_terms(member=self.member),
            },
            status=status,
        )

    def member_post(self, request: HttpRequest) -> HttpResponse:
        purpose = request.POST.get("purpose", "")
        action = request.POST.get("action", "")
        if purpose not in ConsentPurpose.values or action not in ("grant", "withdraw"):
            messages.error(request, _("That choice was not understood; nothing was changed."))
            return self._render(status=400)
        granted = action == "grant"
        leaving = purpose == ConsentPurpose.COMMUNITY_TERMS and not granted
        if leaving and request.POST.get("confirm") != "yes":
            return self.page("member_leave.html", status=400)
        member_consent_change(member=self.member, purpose=purpose, granted=granted)
        if leaving:
            messages.success(
                request,
                _("You have left %(community)s. We will not email you about it any more.")
                % {"community": self.community.name},
            )
            return redirect(self.portal_url())
        messages.success(request, _("Your choice is saved."))
        nxt = request.POST.get("next", "")
        if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            return redirect(nxt)
        return redirect(
            reverse("community:consent", args=[self.organisation.slug, self.community.slug])
        )


CONSENT_HELP = {
    ConsentPurpose.COMMUNITY_TERMS: _(
        "Being a member: we keep your profile and answers under the community terms and "
        "privacy policy. Withdrawing this means leaving the community."
    ),
    ConsentPurpose.CONTACT_FOLLOWUP: _(
        "Someone from the team may email you about an answer you gave, to put things right."
    ),
    ConsentPurpose.MARKETING: _("News and offers by email."),
}


class MemberMyDataView(MemberRequiredMixin):
    """Download everything held about me, or erase myself. Always reachable: these rights
    do not wait for a new policy to be accepted."""

    reconsent_gate = False

    def member_get(self, request: HttpRequest) -> HttpResponse:
        return self.page("member_my_data.html", {"form": EraseForm(), "word": _("ERASE")})


class MemberExportView(MemberRequiredMixin):
    reconsent_gate = False

    def member_get(self, request: HttpRequest) -> HttpResponse:
        data = member_export(member=self.member)
        filename = f"{self.community.slug}-my-data-{timezone.localdate().isoformat()}.json"
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class MemberEraseView(MemberRequiredMixin):
    """Erase myself: POST only, after typing the word shown (or my address)."""

    reconsent_gate = False
    http_method_names = ["post"]

    def member_post(self, request: HttpRequest) -> HttpResponse:
        form = EraseForm(request.POST)
        word = str(_("ERASE"))
        typed = form.data.get("confirmation", "").strip() if form.is_valid() else ""
        # The English word works in every language: support answers people in English too.
        accepted = {word.casefold(), "erase", self.member.email.casefold()}
        if typed.casefold() not in accepted:
            form.add_error(
                "confirmation" if "confirmation" in form.fields else None,
                _("Type %(word)s (or your email address) to confirm.") % {"word": word},
            )
            return self.page("member_my_data.html", {"form": form, "word": word}, status=400)
        member_erase(member=self.member)
        auth_logout(request)
        self.member = None
        return self.page("member_erased.html")


# --- organisations: the staff home and the switcher -------------------------------------------


def staff_landing_url(*, organisation_slug: str, role: str | None) -> str:
    """Where a staff member starts in an organisation: surveys, or cases for an agent."""
    name = "staff:survey_list" if can_read_results(role) else "staff:case_list"
    return reverse(name, args=[organisation_slug])


# --- the team: staff, roles and invitations ---------------------------------------------------


class StaffTeamView(StaffScopedMixin, TemplateView):
    """The organisation's staff and open invitations; owners and admins invite here."""

    template_name = "communities/staff_team.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", StaffInviteForm(actor_role=self.role))
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

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = StaffInviteForm(request.POST, actor_role=self.role)
        status = 400
        if form.is_valid():
            try:
                invitation = flows.staff_invitation_send(
                    organisation=self.organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    actor_role=self.role,
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
                if getattr(exc, "code", None) == "rate_limited":
                    status = 429
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": invitation.email},
                )
                return redirect("staff:team", self.organisation.slug)
        return self.render_to_response(self.get_context_data(form=form), status=status)


class _TeamActionView(StaffScopedMixin, View):
    permission = staticmethod(can_manage)
    http_method_names = ["post"]

    def done(self) -> HttpResponse:
        return redirect("staff:team", self.organisation.slug)


class StaffInvitationRevokeView(_TeamActionView):
    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        invitation = get_object_or_404(
            StaffInvitation.objects.for_organisation(self.organisation), pk=pk
        )
        try:
            staff_invitation_revoke(invitation=invitation)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(
                request,
                _("The invitation to %(email)s is revoked; its link no longer works.")
                % {"email": invitation.email},
            )
        return self.done()


class StaffRoleChangeView(_TeamActionView):
    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        staff_role = get_object_or_404(
            StaffRole.objects.for_organisation(self.organisation).select_related(
                "user", "organisation"
            ),
            pk=pk,
        )
        form = StaffRoleForm(request.POST, actor_role=self.role, prefix=f"r{pk}")
        if not form.is_valid():
            messages.error(request, _("Choose one of the roles offered."))
            return self.done()
        try:
            staff_role_change(
                staff_role=staff_role,
                role=form.cleaned_data["role"],
                actor=request.user,
                actor_role=self.role,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": staff_role.user.email, "role": Role(form.cleaned_data["role"]).label},
            )
        return self.done()


class StaffRoleRemoveView(_TeamActionView):
    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        staff_role = get_object_or_404(
            StaffRole.objects.for_organisation(self.organisation).select_related(
                "user", "organisation"
            ),
            pk=pk,
        )
        try:
            staff_role_remove(staff_role=staff_role, actor=request.user, actor_role=self.role)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
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
        except StaffInvitationError as exc:
            invitation = exc.invitation
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
        except StaffInvitationError as exc:
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


# --- communities -------------------------------------------------------------------------


class StaffCommunityListView(StaffScopedMixin, TemplateView):
    template_name = "communities/staff_community_list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["communities"] = community_list(organisation=self.organisation)
        context["can_manage"] = can_manage(self.role)
        return context


def _community_fields(form: CommunityForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in CommunityForm.base_fields}


class StaffCommunityCreateView(StaffScopedMixin, TemplateView):
    template_name = "communities/staff_community_form.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", CommunityForm())
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = CommunityForm(request.POST)
        if form.is_valid():
            try:
                community = community_create(
                    organisation=self.organisation, **_community_fields(form)
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
            else:
                messages.success(
                    request, _("Community “%(name)s” created.") % {"name": community.name}
                )
                return redirect("staff:community_detail", self.organisation.slug, community.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class _CommunityObjectMixin(StaffScopedMixin):
    model = Community

    def get_community(self, pk: int) -> Community:
        return get_object_or_404(self.get_queryset(), pk=pk)


class StaffCommunityDetailView(_CommunityObjectMixin, TemplateView):
    """A community's overview: members by status and the lifecycle trend."""

    template_name = "communities/staff_community_detail.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community(kwargs["pk"])
        counts = member_status_counts(community=community)
        snapshots = community_lifecycle_trend(community=community, days=30)
        for snapshot in snapshots:
            snapshot.lifecycle_counts = [snapshot.counts.get(s, 0) for s in LIFECYCLE_STATUSES]
        context.update(
            community=community,
            can_manage=can_manage(self.role),
            status_counts=[
                (status, label, counts.get(status, 0))
                for status, label in MemberStatus.choices
                if status != MemberStatus.ERASED
            ],
            member_total=sum(n for s, n in counts.items() if s != MemberStatus.ERASED),
            trend=lifecycle_chart(snapshots),
            snapshots=list(reversed(snapshots)),
            join_url=self.request.build_absolute_uri(
                reverse("surveys:community_home", args=[self.organisation.slug, community.slug])
            ),
            member_links=_member_links(self.organisation.slug, community.pk),
        )
        return context


def _member_links(org_slug: str, community_pk: int) -> list[tuple[str, str]]:
    """Links to the member pages, for those that exist in this build."""
    links = []
    for name, label in (
        ("staff:member_list", _("Members")),
        ("staff:member_import_create", _("Import a CSV")),
        ("staff:segment_list", _("Segments")),
    ):
        try:
            links.append((reverse(name, args=[org_slug, community_pk]), label))
        except NoReverseMatch:
            continue
    return links


LIFECYCLE_COLOURS = {
    MemberStatus.NEW: "#0d6efd",
    MemberStatus.ACTIVE: "#198754",
    MemberStatus.LAPSED: "#fd7e14",
    MemberStatus.CHURNED: "#dc3545",
}


def lifecycle_chart(snapshots: list, *, width: int = 600, height: int = 160) -> dict[str, Any]:
    """Polylines (one per lifecycle status) for an inline SVG of the daily counts."""
    if not snapshots:
        return {"lines": [], "width": width, "height": height}
    peak = (
        max(
            (
                snapshot.counts.get(status, 0)
                for snapshot in snapshots
                for status in LIFECYCLE_STATUSES
            ),
            default=0,
        )
        or 1
    )
    # One day of history still draws: a level line across the chart, not an empty box.
    drawn = snapshots if len(snapshots) > 1 else snapshots * 2
    step = width / (len(drawn) - 1)
    lines = []
    for status in LIFECYCLE_STATUSES:
        points = " ".join(
            f"{i * step:.1f},{height - 4 - (height - 8) * s.counts.get(status, 0) / peak:.1f}"
            for i, s in enumerate(drawn)
        )
        lines.append(
            {
                "status": status,
                "label": MemberStatus(status).label,
                "colour": LIFECYCLE_COLOURS[status],
                "points": points,
                "latest": snapshots[-1].counts.get(status, 0),
            }
        )
    return {
        "lines": lines,
        "width": width,
        "height": height,
        "peak": peak,
        "first": snapshots[0].day,
        "last": snapshots[-1].day,
    }


class StaffCommunityEditView(_CommunityObjectMixin, TemplateView):
    template_name = "communities/staff_community_form.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community(kwargs["pk"])
        context["community"] = community
        context.setdefault("form", CommunityForm(initial=CommunityForm.initial_from(community)))
        return context

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        community = self.get_community(pk)
        form = CommunityForm(request.POST)
        if form.is_valid():
            version = community.policy_version
            try:
                community = community_update(community=community, **_community_fields(form))
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
            else:
                if community.policy_version != version:
                    messages.info(
                        request,
                        _(
                            "Policy version %(version)d is published. Members will be asked "
                            "to accept it at their next visit."
                        )
                        % {"version": community.policy_version},
                    )
                messages.success(request, _("Changes saved."))
                return redirect("staff:community_detail", self.organisation.slug, community.pk)
        return self.render_to_response(self.get_context_data(form=form, pk=pk), status=400)


# --- custom attributes -------------------------------------------------------------------


class StaffAttributeListView(_CommunityObjectMixin, TemplateView):
    """A community's custom attributes, and the form that adds one."""

    template_name = "communities/staff_attribute_list.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community(kwargs["pk"])
        context.update(
            community=community,
            attributes=AttributeDefinition.objects.for_organisation(self.organisation).filter(
                community=community
            ),
        )
        context.setdefault("form", AttributeForm())
        return context

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        community = self.get_community(pk)
        form = AttributeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                definition = attribute_create(
                    community=community,
                    key=data["key"],
                    label=form.label(),
                    kind=data["kind"],
                    options=data["options"],
                    required=data["required"],
                    ask_on_join=data["ask_on_join"],
                    position=data["position"],
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
            else:
                messages.success(request, _("Attribute “%(key)s” added.") % {"key": definition.key})
                return redirect("staff:attribute_list", self.organisation.slug, community.pk)
        return self.render_to_response(self.get_context_data(form=form, pk=pk), status=400)


class _AttributeObjectMixin(StaffScopedMixin):
    model = AttributeDefinition
    permission = staticmethod(can_manage)

    def get_definition(self, pk: int) -> AttributeDefinition:
        return get_object_or_404(self.get_queryset().select_related("community"), pk=pk)


class StaffAttributeEditView(_AttributeObjectMixin, TemplateView):
    template_name = "communities/staff_attribute_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        definition = self.get_definition(kwargs["pk"])
        context.update(definition=definition, community=definition.community)
        context.setdefault("form", AttributeForm(definition=definition))
        return context

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        definition = self.get_definition(pk)
        form = AttributeForm(request.POST, definition=definition)
        if form.is_valid():
            data = form.cleaned_data
            try:
                attribute_update(
                    definition=definition,
                    label=form.label(),
                    kind=data["kind"],
                    options=data["options"],
                    required=data["required"],
                    ask_on_join=data["ask_on_join"],
                    position=data["position"],
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, LABEL_FIELDS)
            else:
                messages.success(request, _("Attribute “%(key)s” saved.") % {"key": definition.key})
                return redirect(
                    "staff:attribute_list", self.organisation.slug, definition.community_id
                )
        return self.render_to_response(self.get_context_data(form=form, pk=pk), status=400)


class StaffAttributeDeleteView(_AttributeObjectMixin, TemplateView):
    """GET asks for confirmation (saying how many members hold a value); POST deletes."""

    template_name = "communities/staff_attribute_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        definition = self.get_definition(kwargs["pk"])
        context.update(
            definition=definition,
            community=definition.community,
            held=attribute_member_count(definition=definition),
        )
        return context

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        definition = self.get_definition(pk)
        community_id = definition.community_id
        cleared = attribute_delete(definition=definition)
        messages.success(
            request,
            ngettext(
                "Attribute “%(key)s” deleted; its value was removed from %(count)d member.",
                "Attribute “%(key)s” deleted; its value was removed from %(count)d members.",
                cleared,
            )
            % {"key": definition.key, "count": cleared},
        )
        return redirect("staff:attribute_list", self.organisation.slug, community_id)
