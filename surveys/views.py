from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from communities.flows import member_portal
from communities.forms import service_errors_apply
from communities.models import Community, Member
from communities.permissions import can_manage, can_read_results
from communities.services import MEMBER_CURRENT_STATUSES
from communities.views import StaffScopedMixin, community_brand, reconsent_page
from surveys.choices import ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.forms import (
    InvitationSendForm,
    KioskRegisterForm,
    QuestionForm,
    ResponseForm,
    SurveyCreateForm,
    SurveySettingsForm,
    language_name,
)
from surveys.models import (
    Channel,
    InvitationBatch,
    Participation,
    Question,
    Response,
    Survey,
    SurveyInvitation,
)
from surveys.selectors import (
    batch_progress,
    community_open_surveys,
    poll_card,
    survey_batches,
    survey_builder_questions,
    survey_kiosks,
    survey_list,
    survey_results,
    survey_translation_gaps,
)
from surveys.services import (
    UNSUBSCRIBE_SALT,
    AlreadyAnswered,
    InvitationLinkError,
    KioskRateLimited,
    SurveyNotOpen,
    email_unsubscribe,
    invitation_batch_create,
    invitation_from_link,
    invitation_open,
    kiosk_register,
    kiosk_revoke,
    kiosk_submit,
    question_add,
    question_delete,
    question_field_name,
    question_move,
    question_restore,
    question_update,
    questions_reorder,
    response_submit,
    survey_close,
    survey_closed_reason,
    survey_create,
    survey_duplicate,
    survey_publish,
    survey_publish_problems,
    survey_questions,
    survey_update,
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


INVITATION_SESSION_KEY = "chorus_invitation_{}"
SCORE_SESSION_KEY = "chorus_invitation_score_{}"


def session_invitation(*, request: HttpRequest, survey: Survey) -> SurveyInvitation | None:
    """The personal invitation this browser opened for the survey, answered or not.

    The link's token moved into the session when it was opened, so it never sits in
    the address bar (or a Referer header) of the survey page.
    """
    invitation_id = request.session.get(INVITATION_SESSION_KEY.format(survey.public_id))
    if invitation_id is None:
        return None
    return (
        SurveyInvitation.objects.select_related("member", "channel")
        .filter(pk=invitation_id, survey=survey)
        .first()
    )


def respondent_language(
    *,
    request: HttpRequest,
    survey: Survey,
    member: Member | None,
    invitation: SurveyInvitation | None = None,
) -> str:
    """The link's ?lang= wins, then the invitation's or member's, then the browser's."""
    for candidate in (
        request.GET.get("lang"),
        invitation.language if invitation else None,
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
        self.invitation = session_invitation(request=request, survey=self.survey)
        self.member = respondent_member(request=request, survey=self.survey) or (
            self.invitation.member if self.invitation else None
        )
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
            return self._unavailable(
                _("This link has already been used to answer. Thank you!"), status=409
            )
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
            can_be_contacted=(self.member is not None and bool(self.member.email))
            or (self.invitation is not None and bool(self.invitation.email)),
            initial={"idempotency_key": self.key, **self._prefill()},
        )

    def _prefill(self) -> dict[str, int]:
        """The score tapped in the invitation email, on the survey's first NPS question."""
        score = self.request.session.get(SCORE_SESSION_KEY.format(self.survey.public_id))
        nps = next((q for q in self.questions if q.type == QuestionType.NPS), None)
        if score is None or nps is None or not self.invitation:
            return {}
        return {question_field_name(nps): score}

    def _render(self, form: ResponseForm, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "survey": self.survey,
                "form": form,
                "member": self.member,
                "title": self.survey.title.get(self.language) or self.survey.title_text,
                "languages": self._languages(),
            },
            status=status,
        )

    def _voted(self) -> bool:
        """Whether this member, or this browser, has already answered (for polls)."""
        if self.member is not None:
            return Participation.objects.filter(survey=self.survey, member=self.member).exists()
        key = self.request.COOKIES.get(self._key_cookie, "")
        return (
            bool(key) and Response.objects.filter(survey=self.survey, idempotency_key=key).exists()
        )

    def _render_poll(self, form: ResponseForm, status: int = 200) -> HttpResponse:
        voted = self._voted()
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
        form = self._form()
        page = self._render_poll(form) if self.is_poll else self._render(form)
        if self.member is None:
            page.set_cookie(
                self._key_cookie,
                self.key,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
                # Site-wide, so the community home's inline polls see the same key.
                path="/",
            )
        return page

    @property
    def is_poll(self) -> bool:
        return self.survey.kind == SurveyKind.POLL

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self._form(request.POST)
        if not form.is_valid():
            if self.is_poll:
                return self._render_poll(form, status=400)
            return self._render(form, status=400)
        key = form.cleaned_data["idempotency_key"]
        if self.is_poll and self.member is None:
            # One vote per browser: its poll key, not whatever the form carried.
            key = self._idempotency_key()
        try:
            result = response_submit(
                survey=self.survey,
                raw_answers=form.raw_answers,
                idempotency_key=key,
                language=self.language,
                member=self.member,
                invitation=self.invitation,
                channel=self.invitation.channel if self.invitation else None,
                questions=self.questions,
                consent_to_contact=form.cleaned_data.get("consent_to_contact", False),
                wants_anonymous=form.cleaned_data.get("answer_anonymously", False),
            )
        except SurveyNotOpen as exc:
            return self._unavailable(exc.messages[0], status=410)
        except AlreadyAnswered as exc:
            if self.is_poll:
                messages.info(request, _("You have already voted; here are the results."))
                return redirect(self._poll_url(request))
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
        if self.invitation is not None:
            for key in (INVITATION_SESSION_KEY, SCORE_SESSION_KEY):
                request.session.pop(key.format(self.survey.public_id), None)
        if self.is_poll:
            if result.created:
                messages.success(request, _("Thank you for voting!"))
            else:
                messages.info(request, _("You have already voted; here are the results."))
            page = redirect(self._poll_url(request))
            if self.member is None:
                page.set_cookie(
                    self._key_cookie,
                    key,
                    max_age=365 * 24 * 3600,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                    path="/",
                )
            return page
        url = reverse("surveys:survey_thanks", args=[self.survey.public_id])
        url = f"{url}?lang={self.language}"
        return redirect(url)

    def _poll_url(self, request: HttpRequest) -> str:
        """Back where the vote came from (the poll page or the community home)."""
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return back
        url = reverse("surveys:survey_respond", args=[self.survey.public_id])
        return f"{url}?lang={self.language}"


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
            if member is None and not (len(key) == 32 and key.isalnum()):
                key = new_keys[cookie] = uuid.uuid4().hex
            voted = (
                Participation.objects.filter(survey=poll, member=member).exists()
                if member is not None
                else Response.objects.filter(survey=poll, idempotency_key=key).exists()
            )
            form = ResponseForm(
                survey=poll,
                questions=survey_questions(survey=poll),
                language=language,
                initial={"idempotency_key": key or uuid.uuid4().hex},
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


class InvitationOpenView(View):
    """A personal link from an email: check it, move it into the session, show the survey.

    Mail scanners open every link, so opening records only the first open; the answer
    is stored, and the link used up, only when the respondent sends the form.
    """

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        try:
            invitation = invitation_from_link(signed=signed)
        except InvitationLinkError as exc:
            return self._refused(request, exc)
        invitation_open(invitation=invitation)
        survey = invitation.survey
        request.session[INVITATION_SESSION_KEY.format(survey.public_id)] = invitation.pk
        try:
            score = int(request.GET["score"])
        except (KeyError, ValueError):
            score = None
        if score is not None and 0 <= score <= 10:
            request.session[SCORE_SESSION_KEY.format(survey.public_id)] = score
        else:
            request.session.pop(SCORE_SESSION_KEY.format(survey.public_id), None)
        url = reverse("surveys:survey_respond", args=[survey.public_id])
        if invitation.language:
            url += f"?lang={invitation.language}"
        page = redirect(url)
        # The token must not travel on as a Referer from the survey page's links.
        page["Referrer-Policy"] = "no-referrer"
        return page

    def _refused(self, request: HttpRequest, exc: InvitationLinkError) -> HttpResponse:
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
        survey = exc.invitation.survey if exc.invitation else None
        if exc.invitation and exc.invitation.language:
            translation.activate(exc.invitation.language)
        return render(
            request,
            "surveys/unavailable.html",
            {"survey": survey, "reason": reason},
            status=status,
        )


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """One-click unsubscribe from survey email (RFC 8058 POST), with a confirm page on GET.

    No CSRF token: a mail client's one-click POST cannot carry one, and the signed
    address in the URL is the authority (it can only stop mail, never start it).
    """

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        if not self._valid(signed):
            return render(
                request,
                "surveys/unsubscribe.html",
                {"invalid": True},
                status=400,
            )
        return render(request, "surveys/unsubscribe.html", {"signed": signed})

    def post(self, request: HttpRequest, signed: str) -> HttpResponse:
        if not self._valid(signed):
            return render(request, "surveys/unsubscribe.html", {"invalid": True}, status=400)
        email_unsubscribe(signed=signed)
        return render(request, "surveys/unsubscribe.html", {"done": True})

    @staticmethod
    def _valid(signed: str) -> bool:
        try:
            signing.loads(signed, salt=UNSUBSCRIBE_SALT)
        except signing.BadSignature:
            return False
        return True


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

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=can_manage(self.role), **kwargs)


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


