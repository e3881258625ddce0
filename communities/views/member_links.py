"""The pages emailed links open: the join confirmation and the invitation to join.

Both links are single-use and safe from mail scanners: opening one (GET, HEAD) shows a
page and changes nothing; the page's POST (with its CSRF token) confirms and signs in, and
uses the link up. A used link says so and offers the emailed-code sign-in, in the
language of the member it names.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from communities.choices import MemberStatus
from communities.flows import member_confirmation_resend, member_invitation_accept
from communities.forms.member_pages import JoinForm
from communities.links import LinkError
from communities.models import Member
from communities.services.joining import (
    member_confirm_by_link,
    member_from_confirm_link,
    member_from_invitation,
)
from communities.views.member_pages import (
    AUTH_BACKEND,
    MemberFormMixin,
    MemberPageMixin,
    join_definitions,
)


class MemberConfirmView(MemberPageMixin):
    """The double opt-in link. Opening it (GET, HEAD: what a mail scanner does) only shows
    a page, in the member's language, with a "Confirm and continue" button; that POST
    confirms, signs the person in and uses the link up. Afterwards the link shows "already
    used" with a way to sign in by code, and signs nobody in. A forged link is 400; an
    expired one 410, and a POST to it sends a new link.
    """

    def get(self, request: HttpRequest, *args, signed: str, **kwargs) -> HttpResponse:
        try:
            member, payload = member_from_confirm_link(signed=signed, community=self.community)
        except LinkError as exc:
            return self._refused(exc)
        self.speak(member)
        page = self.page("member_confirm.html", {"rejoin": bool(payload.get("r"))})
        return _private(page)

    def post(self, request: HttpRequest, *args, signed: str, **kwargs) -> HttpResponse:
        try:
            member = member_confirm_by_link(signed=signed, community=self.community)
        except LinkError as exc:
            if exc.reason == LinkError.EXPIRED and exc.obj is not None:
                # The page behind an expired link offers a new one.
                self.speak(exc.obj)
                member_confirmation_resend(member=exc.obj)
                return redirect(
                    reverse(
                        "community:join_sent", args=[self.organisation.slug, self.community.slug]
                    )
                    + f"?lang={self.language}"
                )
            return self._refused(exc)
        except ValidationError as exc:
            return self.page("member_link_refused.html", {"message": exc.messages[0]}, status=409)
        auth_login(request, member.user, backend=AUTH_BACKEND)
        # The message is read on the portal, which speaks the member's language; this
        # page's language came from the browser that opened the email link.
        with translation.override(member.locale or self.language):
            messages.success(
                request,
                _("Welcome to %(community)s! Your email address is confirmed.")
                % {"community": self.community.name},
            )
        return redirect(self.portal_url())

    def _refused(self, exc: LinkError) -> HttpResponse:
        if exc.obj is not None:
            self.speak(exc.obj)
        if exc.reason == LinkError.USED:
            return _private(
                self.page(
                    "member_link_refused.html",
                    {
                        "message": _(
                            "This link has already been used. To come back, sign in with a "
                            "code we email you."
                        ),
                        "sign_in": True,
                    },
                    status=409,
                )
            )
        if exc.reason == LinkError.EXPIRED:
            pending = exc.obj is not None and exc.obj.status == MemberStatus.PENDING
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


def _private(page: HttpResponse) -> HttpResponse:
    """A page whose URL carries a link's token: the token must not travel to another site
    as a Referer, nor the page stay in a shared cache. Not "no-referrer": a browser then
    sends the page's POST with "Origin: null", which the CSRF check refuses."""
    page["Referrer-Policy"] = "same-origin"
    page["Cache-Control"] = "no-store"
    return page


class MemberInvitationView(MemberPageMixin, MemberFormMixin):
    """An invitation-to-join link: the join form with the address fixed; accepting confirms
    at once, because the link proved the address, and uses the link up. Opening it (what
    a mail scanner does) changes nothing; once used it shows "already used" with a way to
    sign in by code, and signs nobody in."""

    template_name = "member_join.html"
    form_class = JoinForm

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.signed = kwargs.get("signed", "")
        return super().dispatch(request, *args, **kwargs)

    def _invited(self) -> Member | HttpResponse:
        try:
            return member_from_invitation(signed=self.signed, community=self.community)
        except LinkError as exc:
            if exc.obj is not None:
                self.speak(exc.obj)
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

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.invited = self._invited()
        if isinstance(self.invited, HttpResponse):
            return _private(self.invited)
        return _private(super().get(request, *args, **kwargs))

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.invited = self._invited()
        if isinstance(self.invited, HttpResponse):
            return self.invited
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.invited.name, "language": self.invited.locale or self.language}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "definitions": join_definitions(self.community),
            "language": self.language,
            "fixed_email": self.invited.email,
        }

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        return super().get_context_data(invited=self.invited, **kwargs)

    def form_save(self, form: JoinForm) -> Member:
        data = form.cleaned_data
        member = member_invitation_accept(
            member=self.invited,
            name=data["name"],
            locale=data["language"],
            attributes=form.attribute_values(),
            terms_accepted=data["consent"],
            marketing=data["marketing"],
            signed=self.signed,
        )
        auth_login(self.request, member.user, backend=AUTH_BACKEND)
        return member

    def get_success_message(self, form: JoinForm) -> str:
        # In the language just chosen on the form: the portal that shows it speaks that one.
        with translation.override(self.saved.locale or self.language):
            return _("Welcome to %(community)s!") % {"community": self.community.name}

    def get_success_url(self) -> str:
        return self.portal_url()
