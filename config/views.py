"""The start page at /: what Chorus is, and the way in for whoever arrives."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views import View

from communities.middleware import language_cookie_set
from communities.models import Member
from communities.selectors import staff_roles_of
from communities.services.language import language_supported
from communities.services.members import MEMBER_CURRENT_STATUSES


def _portals(request: HttpRequest) -> list[tuple[str, str]]:
    """(community name, portal URL) of each community the signed-in person belongs to."""
    if not request.user.is_authenticated:
        return []
    members = (
        Member.objects.filter(user=request.user, status__in=MEMBER_CURRENT_STATUSES)
        .select_related("community__organisation")
        .order_by("community__name", "pk")
    )
    return [
        (
            member.community.name,
            reverse(
                "surveys:community_home",
                args=[member.community.organisation.slug, member.community.slug],
            ),
        )
        for member in members
    ]


class StartView(View):
    """Anyone: what Chorus is, in their language, and how staff and members sign in.
    Signed in: the way to their organisations and community portals.

    ?lang= picks the language and, like the language switch, remembers it in the
    language cookie, so the sign-in pages that follow speak it too.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        language = language_supported(request.GET.get("lang"))
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        staff_roles = staff_roles_of(user=request.user)
        portals = _portals(request)
        response = render(
            request,
            "start.html",
            {
                "staff_roles": staff_roles,
                "portals": portals,
            },
        )
        if language:
            language_cookie_set(response, language)
        return response
