"""Staff: the survey builder (settings, questions, preview and POST-only actions)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import DetailView

from communities.forms import service_errors_apply
from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from surveys.choices import QuestionType, SurveyPhase
from surveys.forms.builder import QuestionForm, SurveyCreateForm, SurveySettingsForm, language_name
from surveys.forms.respond import ResponseForm
from surveys.models import Question, Survey
from surveys.selectors import survey_builder_questions, survey_translation_gaps
from surveys.services.builder import (
    question_add,
    question_delete,
    question_move,
    question_restore,
    question_update,
    questions_reorder,
    survey_close,
    survey_create,
    survey_duplicate,
    survey_publish,
    survey_publish_problems,
    survey_update,
)
from surveys.services.responses import survey_questions

# The previewed language; not `?lang=`, which on staff pages switches the staff's own.
PREVIEW_LANGUAGE_PARAM = "language"
# A keyboard move, carried to the builder page it redirects to.
MOVED_SESSION_KEY = "chorus_builder_moved"


class StaffSurveyCreateView(StaffFormView):
    template_name = "surveys/staff_survey_create.html"
    permission = staticmethod(can_manage)
    form_class = SurveyCreateForm
    success_message = _lazy("Draft created. Add and translate its questions.")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "organisation": self.organisation,
            "language": translation.get_language(),
        }

    def form_save(self, form: SurveyCreateForm) -> Survey:
        data = form.cleaned_data
        first = data["languages"][0] if data["languages"] else "en"
        return survey_create(
            organisation=self.organisation,
            community=data["community"],
            kind=data["kind"],
            languages=data["languages"],
            title={first: data["title"]} if data["title"] else {},
            template=data["template"] or None,
        )

    def get_success_url(self) -> str:
        return reverse("staff:survey_edit", args=[self.organisation.slug, self.saved.pk])


class StaffSurveyEditView(StaffObjectFormView):
    """The builder's home for one survey: settings, questions, translation gaps."""

    template_name = "surveys/staff_survey_edit.html"
    permission = staticmethod(can_manage)
    model = Survey
    context_object_name = "survey"
    form_class = SurveySettingsForm
    service_field_map = {"title": "title_en"}
    success_message = _lazy("Settings saved.")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "survey": self.object}
        # The form starts from the survey as saved (FormView's empty `initial` would hide it).
        kwargs.pop("initial")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.object
        context.update(
            questions=survey_builder_questions(survey=survey),
            gaps=survey_translation_gaps(survey=survey),
            problems=survey_publish_problems(survey=survey),
            moved=moved_question(self.request, survey=survey)
            if self.request.method == "GET"
            else None,
            question_types=QuestionType.choices,
            preview_languages=[(c, language_name(c)) for c in survey.languages],
            public_url=self.request.build_absolute_uri(
                reverse("surveys:survey_respond", args=[survey.public_id])
            ),
        )
        return context

    def form_save(self, form: SurveySettingsForm) -> Survey:
        return survey_update(survey=self.object, **form.survey_fields())

    def form_invalid(self, form, status: int = 400) -> HttpResponse:
        # The page around the form shows the survey as saved, not as half-edited.
        self.object.refresh_from_db()
        return super().form_invalid(form, status=status)

    def get_success_url(self) -> str:
        return reverse("staff:survey_edit", args=[self.organisation.slug, self.object.pk])


