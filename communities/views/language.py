"""The staff navigation's language choice."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from communities.middleware import language_cookie_set
from communities.services.language import language_supported, user_language_set


def return_url(request: HttpRequest, candidate: str | None) -> str:
    """The page the choice was made on, if it is ours; else the staff home. A `lang`
    parameter in it is dropped: it would overrule the language just chosen."""
    if not candidate or not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("staff_home")
    parts = urlsplit(candidate)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode(query)))


class StaffLanguageView(View):
    """POST language=<code>, next=<page>: remember the choice on the account (when signed
    in) and in this browser, and go back to the page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        language = language_supported(request.POST.get("language"))
        if language is None:
            return HttpResponseBadRequest(_("Choose one of the languages offered."))
        if request.user.is_authenticated:
            user_language_set(user=request.user, language=language)
        response = HttpResponseRedirect(return_url(request, request.POST.get("next")))
        language_cookie_set(response, language)
        return response
