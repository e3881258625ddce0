"""A community's public pages: its home (open surveys, quick polls to answer in one tap)
and its privacy policy."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views import View

from communities.member_data import member_portal
from communities.models import Community
from communities.services import MEMBER_CURRENT_STATUSES
from communities.views import community_brand, reconsent_page
from surveys.forms.respond import ResponseForm
from surveys.models import Participation, Response
from surveys.selectors import community_open_surveys, poll_card
from surveys.services.responses import answer_key_stored, survey_questions
from surveys.views.respond import SUPPORTED_LANGUAGES, visitor_token_new, visitor_token_valid


class CommunityHomeView(View):
    """A community's home: its open surveys, and its quick polls to answer in one tap."""

    def get(self, request: HttpRequest, org: str, community: str) -> HttpResponse:
        community = get_object_or_404(
            Community.objects.select_related("organisation"),
            organisation__slug=org,
            slug=community,
        )
        member = (
            community.members.filter(user=request.user).first()
            if request.user.is_authenticated
            else None
        )
        language = request.GET.get("lang") or (member.locale if member else None)
        if language not in SUPPORTED_LANGUAGES:
            language = translation.get_language() or settings.LANGUAGE_CODE
        translation.activate(language)
        # A member who has not accepted the current policy version is asked to first.
        if member is not None and (gate := reconsent_page(request, member=member)) is not None:
            return gate
        current = member is not None and member.status in MEMBER_CURRENT_STATUSES
        surveys, polls = community_open_surveys(community=community)
        answered = (
            set(
                Participation.objects.filter(member=member, survey__in=surveys).values_list(
                    "survey_id", flat=True
                )
            )
            if member is not None
            else set()
        )
        cards, new_keys = [], {}
        for poll in polls:
            cookie = f"chorus_answer_{poll.public_id}"
            key = request.COOKIES.get(cookie, "")
            if member is None and not visitor_token_valid(key):
                key = new_keys[cookie] = visitor_token_new()
            voted = (
                Participation.objects.filter(survey=poll, member=member).exists()
                if member is not None
                else Response.objects.filter(
                    survey=poll, idempotency_key=answer_key_stored(key)
                ).exists()
            )
            form = ResponseForm(
                survey=poll,
                questions=survey_questions(survey=poll),
                language=language,
                initial={"idempotency_key": key or visitor_token_new()},
            )
            cards.append(poll_card(survey=poll, form=form, voted=voted, language=language))
        page = render(
            request,
            "surveys/community_home.html",
            {
                "community": community,
                "organisation": community.organisation,
                "member": member,
                "is_current_member": current,
                "portal": member_portal(member=member, language=language) if current else None,
                "brand": community_brand(community=community),
                "surveys": [
                    (s, s.title.get(language) or s.title_text, s.pk in answered) for s in surveys
                ],
                "polls": cards,
                "next": request.get_full_path(),
                "languages": settings.LANGUAGES,
            },
        )
        for cookie, key in new_keys.items():
            page.set_cookie(
                cookie,
                key,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
                path="/",
            )
        return page


class CommunityPrivacyView(View):
    """A community's privacy policy, at the version members consent to."""

    def get(self, request: HttpRequest, org: str, community: str) -> HttpResponse:
        community = get_object_or_404(
            Community.objects.select_related("organisation"),
            organisation__slug=org,
            slug=community,
        )
        if not community.privacy_policy_text:
            raise Http404("No privacy policy")
        return render(
            request,
            "surveys/community_privacy.html",
            {"community": community, "organisation": community.organisation},
        )
