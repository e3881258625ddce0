from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, ListView

from communities.models import Member
from communities.permissions import can_read_results
from communities.views import StaffScopedMixin
from surveys.choices import SurveyStatus
from surveys.forms import ResponseForm
from surveys.models import Survey
from surveys.selectors import survey_list, survey_results
from surveys.services import (
    AlreadyAnswered,
    SurveyNotOpen,
    response_submit,
    survey_closed_reason,
    survey_questions,
)

SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def respondent_member(*, request: HttpRequest, survey: Survey) -> Member | None:
    """The signed-in user's membership that answers this survey, if any."""
    if not request.user.is_authenticated:
        return None
    members = Member.objects.filter(organisation_id=survey.organisation_id, user=request.user)
    if survey.community_id:
        members = members.filter(community_id=survey.community_id)
    return members.select_related("community").first()


def respondent_language(*, request: HttpRequest, survey: Survey, member: Member | None) -> str:
    """The link's ?lang= wins, then the member's locale, then the browser's language."""
    for candidate in (
        request.GET.get("lang"),
        member.locale if member else None,
        getattr(request, "LANGUAGE_CODE", None),
    ):
        if candidate and candidate.split("-")[0] in SUPPORTED_LANGUAGES:
            return candidate.split("-")[0]
    return survey.languages[0] if survey.languages else settings.LANGUAGE_CODE


class SurveyRespondView(View):
    """The public link page: show the survey, take one response."""

    template_name = "surveys/respond.html"

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        self.survey = get_object_or_404(
            Survey.objects.select_related("organisation", "community"),
            public_id=kwargs["public_id"],
        )
        self.member = respondent_member(request=request, survey=self.survey)
        self.language = respondent_language(request=request, survey=self.survey, member=self.member)
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.survey.status == SurveyStatus.DRAFT:
            raise Http404(_("This survey is not published yet."))
        reason = survey_closed_reason(survey=self.survey)
        if reason:
            return self._unavailable(reason, status=410)
        return super().dispatch(request, *args, **kwargs)

    def _unavailable(self, reason: str, *, status: int) -> HttpResponse:
        return render(
            self.request,
            "surveys/unavailable.html",
            {"survey": self.survey, "reason": reason},
            status=status,
        )

    @property
    def _key_cookie(self) -> str:
        return f"chorus_answer_{self.survey.public_id}"

    def _idempotency_key(self) -> str:
        """The key that makes a resend of this browser's answer a no-op.

        A signed-in member is stopped by their participation, so their key is fresh per
        page and lives only in the form. A visitor without an account keeps one key per
        survey in a cookie, so going Back and sending again finds the first response
        instead of adding a second. The cookie holds nothing but that random key.
        """
        if self.member is None:
            key = self.request.COOKIES.get(self._key_cookie, "")
            if len(key) == 32 and key.isalnum():
                return key
        return uuid.uuid4().hex

    def _form(self, data=None) -> ResponseForm:
        self.questions = survey_questions(survey=self.survey)
        self.key = self._idempotency_key()
        return ResponseForm(
            data,
            survey=self.survey,
            questions=self.questions,
            language=self.language,
            can_be_contacted=self.member is not None and bool(self.member.email),
            initial={"idempotency_key": self.key},
        )

    def _render(self, form: ResponseForm, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "survey": self.survey,
                "form": form,
                "member": self.member,
                "title": self.survey.title.get(self.language) or self.survey.title_text,
                "languages": [
                    (c, n)
                    for c, n in settings.LANGUAGES
                    if not self.survey.languages or c in self.survey.languages
                ],
            },
            status=status,
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        page = self._render(self._form())
        if self.member is None:
            page.set_cookie(
                self._key_cookie,
                self.key,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
                path=reverse("surveys:survey_respond", args=[self.survey.public_id]),
            )
        return page

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            result = response_submit(
                survey=self.survey,
                raw_answers=form.raw_answers,
                idempotency_key=form.cleaned_data["idempotency_key"],
                language=self.language,
                member=self.member,
                questions=self.questions,
                consent_to_contact=form.cleaned_data.get("consent_to_contact", False),
                wants_anonymous=form.cleaned_data.get("answer_anonymously", False),
            )
        except SurveyNotOpen as exc:
            return self._unavailable(exc.messages[0], status=410)
        except AlreadyAnswered as exc:
            return self._unavailable(exc.messages[0], status=409)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self._render(form, status=400)
        if result.points_awarded:
            messages.success(
                request,
                ngettext(
                    "You earned %(points)s point.",
                    "You earned %(points)s points.",
                    result.points_awarded,
                )
                % {"points": result.points_awarded},
            )
        url = reverse("surveys:survey_thanks", args=[self.survey.public_id])
        url = f"{url}?lang={self.language}"
        return redirect(url)


class SurveyThanksView(SurveyRespondView):
    template_name = "surveys/thanks.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "survey": self.survey,
                "thank_you": self.survey.thank_you.get(self.language) or self.survey.thank_you_text,
            },
        )


class StaffSurveyListView(StaffScopedMixin, ListView):
    template_name = "surveys/staff_survey_list.html"
    permission = staticmethod(can_read_results)
    context_object_name = "surveys"

    def get_queryset(self):
        return survey_list(organisation=self.organisation)


class StaffSurveyResultsView(StaffScopedMixin, DetailView):
    template_name = "surveys/staff_survey_results.html"
    permission = staticmethod(can_read_results)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["results"] = survey_results(organisation=self.organisation, survey=self.object)
        context["public_url"] = self.request.build_absolute_uri(
            reverse("surveys:survey_respond", args=[self.object.public_id])
        )
        return context
