"""Kiosk pages: the touch survey on a store's tablet, its JSON answers and service worker;
and, for staff, the kiosks of one store (a tab of the store's page)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView

from communities.models import Location
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from config.errors import request_refused
from surveys.compiled import compiled, compiled_questions, survey_version
from surveys.forms.respond import ResponseForm
from surveys.lookups import KioskCurrent, kiosk_by_token, kiosk_forget, kiosk_kept
from surveys.models import Channel, Survey
from surveys.selectors import location_kiosks
from surveys.services.kiosks import KioskRateLimited, kiosk_submit
from surveys.services.responses import StaleCopy, SurveyNotOpen, survey_closed_reason
from surveys.views.respond import SUPPORTED_LANGUAGES

# A customer's answers are a few kilobytes; anything near this is not a customer's answer.
KIOSK_MAX_BYTES = 64 * 1024


def _kiosk_languages(channel: Channel) -> tuple[list[tuple[str, str]], str]:
    """The survey's languages on this kiosk, and the one it starts in (the store's)."""
    survey = channel.survey
    languages = [(c, n) for c, n in settings.LANGUAGES if c in (survey.languages or ["en"])]
    default = (channel.location.language if channel.location else "") or (
        survey.organisation.default_language
    )
    if default not in dict(languages):
        default = languages[0][0]
    return languages, default


def _kiosk_forms(
    request: HttpRequest, survey: Survey, languages: list[tuple[str, str]]
) -> tuple[dict, ...]:
    """The survey's form in each of the kiosk's languages, with what the page says around
    it. The same for every kiosk and request on one survey version (no CSRF token: the
    device token is the credential), so each process renders it once per version
    (surveys.compiled) rather than every language's form on every page load."""
    questions = compiled_questions(survey=survey)
    forms = []
    for code, name in languages:
        with translation.override(code):
            form = ResponseForm(
                survey=survey,
                questions=questions,
                language=code,
                auto_id=f"{code}_%s",
                initial={"idempotency_key": ""},
            )
            forms.append(
                {
                    "code": code,
                    "name": name,
                    "bidi": translation.get_language_bidi(),
                    "title": survey.title.get(code) or survey.title_text,
                    "thank_you": survey.thank_you.get(code) or "",
                    "too_large": _too_large_message(),
                    "html": render_to_string(
                        "surveys/_kiosk_form.html", {"form": form}, request=request
                    ),
                }
            )
    return tuple(forms)


def _kiosk_channel(device_token: str) -> Channel:
    channel = kiosk_by_token(device_token)
    if channel is None:
        raise Http404("No such kiosk")
    return channel


class KioskView(View):
    """The full-screen, touch-first survey page on a store's tablet; no login, no cookies."""

    def get(self, request: HttpRequest, device_token: str) -> HttpResponse:
        channel = _kiosk_channel(device_token)
        survey = channel.survey
        languages, default = _kiosk_languages(channel)
        language = request.GET.get("lang") or default
        if language not in dict(languages):
            language = default
        translation.activate(language)
        if not channel.active:
            return render(
                request,
                "surveys/kiosk_off.html",
                {"reason": _("This kiosk has been switched off.")},
                status=410,
            )
        reason = survey_closed_reason(survey=survey)
        # Every language's form is in the page, so a switch works with the network down.
        forms_by_language = compiled(
            ("kiosk-forms", survey_version(survey), tuple(languages)),
            lambda: _kiosk_forms(request, survey, languages),
        )
        return render(
            request,
            "surveys/kiosk.html",
            {
                "channel": channel,
                "survey": survey,
                "closed_reason": reason,
                "forms": forms_by_language,
                "language": language,
                "submit_url": reverse("surveys:kiosk_submit", args=[device_token]),
                "max_bytes": KIOSK_MAX_BYTES,
                "sw_url": reverse("surveys:kiosk_sw", args=[device_token]),
            },
        )


