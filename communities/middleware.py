"""Staff pages in the staff member's language.

Django's LocaleMiddleware has already chosen a language from the language cookie or the
browser's Accept-Language. On staff pages a signed-in user's own choice comes first, so the
language follows them to a new browser: an explicit `?lang=` (remembered on their account
and in the cookie), then `User.locale`, then what LocaleMiddleware chose. Member and
respondent pages choose their language in their own views and are not touched here.

Account pages (sign in, sign in with a code, password reset) follow an explicit `?lang=`
too, signed in or not, so a member who signs in from a Thai community page reads Thai;
the choice is remembered in the cookie (and on the account when signed in).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from communities.services.language import language_supported, user_language_set

# Everything a staff member (rather than a member or respondent) reads.
STAFF_PATH_PREFIXES = ("/staff/", "/staff-invitation/", "/api/docs/")
ACCOUNT_PATH_PREFIXES = ("/accounts/",)
# Django's default cookie lasts only as long as the browser session; a choice is kept longer.
LANGUAGE_COOKIE_DAYS = 365


def language_cookie_set(response: HttpResponse, language: str) -> None:
    """Remember `language` in this browser as Django's own language switch does, so pages
    read before signing in (and after signing out) speak it too."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE or LANGUAGE_COOKIE_DAYS * 24 * 3600,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class StaffLanguageMiddleware:
    """Listed after AuthenticationMiddleware (it reads the user) and LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ACCOUNT_PATH_PREFIXES):
            return self._account_page(request)
        if not request.path_info.startswith(STAFF_PATH_PREFIXES):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        chosen = language_supported(request.GET.get("lang"))
        if chosen is not None:
            user_language_set(user=user, language=chosen)
        language = (
            chosen
            or language_supported(user.locale)
            or getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        )
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if chosen is not None:
            language_cookie_set(response, chosen)
        return response

    def _account_page(self, request: HttpRequest) -> HttpResponse:
        chosen = language_supported(request.GET.get("lang"))
        if chosen is None:
            return self.get_response(request)
        if request.user.is_authenticated:
            user_language_set(user=request.user, language=chosen)
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        language_cookie_set(response, chosen)
        return response
