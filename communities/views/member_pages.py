"""The member side: join, profile, consent and my data (the emailed links' pages, confirm
and invitation, are in member_links).

Public pages under /c/<org>/<community>/ (namespace "community"). They are not staff
pages: the community comes from the URL, the member from the signed-in user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from communities.choices import ConsentPurpose, JoinMode
from communities.flows import (
    JoinOutcome,
    member_erase,
    member_export,
    member_join,
)
from communities.forms.member_pages import EraseForm, JoinForm, ProfileForm
from communities.formviews import ServiceFormMixin
from communities.models import AttributeDefinition, Community, Member, same_site_path_validator
from communities.selectors import (
    community_by_slugs,
    member_consents,
    member_needs_terms,
    member_of,
)
from communities.services.common import email_normalise
from communities.services.consent import member_consent_change
from communities.services.members import MEMBER_CURRENT_STATUSES, member_profile_update
from config.ratelimit import client_ip, rate_limited

JOIN_PER_IP_PER_HOUR = 20
JOIN_PER_ADDRESS_PER_HOUR = 5
AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


class MemberPageMixin(View):
    """Resolves the community from the URL (404 when unknown), the signed-in user's
    membership and the language: ?lang= first, then the member's, then the browser's."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.community = community_by_slugs(
            organisation_slug=kwargs["org"], slug=kwargs["community"]
        )
        if self.community is None:
            raise Http404
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

    def speak(self, member: Member) -> None:
        """Speak the language of the member an emailed link names, unless ?lang= chose one:
        the browser that opens the link may be anyone's."""
        codes = {code for code, _name in settings.LANGUAGES}
        chosen = (self.request.GET.get("lang") or "").split("-")[0]
        if chosen in codes or (member.locale or "") not in codes:
            return
        self.language = member.locale
        translation.activate(self.language)
        self.request.LANGUAGE_CODE = self.language

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
        """The page, for a member who may see it: by default the next base's (a form page's
        FormView), else 404."""
        return self._page_handler("get")(request, *self.args, **self.kwargs)

    def member_post(self, request: HttpRequest) -> HttpResponse:
        return self._page_handler("post")(request, *self.args, **self.kwargs)

    def _page_handler(self, method: str):
        handler = getattr(super(), method, None)
        if handler is None:
            raise Http404
        return handler


def join_definitions(community: Community) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(community=community, ask_on_join=True))


class MemberFormMixin(ServiceFormMixin, FormView):
    """A member page's one form, rendered by `page` like every member page: the service's
    refusal lands on the form (400), success redirects."""

    def render_to_response(self, context: dict, **response_kwargs: Any) -> HttpResponse:
        return self.page(self.template_name, context, status=response_kwargs.get("status", 200))


class MemberJoinView(MemberPageMixin, MemberFormMixin):
    """The public, branded join page of an open community."""

    template_name = "member_join.html"
    form_class = JoinForm

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.community.join_mode != JoinMode.OPEN:
            return self.page("member_invite_only.html", status=403)
        if self.member is not None and self.member.status in MEMBER_CURRENT_STATUSES:
            return redirect(self.portal_url())
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.community.join_mode != JoinMode.OPEN:
            return self.page("member_invite_only.html", status=403)
        if rate_limited(
            scope="join-ip",
            key=f"{self.community.pk}:{client_ip(request)}",
            limit=JOIN_PER_IP_PER_HOUR,
            window=3600,
        ):
            return self.page("member_rate_limited.html", status=429)
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {"language": self.language, "ref": self.request.GET.get("ref", "")[:16]}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "definitions": join_definitions(self.community),
            "language": self.language,
        }

    def form_save(self, form: JoinForm) -> JoinOutcome | HttpResponse:
        data = form.cleaned_data
        if rate_limited(
            scope="join-address",
            key=f"{self.community.pk}:{email_normalise(data['email'])}",
            limit=JOIN_PER_ADDRESS_PER_HOUR,
            window=3600,
        ):
            return self.page("member_rate_limited.html", status=429)
        self.chosen_language = data["language"]
        return member_join(
            community=self.community,
            email=data["email"],
            name=data["name"],
            locale=data["language"],
            attributes=form.attribute_values(),
            terms_accepted=data["consent"],
            marketing=data["marketing"],
            referral_code=data.get("ref", ""),
        )

    def get_success_url(self) -> str:
        return (
            reverse("community:join_sent", args=[self.organisation.slug, self.community.slug])
            + f"?lang={self.chosen_language}"
        )


class MemberJoinSentView(MemberPageMixin):
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self.page("member_join_sent.html")


class MemberProfileView(MemberRequiredMixin, MemberFormMixin):
    template_name = "member_profile.html"
    form_class = ProfileForm
    success_message = _("Your profile is saved.")

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.member.name, "language": self.member.locale}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "definitions": list(AttributeDefinition.objects.filter(community=self.community)),
            "language": self.language,
            "attributes": self.member.attributes,
        }

    def form_save(self, form: ProfileForm) -> Member:
        return member_profile_update(
            member=self.member,
            name=form.cleaned_data["name"],
            locale=form.cleaned_data["language"],
            attributes=form.attribute_values(),
        )

    def get_success_url(self) -> str:
        return (
            reverse("community:profile", args=[self.organisation.slug, self.community.slug])
            + f"?lang={self.saved.locale}"
        )


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