@method_decorator(csrf_exempt, name="dispatch")
class KioskSubmitView(View):
    """A kiosk's answers as JSON; the device token in the URL is the credential.

    Body: {"idempotency_key": "<client uuid>", "language": "th", "answers": {"q_12": 9, …}}.
    A replay with the same key (the kiosk resending its offline queue) answers 200 with
    the stored response and creates nothing.
    """

    def post(self, request: HttpRequest, device_token: str) -> JsonResponse:
        channel, current = kiosk_kept(device_token)
        if current is not None:
            # This process's copy of the kiosk: it may only say yes (stored, or refused
            # for the rate once stored would have been); anything else is asked again
            # of a fresh read.
            try:
                return self._answer(request, channel, current)
            except StaleCopy:
                kiosk_forget(device_token)
                channel, _current = kiosk_kept(device_token)
        if channel is None:
            raise Http404("No such kiosk")
        return self._answer(request, channel, None)

    def _answer(
        self, request: HttpRequest, channel: Channel, current: KioskCurrent | None
    ) -> JsonResponse:
        page = self._outcome(request, channel, current)
        if current is not None and page.status_code not in (201, 429):
            raise StaleCopy
        return page

    def _outcome(
        self, request: HttpRequest, channel: Channel, current: KioskCurrent | None
    ) -> JsonResponse:
        if _declared_length(request) > KIOSK_MAX_BYTES:
            # Judged by its declared length, never parsed; worded in the language the kiosk
            # asked in (its Accept-Language) when the survey has it, else the store's.
            languages, default = _kiosk_languages(channel)
            asked = getattr(request, "LANGUAGE_CODE", "")
            with translation.override(asked if asked in dict(languages) else default):
                return request_refused(
                    request,
                    RequestDataTooBig("kiosk answers over KIOSK_MAX_BYTES"),
                    message=_too_large_message(),
                    extra={"max_bytes": KIOSK_MAX_BYTES},
                )
        if not channel.active:
            return JsonResponse({"error": "kiosk_revoked"}, status=410)
        try:
            payload = json.loads(request.body)
            key = payload["idempotency_key"]
            answers = payload["answers"]
            if not isinstance(answers, dict) or not isinstance(key, str) or not key:
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JsonResponse(
                {"error": "malformed", "fields": {"answers": [_("Send a JSON object.")]}},
                status=400,
            )
        language = str(payload.get("language") or "")
        if language not in (channel.survey.languages or SUPPORTED_LANGUAGES):
            language = (channel.survey.languages or ["en"])[0]
        try:
            # Errors come back in the language the customer is answering in (already the
            # active one for most answers, and switching costs two activations).
            with _speaking(language):
                result = kiosk_submit(
                    channel=channel,
                    raw_answers=answers,
                    idempotency_key=key,
                    language=language,
                    current=current,
                )
        except KioskRateLimited:
            return JsonResponse(
                {"error": "rate_limited"}, status=429, headers={"Retry-After": "60"}
            )
        except SurveyNotOpen as exc:
            return JsonResponse({"error": "survey_closed", "message": exc.messages[0]}, status=410)
        except ValidationError as exc:
            fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return JsonResponse({"error": "invalid", "fields": fields}, status=400)
        return JsonResponse(
            {"id": result.response.pk, "created": result.created},
            status=201 if result.created else 200,
        )


def _speaking(language: str) -> AbstractContextManager:
    if translation.get_language() == language:
        return nullcontext()
    return translation.override(language)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large_message() -> str:
    return _("Your answers are too long to send and were not saved. Please shorten them.")


class KioskServiceWorkerView(View):
    """The kiosk's service worker, served under the kiosk's own path so that is its scope."""

    def get(self, request: HttpRequest, device_token: str) -> HttpResponse:
        channel = _kiosk_channel(device_token)
        page = render(
            request,
            "surveys/kiosk_sw.js",
            {"channel": channel, "page_url": reverse("surveys:kiosk", args=[device_token])},
            content_type="application/javascript",
        )
        page["Cache-Control"] = "no-cache"
        return page


class StaffLocationKiosksView(StaffScopedMixin, DetailView):
    """/staff/<org>/stores/<pk>/kiosks/: the store's kiosks and the surveys they run.

    Served here, not by the store's page in communities, which may not import surveys. The
    kiosk links (the device's credential) are shown to those who manage kiosks only.
    """

    template_name = "surveys/staff_location_kiosks.html"
    permission = staticmethod(can_read_results)
    model = Location
    context_object_name = "location"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        manage = can_manage(self.role)
        kiosks = location_kiosks(organisation=self.organisation, location=self.object)
        for kiosk in kiosks:
            kiosk.url = (
                self.request.build_absolute_uri(reverse("surveys:kiosk", args=[kiosk.device_token]))
                if manage
                else ""
            )
        context.update(kiosks=kiosks, can_manage=manage)
        return context
