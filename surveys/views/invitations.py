"""Personal links from survey emails, and one-click unsubscribe."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from communities.links import LinkError, link_is_genuine
from communities.services import email_unsubscribe
from surveys.services.invitations import invitation_from_link, invitation_open
from surveys.views.respond import INVITATION_SESSION_KEY, invitation_score_remember


class InvitationOpenView(View):
    """A personal link from an email: check it, move it into the session, show the survey.

    Mail scanners open every link, so opening records only the first open; the answer
    is stored, and the link used up, only when the respondent sends the form.
    """

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        try:
            invitation = invitation_from_link(signed=signed)
        except LinkError as exc:
            return self._refused(request, exc)
        invitation_open(invitation=invitation)
        survey = invitation.survey
        request.session[INVITATION_SESSION_KEY.format(survey.public_id)] = invitation.pk
        invitation_score_remember(request=request, survey=survey)
        url = reverse("surveys:survey_respond", args=[survey.public_id])
        if invitation.language:
            url += f"?lang={invitation.language}"
        page = redirect(url)
        # The token must not travel on as a Referer from the survey page's links.
        page["Referrer-Policy"] = "no-referrer"
        return page

    def _refused(self, request: HttpRequest, exc: LinkError) -> HttpResponse:
        reasons = {
            "forged": (
                _("This link is not valid. Please use the link from your email as it is."),
                400,
            ),
            "expired": (
                _("This link has expired. Thank you for your interest all the same."),
                410,
            ),
            "used": (_("You have already answered this survey. Thank you!"), 409),
        }
        reason, status = reasons[exc.reason]
        survey = exc.obj.survey if exc.obj else None
        if exc.obj and exc.obj.language:
            translation.activate(exc.obj.language)
        return render(
            request,
            "surveys/unavailable.html",
            {"survey": survey, "reason": reason},
            status=status,
        )


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """One-click unsubscribe from survey email (RFC 8058 POST), with a confirm page on GET.

    No CSRF token: a mail client's one-click POST cannot carry one, and the token in the
    URL is the authority (it can only stop mail, never start it). The token is opaque: it
    names no address (links sent before tokens signed the address, and still work). Using
    a link twice is harmless, so it is never used up.
    """

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        if not self._valid(signed):
            return self._invalid(request)
        return _no_referrer(render(request, "surveys/unsubscribe.html", {"signed": signed}))

    def post(self, request: HttpRequest, signed: str) -> HttpResponse:
        if not self._valid(signed):
            return self._invalid(request)
        try:
            email_unsubscribe(signed=signed)
        except LinkError:
            # Gone since the check (the address was erased meanwhile).
            return self._invalid(request)
        return _no_referrer(render(request, "surveys/unsubscribe.html", {"done": True}))

    @staticmethod
    def _invalid(request: HttpRequest) -> HttpResponse:
        return render(request, "surveys/unsubscribe.html", {"invalid": True}, status=400)

    @staticmethod
    def _valid(signed: str) -> bool:
        return link_is_genuine("unsubscribe", signed)


def _no_referrer(page: HttpResponse) -> HttpResponse:
    # The token must not travel on as a Referer from the page's links.
    page["Referrer-Policy"] = "no-referrer"
    return page
