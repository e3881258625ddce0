"""The respondent page of a survey or poll by its public link, and its thank-you page."""

from __future__ import annotations

from collections.abc import Callable

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from surveys.choices import Anonymity, SurveyKind, SurveyStatus
from surveys.compiled import compiled, compiled_questions, survey_version
from surveys.forms.respond import ResponseForm, answers_posted, checkbox_posted
from surveys.lookups import survey_answering
from surveys.selectors import (
    answers_stored_under_key,
    poll_card,
    survey_answered_by,
)
from surveys.services.answers import answers_validate, question_field_name
from surveys.services.responses import (
    AlreadyAnswered,
    SubmitResult,
    SurveyNotOpen,
    answer_key_stored,
    response_submit,
    survey_closed_reason,
)
from surveys.services.writing import response_location
from surveys.views.respond.respondent import (
    ANSWER_KEY_FORMAT,
    CSRF_SLOT,
    FORM_KEY_SLOT,
    INVITATION_SESSION_KEY,
    MEMBER_EMAIL_SLOT,
    SCORE_SESSION_KEY,
    Answering,
    respondent_language,
    score_question,
    session_invitation,
    visitor_token_new,
    visitor_token_valid,
)


class SurveyRespondView(View):
    """The public link page: show the survey, take one response."""

    template_name = "surveys/respond.html"

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        # The survey and the signed-in user's membership that answers it, in one statement;
        # on a GET, with whether that member has answered (a survey taking one answer asks).
        user_id = request.user.pk if request.user.is_authenticated else None
        self.survey, member, answered = survey_answering(
            kwargs["public_id"], user_id=user_id, took_part=request.method == "GET"
        )
        if self.survey is None:
            raise Http404("No such survey")
        self.invitation = session_invitation(request=request, survey=self.survey)
        self.member_answered: bool | None = None
        if member is not None and request.method == "GET" and self._asks_answered():
            self.member_answered = answered
        self.member = member or (self.invitation.member if self.invitation else None)
        self.language = respondent_language(
            request=request, survey=self.survey, member=self.member, invitation=self.invitation
        )
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        reason = survey_closed_reason(survey=self.survey)
        if reason:
            # A draft is not there yet (404); a closed or scheduled one is, but not now.
            status = 404 if self.survey.status == SurveyStatus.DRAFT else 410
            return self._unavailable(reason, status=status)
        if self.invitation is not None and self.invitation.responded_at is not None:
            # Another device answered through the same personal link.
            return self._already_answered(
                _("This link has already been used to answer. Thank you!"),
                not_saved=request.method == "POST",
            )
        return super().dispatch(request, *args, **kwargs)

    def _already_answered(self, reason: str | None = None, *, not_saved: bool) -> HttpResponse:
        """The page for someone who has answered already: on arrival, instead of a form
        whose answers would be refused; after a refused send, saying it was not saved."""
        return render(
            self.request,
            "surveys/already_answered.html",
            {
                "survey": self.survey,
                "reason": reason or _("You have already answered this survey. Thank you!"),
                "not_saved": not_saved,
                "languages": self._languages(),
            },
            status=409,
        )

    def _answered_before(self) -> bool:
        """Whether this respondent is known to have answered (a survey taking one answer).

        Known means: the signed-in member's (or their invitation's) participation, or the
        answer key this browser was given for a public link. Either tells the respondent
        only what they did themselves. Kiosks never come here: they are shared devices.
        """
        if self.survey.allow_multiple_responses:
            return False
        return self._answered_by()

    def _asks_answered(self) -> bool:
        return not self.is_poll and not self.survey.allow_multiple_responses

    def _answered_by(self) -> bool:
        if self.member is not None and self.member_answered is not None:
            return self.member_answered
        token = self._visitor_key()
        return survey_answered_by(
            survey=self.survey,
            member=self.member,
            visitor_key=answer_key_stored(token) if token else "",
        )

    def _visitor_key(self) -> str:
        """This browser's answer token for the survey, when it has a well-formed one."""
        if self.member is not None:
            return ""
        token = self.request.COOKIES.get(self._key_cookie, "")
        return token if visitor_token_valid(token) else ""

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
        instead of adding a second. The cookie holds nothing but that random token, and
        the database only its keyed hash (`answer_key_stored`).
        """
        if self.survey.allow_multiple_responses and not self.is_poll:
            # Each page is a new answer; the form's own key still makes its resend one.
            return visitor_token_new()
        return self._visitor_key() or visitor_token_new()

    @property
    def _can_be_contacted(self) -> bool:
        return (self.member is not None and bool(self.member.email)) or (
            self.invitation is not None and bool(self.invitation.email)
        )

    def _form(self, data=None) -> ResponseForm:
        return self._form_with(data, initial=self._initial())

    def _initial(self) -> dict:
        """The page's answer key (a fresh one, or the visitor's) and any tapped score."""
        self.questions = compiled_questions(survey=self.survey)
        self.key = self._idempotency_key()
        return {"idempotency_key": self.key, **self._prefill()}

    def _form_with(self, data, *, initial: dict) -> ResponseForm:
        return ResponseForm(
            data,
            survey=self.survey,
            questions=self.questions,
            language=self.language,
            can_be_contacted=self._can_be_contacted,
            initial=initial,
        )

    def _prefill(self) -> dict[str, int]:
        """The score tapped in the invitation email, on the question its link names."""
        tapped = self.request.session.get(SCORE_SESSION_KEY.format(self.survey.public_id))
        if tapped is None or not self.invitation:
            return {}
        if not isinstance(tapped, dict):
            # Kept by a session from before links named their question.
            tapped = {"score": tapped, "question": None}
        question = score_question(self.questions, tapped.get("question"))
        score = tapped.get("score")
        if question is None or not isinstance(score, int):
            return {}
        low, high = question.bounds
        return {question_field_name(question): score} if low <= score <= high else {}

    def _form_markup(self, form: ResponseForm) -> str:
        """The unbound form's markup with FORM_KEY_SLOT for the page's answer key: rendered
        once per survey version, language and variant (contact box, a tapped score) by
        this process. crispy rendering was most of a page's time."""
        page_key = form.initial["idempotency_key"]
        return compiled(
            ("respond-form", *self._variant(form.initial)),
            lambda: render_crispy_form(form, helper=form.helper).replace(page_key, FORM_KEY_SLOT),
        )

    def _variant(self, initial: dict) -> tuple:
        """Everything an unbound respondent page shows, bar the per-request parts (CSRF
        token, answer key, whom the member answers as). Known before any form is built:
        a page kept from an earlier request costs no form."""
        community = self.survey.community
        return (
            survey_version(self.survey),
            # The page and the contact box name the organisation; the privacy link is the
            # community's.
            self.survey.organisation.updated_at.isoformat(),
            community.updated_at.isoformat() if community else None,
            translation.get_language(),
            # The form's fields: the version's questions (and its anonymity box), and the
            # contact box, offered to whom the organisation could write to.
            self._can_be_contacted and self.survey.anonymity != Anonymity.ANONYMOUS,
            tuple(sorted((k, v) for k, v in initial.items() if k != "idempotency_key")),
            self.member is not None,
        )

    def _context(self, form: ResponseForm) -> dict:
        return {
            "survey": self.survey,
            "form": form,
            "member": self.member,
            "title": self.survey.title.get(self.language) or self.survey.title_text,
            "languages": self._languages(),
            # Errors at questions (the page's own key is not one to mark).
            "marked": bool(set(form.errors) - {"__all__", "idempotency_key"}),
        }

    def _render(self, form: ResponseForm, status: int = 200) -> HttpResponse:
        if form.is_bound or len(messages.get_messages(self.request)):
            # Errors, posted answers or messages: rendered for this request alone.
            return render(self.request, self.template_name, self._context(form), status=status)
        return self._blank_page(form.initial, lambda: form, status=status)

    def _blank_page(self, initial: dict, form: Callable[[], ResponseForm], status: int = 200):
        """A blank page is the same for everyone on this survey version and variant: each
        process renders it once with slots for what is personal, then fills them in. The
        form is built (`form()`) only for that first rendering."""

        def build() -> str:
            blank = form()
            context = self._context(blank)
            context.update(
                form_html=mark_safe(self._form_markup(blank)),  # noqa: S308 - our markup
                csrf_token=CSRF_SLOT,
                member=Answering(email=MEMBER_EMAIL_SLOT) if self.member is not None else None,
            )
            return render_to_string(self.template_name, context, request=self.request)

        page = compiled(("respond-page", *self._variant(initial)), build)
        page = page.replace(CSRF_SLOT, get_token(self.request))
        page = page.replace(FORM_KEY_SLOT, initial["idempotency_key"])
        if self.member is not None:
            page = page.replace(MEMBER_EMAIL_SLOT, escape(self.member.email))
        return HttpResponse(page, status=status)

    def _render_poll(self, form: ResponseForm, status: int = 200) -> HttpResponse:
        voted = self._answered_by()
        return render(
            self.request,
            "surveys/poll.html",
            {
                "survey": self.survey,
                "poll": poll_card(
                    survey=self.survey, form=form, voted=voted, language=self.language
                ),
                "member": self.member,
                "title": self.survey.title.get(self.language) or self.survey.title_text,
                "languages": self._languages(),
            },
            status=status,
        )

    def _languages(self) -> list[tuple[str, str]]:
        return [
            (c, n)
            for c, n in settings.LANGUAGES
            if not self.survey.languages or c in self.survey.languages
        ]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not self.is_poll and self._answered_before():
            # Say so now, not after the whole form has been filled in again.
            return self._already_answered(not_saved=False)
        if self.is_poll:
            page = self._render_poll(self._form())
        elif len(messages.get_messages(request)):
            page = self._render(self._form())
        else:
            initial = self._initial()
            page = self._blank_page(initial, lambda: self._form_with(None, initial=initial))
        self._remember_visitor(page, self.key)
        return page

    def _remember_visitor(self, page: HttpResponse, token: str) -> None:
        """A visitor without an account keeps their answer token for a year: it is how one
        browser gets one vote and sees its own answer again. Set once, when first given
        out: a cookie the browser holds already runs to its own expiry."""
        if self.member is None and self.request.COOKIES.get(self._key_cookie) != token:
            page.set_cookie(
                self._key_cookie,
                token,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=self.request.is_secure(),
                # Site-wide, so the community home's inline polls see the same key.
                path="/",
            )

    @property
    def is_poll(self) -> bool:
        return self.survey.kind == SurveyKind.POLL

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = request.POST.get("idempotency_key", "")
        if self.is_poll or not ANSWER_KEY_FORMAT.fullmatch(token):
            return self._post_through_form(request)
        # A survey's answers go straight to the service, which checks them with the
        # form's own rules and words; the form is built only to show errors.
        self.questions = compiled_questions(survey=self.survey)
        survey = self.survey
        consent = (
            self._can_be_contacted
            and survey.anonymity != Anonymity.ANONYMOUS
            and checkbox_posted(request.POST, "consent_to_contact")
        )
        anonymous = survey.anonymity == Anonymity.RESPONDENT_CHOICE and checkbox_posted(
            request.POST, "answer_anonymously"
        )
        key = answer_key_stored(token)
        try:
            result = self._submit(
                answers_posted(questions=self.questions, data=request.POST),
                key=key,
                consent=consent,
                anonymous=anonymous,
            )
        except (SurveyNotOpen, AlreadyAnswered) as exc:
            return self._refused(request, exc)
        except ValidationError as exc:
            form = self._form(request.POST)
            form.is_valid()
            for field, errors in exc.message_dict.items():
                for error in errors:
                    if error not in form.errors.get(field, []):
                        form.add_error(field if field in form.fields else None, error)
            return self._render(form, status=400)
        return self._answered(request, result=result, token=token, key=key)

    def _post_through_form(self, request: HttpRequest) -> HttpResponse:
        """A poll's vote, a page whose key is not one of ours, or a refused answer: the
        whole form, as the page shows it."""
        data, stale = (
            request.POST,
            not ANSWER_KEY_FORMAT.fullmatch(request.POST.get("idempotency_key", "")),
        )
        if stale:
            # Not a key this site gave out (empty, too long, odd characters): nothing is
            # stored under it. The answers come back on a good key, to send again.
            data = data.copy()
            data["idempotency_key"] = self._idempotency_key()
        form = self._form(data)
        if not form.is_valid() or (stale and not self.is_poll):
            if stale and not self.is_poll:
                form.add_error(
                    None,
                    _(
                        "This page was out of date, so nothing was saved. Please check "
                        "your answers and send them again."
                    ),
                )
            if self.is_poll:
                return self._render_poll(form, status=400)
            return self._render(form, status=400)
        token = form.cleaned_data["idempotency_key"]
        if self.is_poll and self.member is None:
            # One vote per browser: its poll token, not whatever the form carried.
            token = self._idempotency_key()
        key = answer_key_stored(token)
        try:
            result = self._submit(
                form.raw_answers,
                key=key,
                consent=form.cleaned_data.get("consent_to_contact", False),
                anonymous=form.cleaned_data.get("answer_anonymously", False),
            )
        except (SurveyNotOpen, AlreadyAnswered) as exc:
            return self._refused(request, exc)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self._render(form, status=400)
        return self._answered(request, result=result, token=token, key=key)

    def _submit(
        self, raw_answers: dict, *, key: str, consent: bool, anonymous: bool
    ) -> SubmitResult:
        """The answers to the service, from this page's respondent, invitation and store."""
        return response_submit(
            survey=self.survey,
            raw_answers=raw_answers,
            idempotency_key=key,
            language=self.language,
            member=self.member,
            invitation=self.invitation,
            channel=self.invitation.channel if self.invitation else None,
            location=response_location(
                survey=self.survey, member=self.member, invitation=self.invitation
            ),
            questions=self.questions,
            consent_to_contact=consent,
            wants_anonymous=anonymous,
        )

    def _refused(self, request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if isinstance(exc, SurveyNotOpen):
            return self._unavailable(exc.messages[0], status=410)
        if self.is_poll:
            messages.info(request, _("You have already voted; here are the results."))
            return redirect(self._poll_url(request))
        return self._already_answered(exc.messages[0], not_saved=True)

    def _answered(
        self, request: HttpRequest, *, result: SubmitResult, token: str, key: str
    ) -> HttpResponse:
        """After the service took (or found) the answer: say so, and where to go next."""
        if result.points_pending:
            messages.success(
                request,
                ngettext(
                    "Your %(points)s point will be added when your anonymous answer is "
                    "released together with others'.",
                    "Your %(points)s points will be added when your anonymous answer is "
                    "released together with others'.",
                    result.points_pending,
                )
                % {"points": result.points_pending},
            )
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
        if not result.created and not self.is_poll and not self._same_answers(request, key):
            # This browser answered before (its key found the first answer), and this is a
            # different answer: it was not stored, so the page must not thank as if it were.
            return self._already_answered(not_saved=True)
        if self.invitation is not None:
            for key in (INVITATION_SESSION_KEY, SCORE_SESSION_KEY):
                request.session.pop(key.format(self.survey.public_id), None)
        if self.is_poll:
            if result.created:
                messages.success(request, _("Thank you for voting!"))
            else:
                messages.info(request, _("You have already voted; here are the results."))
            page = redirect(self._poll_url(request))
            self._remember_visitor(page, token)
            return page
        url = reverse("surveys:survey_thanks", args=[self.survey.public_id])
        url = f"{url}?lang={self.language}"
        return redirect(url)

    def _same_answers(self, request: HttpRequest, key: str) -> bool:
        """Whether a send that found an earlier answer under its key repeats that answer
        (a double tap: the thank-you page is true) rather than changing it."""
        raw = answers_posted(questions=self.questions, data=request.POST)
        try:
            clean = answers_validate(questions=self.questions, raw=raw)
        except ValidationError:
            return False
        return answers_stored_under_key(survey=self.survey, idempotency_key=key, clean=clean)

    def _poll_url(self, request: HttpRequest) -> str:
        """Back where the vote came from (the poll page or the community home)."""
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return back
        url = reverse("surveys:survey_respond", args=[self.survey.public_id])
        return f"{url}?lang={self.language}"


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