# --- the staff builder -------------------------------------------------------------------


class StaffSurveyCreateView(StaffScopedMixin, FormView):
    template_name = "surveys/staff_survey_create.html"
    permission = staticmethod(can_manage)
    form_class = SurveyCreateForm

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "organisation": self.organisation,
            "language": translation.get_language(),
        }

    def form_valid(self, form: SurveyCreateForm) -> HttpResponse:
        data = form.cleaned_data
        first = data["languages"][0] if data["languages"] else "en"
        try:
            survey = survey_create(
                organisation=self.organisation,
                community=data["community"],
                kind=data["kind"],
                languages=data["languages"],
                title={first: data["title"]} if data["title"] else {},
                template=data["template"] or None,
            )
        except ValidationError as exc:
            service_errors_apply(form, exc, {})
            return self.form_invalid(form)
        messages.success(self.request, _("Draft created. Add and translate its questions."))
        return redirect("staff:survey_edit", self.organisation.slug, survey.pk)

    def form_invalid(self, form: SurveyCreateForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StaffSurveyEditView(StaffScopedMixin, DetailView):
    """The builder's home for one survey: settings, questions, translation gaps."""

    template_name = "surveys/staff_survey_edit.html"
    permission = staticmethod(can_manage)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.object
        context.update(
            form=kwargs.get("form") or SurveySettingsForm(survey=survey),
            questions=survey_builder_questions(survey=survey),
            gaps=survey_translation_gaps(survey=survey),
            problems=survey_publish_problems(survey=survey),
            question_types=QuestionType.choices,
            preview_languages=[(c, language_name(c)) for c in survey.languages],
            public_url=self.request.build_absolute_uri(
                reverse("surveys:survey_respond", args=[survey.public_id])
            ),
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        form = SurveySettingsForm(request.POST, survey=self.object)
        if form.is_valid():
            try:
                survey_update(survey=self.object, **form.survey_fields())
            except ValidationError as exc:
                service_errors_apply(form, exc, {"title": "title_en"})
            else:
                messages.success(request, _("Settings saved."))
                return redirect("staff:survey_edit", self.organisation.slug, self.object.pk)
        self.object.refresh_from_db()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StaffPostActionView(StaffScopedMixin, SingleObjectMixin, View):
    """A POST-only button on a builder page: run one service, say how it went, go back."""

    permission = staticmethod(can_manage)
    http_method_names = ["post"]

    def act(self, obj) -> HttpResponse:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        try:
            return self.act(self.object)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            survey = self.object if isinstance(self.object, Survey) else self.object.survey
            return redirect("staff:survey_edit", self.organisation.slug, survey.pk)


class StaffSurveyDuplicateView(StaffPostActionView):
    model = Survey

    def act(self, survey: Survey) -> HttpResponse:
        copy = survey_duplicate(survey=survey)
        messages.success(self.request, _("This is a draft copy; the original is unchanged."))
        return redirect("staff:survey_edit", self.organisation.slug, copy.pk)


class StaffSurveyPublishView(StaffPostActionView):
    model = Survey

    def act(self, survey: Survey) -> HttpResponse:
        survey_publish(survey=survey)
        messages.success(self.request, _("The survey is live."))
        return redirect("staff:survey_edit", self.organisation.slug, survey.pk)


class StaffSurveyCloseView(StaffPostActionView):
    model = Survey

    def act(self, survey: Survey) -> HttpResponse:
        survey_close(survey=survey)
        messages.success(self.request, _("The survey is closed; no more answers are taken."))
        return redirect("staff:survey_edit", self.organisation.slug, survey.pk)


class StaffSurveyReorderView(StaffPostActionView):
    """The drag-and-drop order from the builder page, as a list of question ids."""

    model = Survey

    def act(self, survey: Survey) -> HttpResponse:
        try:
            order = [int(pk) for pk in self.request.POST.getlist("order")]
        except ValueError:
            raise ValidationError(_("The new order must list every question once.")) from None
        questions_reorder(survey=survey, order=order)
        if self.request.headers.get("Accept") == "application/json":
            return JsonResponse({"order": order})
        messages.success(self.request, _("Questions reordered."))
        return redirect("staff:survey_edit", self.organisation.slug, survey.pk)


class StaffSurveyPreviewView(StaffScopedMixin, DetailView):
    """The respondent's page in one language, with nothing saved."""

    template_name = "surveys/staff_survey_preview.html"
    permission = staticmethod(can_read_results)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.object
        language = self.request.GET.get("lang")
        if language not in survey.languages:
            language = survey.languages[0] if survey.languages else settings.LANGUAGE_CODE
        # Staff read the page around it in their own language; the preview itself is
        # rendered whole in the previewed one, as a respondent would get it.
        context.update(
            gaps=survey_translation_gaps(survey=survey).get(language, []),
            preview_languages=[(c, language_name(c)) for c in survey.languages],
            preview_language=language,
        )
        with translation.override(language):
            form = ResponseForm(
                survey=survey,
                questions=survey_questions(survey=survey),
                language=language,
                can_be_contacted=True,
            )
            context["preview_bidi"] = translation.get_language_bidi()
            context["preview_html"] = render_to_string(
                "surveys/_preview_form.html",
                {"survey": survey, "form": form, "title": survey.title.get(language, "")},
                request=self.request,
            )
        return context


class _ObjectFormView(StaffScopedMixin, SingleObjectMixin, FormView):
    """A form about one scoped object (Django's SingleObjectMixin + FormView recipe)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StaffQuestionAddView(_ObjectFormView):
    template_name = "surveys/staff_question_form.html"
    permission = staticmethod(can_manage)
    model = Survey
    form_class = QuestionForm

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "survey": self.object}
        if self.request.method == "GET" and self.request.GET.get("type") in QuestionType.values:
            kwargs["initial"] = {"type": self.request.GET["type"], "required": True}
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(survey=self.object, **kwargs)

    def form_valid(self, form: QuestionForm) -> HttpResponse:
        try:
            question_add(
                survey=self.object, type=form.cleaned_data["type"], **form.question_fields()
            )
        except ValidationError as exc:
            service_errors_apply(form, exc, _question_error_fields(self.object))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, _("Question added."))
        return redirect("staff:survey_edit", self.organisation.slug, self.object.pk)


def _question_error_fields(survey: Survey) -> dict[str, str]:
    first = survey.languages[0] if survey.languages else "en"
    return {
        "text": f"text_{first}",
        "choices": f"choices_{first}",
        "settings": "scale_min",
        "show_if": "show_if_question",
    }


class StaffQuestionEditView(_ObjectFormView):
    template_name = "surveys/staff_question_form.html"
    permission = staticmethod(can_manage)
    model = Question
    form_class = QuestionForm

    def get_queryset(self):
        return super().get_queryset().select_related("survey")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "survey": self.object.survey, "question": self.object}

    def get_context_data(self, **kwargs):
        return super().get_context_data(survey=self.object.survey, question=self.object, **kwargs)

    def form_valid(self, form: QuestionForm) -> HttpResponse:
        try:
            question_update(question=self.object, **form.question_fields())
        except ValidationError as exc:
            service_errors_apply(form, exc, _question_error_fields(self.object.survey))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, _("Question saved."))
        return redirect("staff:survey_edit", self.organisation.slug, self.object.survey_id)


class StaffQuestionDeleteView(StaffPostActionView):
    model = Question

    def act(self, question: Question) -> HttpResponse:
        if question_delete(question=question):
            messages.success(self.request, _("Question deleted."))
        else:
            messages.info(
                self.request,
                _("People have answered this question, so it is hidden instead of deleted."),
            )
        return redirect("staff:survey_edit", self.organisation.slug, question.survey_id)


class StaffQuestionRestoreView(StaffPostActionView):
    model = Question

    def act(self, question: Question) -> HttpResponse:
        question_restore(question=question)
        messages.success(self.request, _("Question shown again."))
        return redirect("staff:survey_edit", self.organisation.slug, question.survey_id)


class StaffQuestionMoveView(StaffPostActionView):
    model = Question

    def act(self, question: Question) -> HttpResponse:
        offset = -1 if self.request.POST.get("direction") == "up" else 1
        question_move(question=question, offset=offset)
        url = reverse("staff:survey_edit", args=[self.organisation.slug, question.survey_id])
        return redirect(f"{url}#question-{question.pk}")


# --- kiosk ---------------------------------------------------------------------------------


def _kiosk_channel(device_token: str) -> Channel:
    channel = (
        Channel.objects.select_related("survey", "survey__organisation", "location")
        .filter(kind=ChannelKind.KIOSK, device_token=device_token)
        .first()
    )
    if channel is None:
        raise Http404("No such kiosk")
    return channel


class KioskView(View):
    """The full-screen, touch-first survey page on a store's tablet; no login, no cookies."""

    def get(self, request: HttpRequest, device_token: str) -> HttpResponse:
        channel = _kiosk_channel(device_token)
        survey = channel.survey
        languages = [(c, n) for c, n in settings.LANGUAGES if c in (survey.languages or ["en"])]
        default = (channel.location.language if channel.location else "") or (
            survey.organisation.default_language
        )
        if default not in dict(languages):
            default = languages[0][0]
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
        questions = survey_questions(survey=survey)
        # Every language's form is in the page, so a switch works with the network down.
        forms_by_language = []
        for code, name in languages:
            with translation.override(code):
                form = ResponseForm(
                    survey=survey,
                    questions=questions,
                    language=code,
                    auto_id=f"{code}_%s",
                    initial={"idempotency_key": ""},
                )
                forms_by_language.append(
                    {
                        "code": code,
                        "name": name,
                        "bidi": translation.get_language_bidi(),
                        "title": survey.title.get(code) or survey.title_text,
                        "thank_you": survey.thank_you.get(code) or "",
                        "html": render_to_string(
                            "surveys/_kiosk_form.html", {"form": form}, request=request
                        ),
                    }
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
        channel = _kiosk_channel(device_token)
        if not channel.active:
            return JsonResponse({"error": "kiosk_revoked"}, status=410)
        if len(request.body) > 64 * 1024:
            return JsonResponse({"error": "too_large"}, status=413)
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
            # Errors come back in the language the customer is answering in.
            with translation.override(language):
                result = kiosk_submit(
                    channel=channel, raw_answers=answers, idempotency_key=key, language=language
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


# --- staff: distribution ----------------------------------------------------------------


class StaffSurveyDistributeView(StaffScopedMixin, DetailView):
    """Where a survey goes out: its public link, email sends and kiosks."""

    template_name = "surveys/staff_survey_distribute.html"
    permission = staticmethod(can_manage)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.object
        context.update(
            send_form=kwargs.get("send_form") or InvitationSendForm(organisation=self.organisation),
            kiosk_form=kwargs.get("kiosk_form")
            or KioskRegisterForm(organisation=self.organisation),
            batches=survey_batches(survey=survey),
            kiosks=survey_kiosks(survey=survey),
            public_url=self.request.build_absolute_uri(
                reverse("surveys:survey_respond", args=[survey.public_id])
            ),
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        if "location" in request.POST:
            return self._register_kiosk()
        form = InvitationSendForm(request.POST, organisation=self.organisation)
        if form.is_valid():
            try:
                batch = invitation_batch_create(
                    survey=self.object,
                    created_by=request.user,
                    community=form.cleaned_data["community"],
                    recipients=form.recipient_pairs,
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, {})
            else:
                messages.success(
                    request, _("The survey is being sent; this page shows how far it has got.")
                )
                return redirect("staff:batch_detail", self.organisation.slug, batch.pk)
        return self.render_to_response(self.get_context_data(send_form=form), status=400)

    def _register_kiosk(self) -> HttpResponse:
        form = KioskRegisterForm(self.request.POST, organisation=self.organisation)
        if form.is_valid():
            try:
                kiosk_register(survey=self.object, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_apply(form, exc, {})
            else:
                messages.success(self.request, _("Kiosk registered: open its link on the tablet."))
                return redirect("staff:survey_distribute", self.organisation.slug, self.object.pk)
        return self.render_to_response(self.get_context_data(kiosk_form=form), status=400)


class StaffBatchDetailView(StaffScopedMixin, DetailView):
    template_name = "surveys/staff_batch_detail.html"
    permission = staticmethod(can_manage)
    model = InvitationBatch
    context_object_name = "batch"

    def get_queryset(self):
        return super().get_queryset().select_related("survey", "community")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["progress"] = batch_progress(batch=self.object)
        return context


class StaffKioskRevokeView(StaffPostActionView):
    model = Channel

    def get_queryset(self):
        return super().get_queryset().filter(kind=ChannelKind.KIOSK)

    def act(self, channel: Channel) -> HttpResponse:
        kiosk_revoke(channel=channel)
        messages.success(self.request, _("The kiosk is switched off; its link no longer works."))
        return redirect("staff:survey_distribute", self.organisation.slug, channel.survey_id)