class StaffPostActionView(StaffActionView):
    """A POST-only button on a builder page; a refusal is shown on the survey's page."""

    permission = staticmethod(can_manage)

    def refused_url(self, obj) -> str:
        survey = obj if isinstance(obj, Survey) else obj.survey
        return reverse("staff:survey_edit", args=[self.organisation.slug, survey.pk])


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
        if survey.phase == SurveyPhase.SCHEDULED:
            when = formats.date_format(timezone.localtime(survey.opens_at), "DATETIME_FORMAT")
            messages.success(
                self.request, _("The survey is scheduled: it opens %(when)s.") % {"when": when}
            )
        else:
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
        language = self.request.GET.get(PREVIEW_LANGUAGE_PARAM)
        if language not in survey.languages:
            language = survey.languages[0] if survey.languages else settings.LANGUAGE_CODE
        # Staff read the page around it in their own language; the preview itself is
        # rendered whole in the previewed one, as a respondent would get it.
        context.update(
            gaps=[
                words
                for gap in survey_translation_gaps(survey=survey)
                if (words := gap.missing_in(language))
            ],
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


class StaffQuestionAddView(StaffObjectFormView):
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

    success_message = _lazy("Question added.")

    def form_save(self, form: QuestionForm) -> Question:
        return question_add(
            survey=self.object, type=form.cleaned_data["type"], **form.question_fields()
        )

    def service_errors_put(self, form, exc: ValidationError) -> None:
        service_errors_apply(form, exc, _question_error_fields(self.object))

    def get_success_url(self) -> str:
        return reverse("staff:survey_edit", args=[self.organisation.slug, self.object.pk])


def _question_error_fields(survey: Survey) -> dict[str, str]:
    first = survey.languages[0] if survey.languages else "en"
    return {
        "text": f"text_{first}",
        "choices": f"choices_{first}",
        "settings": "scale_min",
        "show_if": "show_if_question",
    }


class StaffQuestionEditView(StaffObjectFormView):
    template_name = "surveys/staff_question_form.html"
    permission = staticmethod(can_manage)
    model = Question
    form_class = QuestionForm

    def scope_queryset(self, queryset):
        return queryset.select_related("survey")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "survey": self.object.survey, "question": self.object}

    def get_context_data(self, **kwargs):
        return super().get_context_data(survey=self.object.survey, question=self.object, **kwargs)

    success_message = _lazy("Question saved.")

    def form_save(self, form: QuestionForm) -> Question:
        return question_update(question=self.object, **form.question_fields())

    def service_errors_put(self, form, exc: ValidationError) -> None:
        service_errors_apply(form, exc, _question_error_fields(self.object.survey))

    def get_success_url(self) -> str:
        return reverse("staff:survey_edit", args=[self.organisation.slug, self.object.survey_id])


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
    """The keyboard's way to reorder: one place up or down, then back on the builder with
    the focus on the moved question's button and the move announced."""

    model = Question

    def act(self, question: Question) -> HttpResponse:
        direction = "up" if self.request.POST.get("direction") == "up" else "down"
        before = list(question.survey.questions.values_list("pk", flat=True))
        after = [
            q.pk for q in question_move(question=question, offset=-1 if direction == "up" else 1)
        ]
        # Kept as data for the next page, which words it in the staff member's language.
        self.request.session[MOVED_SESSION_KEY] = {
            "survey": question.survey_id,
            "question": question.pk,
            "direction": direction,
            "from": before.index(question.pk) + 1,
            "to": after.index(question.pk) + 1,
            "count": len(after),
        }
        # No #fragment: a page opened at a fragment ignores `autofocus`.
        return redirect("staff:survey_edit", self.organisation.slug, question.survey_id)


def moved_question(request, *, survey: Survey) -> dict | None:
    """The move made just before this page (once), worded, with the button to focus."""
    moved = request.session.pop(MOVED_SESSION_KEY, None)
    if not isinstance(moved, dict) or moved.get("survey") != survey.pk:
        return None
    place = {"n": moved["from"], "position": moved["to"]}
    if moved["from"] == moved["to"]:
        message = _("Question %(n)s stays at position %(position)s.") % place
    elif moved["direction"] == "up":
        message = _("Question %(n)s moved up to position %(position)s.") % place
    else:
        message = _("Question %(n)s moved down to position %(position)s.") % place
    # The same button again, unless the question reached the end it points to.
    focus = moved["direction"]
    if focus == "up" and moved["to"] == 1:
        focus = "down"
    elif focus == "down" and moved["to"] == moved["count"]:
        focus = "up"
    return {"question": moved["question"], "focus": focus, "message": message}
