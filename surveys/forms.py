from __future__ import annotations

import json
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from communities.models import Community, Location, Organisation
from surveys.choices import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    Anonymity,
    Condition,
    QuestionType,
    SurveyKind,
    TriggerEvent,
)
from surveys.library import LIBRARY
from surveys.models import (
    SHORT_TEXT_MAX_LENGTH,
    TEXT_ANSWER_MAX_LENGTH,
    Question,
    Survey,
    translated,
)
from surveys.services import answers_validate, question_field_name

# Shown by respond.js only when the survey asks for one question at a time.
STEP_NAV = (
    '{% load i18n %}<div id="survey-step-nav" hidden><div class="d-flex gap-2 mb-3">'
    '<button type="button" class="btn btn-outline-secondary btn-lg" data-step="back">'
    '{% translate "Back" %}</button>'
    '<button type="button" class="btn btn-primary btn-lg flex-fill" data-step="next">'
    '{% translate "Next" %}</button></div></div>'
)
CSAT_FACES = ("😞", "🙁", "😐", "🙂", "😄")


def _csat_words(n: int) -> str:
    return (
        _("Very unsatisfied"),
        _("Unsatisfied"),
        _("Neither satisfied nor unsatisfied"),
        _("Satisfied"),
        _("Very satisfied"),
    )[n - 1]


def _scale_label(kind: str, n: int) -> str:
    # Screen readers would read "black star" n times, or a face's emoji name; they get
    # the words instead.
    if kind == QuestionType.STAR:
        shown, words = "★" * n, ngettext("%(n)s star", "%(n)s stars", n) % {"n": n}
    elif kind == QuestionType.CSAT:
        shown, words = CSAT_FACES[n - 1], _csat_words(n)
    else:
        return str(n)
    return format_html(
        '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span>', shown, words
    )


def _scale_choices(question: Question) -> list[tuple[int, str]]:
    if question.type == QuestionType.YES_NO:
        return [(1, _("Yes")), (0, _("No"))]
    low, high = question.bounds
    return [(n, _scale_label(question.type, n)) for n in range(low, high + 1)]


class ScaleRadioSelect(forms.RadioSelect):
    """Real radio inputs, laid out as a row of big buttons by CSS (surveys/_question.html)."""

    is_scale = True
    min_label = max_label = ""

    def __init__(self, *args: Any, kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind


class ResponseForm(forms.Form):
    """A respondent's form, built from the survey's Question rows."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        survey: Survey,
        questions: list[Question],
        language: str,
        can_be_contacted: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = questions
        self.language = language
        layout = []
        for question in questions:
            name = question_field_name(question)
            self.fields[name] = self._field_for(question)
            layout.append(Field(name, template="surveys/_question.html"))
            if question.has_other:
                self.fields[f"{name}_other"] = forms.CharField(
                    label=_("Other (please say what)"),
                    required=False,
                    max_length=SHORT_TEXT_MAX_LENGTH,
                    widget=forms.TextInput(attrs={"class": "form-control"}),
                )
                self.fields[name].other_field = self[f"{name}_other"]
        if survey.anonymity == Anonymity.RESPONDENT_CHOICE:
            self.fields["answer_anonymously"] = forms.BooleanField(
                required=False,
                label=_(
                    "Answer anonymously (your name is not stored with "
                    "your answers, and nobody can contact you about them)"
                ),
            )
        # Only someone we could write to is offered the choice; the box must never
        # suggest a follow-up that cannot happen.
        if can_be_contacted and survey.anonymity != Anonymity.ANONYMOUS:
            self.fields["consent_to_contact"] = forms.BooleanField(
                required=False,
                label=_(
                    "You may email me about this answer. Ticking this lets %(org)s "
                    "contact me to follow up; leave it unticked and nobody will."
                )
                % {"org": survey.organisation.name},
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            *layout,
            HTML(STEP_NAV),
            Div(
                *[n for n in ("answer_anonymously", "consent_to_contact") if n in self.fields],
                HTML('<hr class="my-4">'),
                Submit("submit", _("Send my answers"), css_class="btn-lg w-100"),
                css_class="after-questions",
            ),
            "idempotency_key",
        )

    def _field_for(self, question: Question) -> forms.Field:
        label = question.text_for(self.language)
        # A question behind a show-if rule may be skipped: the service decides whether
        # it was shown, and only then whether it was required.
        required = question.required and not question.show_if
        if question.type in NUMBER_TYPES:
            min_label = translated(question.settings.get("min_label", {}), self.language)
            max_label = translated(question.settings.get("max_label", {}), self.language)
            if question.type == QuestionType.NPS and not min_label:
                min_label, max_label = _("Not at all likely"), _("Extremely likely")
            field = forms.TypedChoiceField(
                label=label,
                required=required,
                coerce=int,
                choices=_scale_choices(question),
                widget=ScaleRadioSelect(kind=question.type),
            )
            field.widget.min_label, field.widget.max_label = min_label, max_label
        elif question.type == QuestionType.SINGLE_CHOICE:
            field = forms.TypedChoiceField(
                label=label,
                required=required,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                choices=[(c.pk, c.label_for(self.language)) for c in question.choices.all()],
            )
        elif question.type == QuestionType.MULTI_CHOICE:
            field = forms.TypedMultipleChoiceField(
                # With an "other" box, ticking nothing but writing there is an answer.
                label=label,
                required=required and not question.has_other,
                coerce=int,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                choices=[(c.pk, c.label_for(self.language)) for c in question.choices.all()],
            )
        elif question.type == QuestionType.SHORT_TEXT:
            field = forms.CharField(
                label=label,
                required=required,
                max_length=SHORT_TEXT_MAX_LENGTH,
                widget=forms.TextInput(attrs={"class": "form-control"}),
                strip=True,
            )
        else:
            field = forms.CharField(
                label=label,
                required=required,
                max_length=TEXT_ANSWER_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
                strip=True,
            )
        field.show_if = self._show_if_json(question)
        field.required_when_shown = question.required
        field.error_messages.update(
            {
                "required": _("Please answer this question."),
                "invalid_choice": _("That is not one of this question's answers."),
                "max_length": _(
                    "Please keep your answer under %(limit_value)s characters "
                    "(it has %(show_value)s)."
                ),
            }
        )
        if question.type == QuestionType.YES_NO:
            field.error_messages["invalid_choice"] = _("Choose yes or no.")
        elif question.bounds:
            field.error_messages["invalid_choice"] = _(
                "Choose a number from %(low)s to %(high)s."
            ) % dict(zip(("low", "high"), question.bounds, strict=True))
        for validator in field.validators:
            if getattr(validator, "code", "") == "max_length":
                validator.message = field.error_messages["max_length"]
        return field

    def _show_if_json(self, question: Question) -> str:
        """The show-if rule in the page's terms (field names), for the page script."""
        rule = question.show_if
        if not rule:
            return ""
        return json.dumps(
            {
                "field": f"q_{rule['question']}",
                "op": rule["op"],
                "value": rule["value"],
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The service's rules are the authority; running them here puts each message
        # next to its question instead of at the top of the page.
        raw = {k: v for k, v in self.raw_answers.items() if k not in self.errors}
        try:
            answers_validate(
                questions=[q for q in self.questions if question_field_name(q) not in self.errors],
                raw=raw,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(name, message)
        return cleaned

    @property
    def raw_answers(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields if name.startswith("q_")}


# --- the staff builder -------------------------------------------------------------------


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES)[code])


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value: Any) -> str | None:
        if hasattr(value, "strftime"):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
            return value.strftime("%Y-%m-%dT%H:%M")
        return value


class SurveyCreateForm(forms.Form):
    template = forms.ChoiceField(label=_("Start from"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices, initial=SurveyKind.SURVEY)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the template's title."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=settings.LANGUAGES,
        initial=["en"],
        widget=forms.CheckboxSelectMultiple,
    )
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), required=False
    )

    def __init__(self, *args: Any, organisation: Organisation, language: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _("A blank survey"))] + [
            (key, translated(spec["name"], language)) for key, spec in LIBRARY.items()
        ]
        self.fields["community"].queryset = Community.objects.for_organisation(organisation)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Create the draft")))


class SurveySettingsForm(forms.Form):
    """A survey's settings, with its title and thank-you text in each of its languages."""

    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple
    )
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), required=False
    )
    anonymity = forms.ChoiceField(label=_("Anonymity"), choices=Anonymity.choices)
    points = forms.IntegerField(label=_("Points for answering"), min_value=0, max_value=100_000)
    anonymous_points = forms.BooleanField(
        label=_("Award points for anonymous answers too"), required=False
    )
    allow_multiple_responses = forms.BooleanField(
        label=_("A member may answer more than once"), required=False
    )
    one_question_per_page = forms.BooleanField(label=_("One question at a time"), required=False)
    opens_at = forms.DateTimeField(label=_("Opens"), required=False, widget=DateTimeInput)
    closes_at = forms.DateTimeField(label=_("Closes"), required=False, widget=DateTimeInput)
    invitation_valid_days = forms.IntegerField(
        label=_("Email links work for (days)"), min_value=1, max_value=365, initial=30
    )
    reminder_limit = forms.IntegerField(
        label=_("Reminders at most"), min_value=0, max_value=5, initial=2
    )
    reminder_interval_days = forms.IntegerField(
        label=_("Days between reminders"), min_value=1, max_value=60, initial=3
    )
    trigger = forms.ChoiceField(
        label=_("Send when the API reports"),
        choices=[("", _("(never)")), *TriggerEvent.choices],
        required=False,
    )

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {
                "languages": survey.languages,
                "community": survey.community,
                "anonymity": survey.anonymity,
                "points": survey.points,
                "anonymous_points": survey.anonymous_points,
                "allow_multiple_responses": survey.allow_multiple_responses,
                "one_question_per_page": survey.one_question_per_page,
                "opens_at": survey.opens_at,
                "closes_at": survey.closes_at,
                "invitation_valid_days": survey.invitation_valid_days,
                "reminder_limit": survey.reminder_limit,
                "reminder_interval_days": survey.reminder_interval_days,
                "trigger": survey.trigger,
                **{f"title_{c}": t for c, t in survey.title.items()},
                **{f"thank_you_{c}": t for c, t in survey.thank_you.items()},
            },
        )
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.fields["community"].queryset = Community.objects.for_organisation(
            survey.organisation_id
        )
        for code, name in settings.LANGUAGES:
            self.fields[f"title_{code}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": name},
                max_length=200,
                required=False,
            )
            self.fields[f"thank_you_{code}"] = forms.CharField(
                label=_("Thank-you text (%(language)s)") % {"language": name},
                max_length=1000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save settings")))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The survey must close after it opens."))
        return cleaned

    def survey_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        codes = [code for code, _name in settings.LANGUAGES]
        return {
            "languages": data["languages"],
            "community": data["community"],
            "anonymity": data["anonymity"],
            "points": data["points"],
            "anonymous_points": data["anonymous_points"],
            "allow_multiple_responses": data["allow_multiple_responses"],
            "one_question_per_page": data["one_question_per_page"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "invitation_valid_days": data["invitation_valid_days"],
            "reminder_limit": data["reminder_limit"],
            "reminder_interval_days": data["reminder_interval_days"],
            "trigger": data["trigger"],
            "title": {c: data[f"title_{c}"] for c in codes},
            "thank_you": {c: data[f"thank_you_{c}"] for c in codes},
        }


class QuestionForm(forms.Form):
    """One question: its wording and choices in each survey language, settings, show-if."""

    type = forms.ChoiceField(label=_("Type"), choices=QuestionType.choices)
    required = forms.BooleanField(label=_("An answer is required"), required=False, initial=True)
    other = forms.BooleanField(label=_("Offer an “other” box"), required=False)
    scale_min = forms.IntegerField(label=_("Scale from"), required=False, initial=1)
    scale_max = forms.IntegerField(label=_("Scale to"), required=False, initial=5)
    show_if_question = forms.TypedChoiceField(
        label=_("Show only when the answer to"), required=False, coerce=int, empty_value=None
    )
    show_if_op = forms.ChoiceField(label=_("Comparison"), required=False, choices=Condition.choices)
    show_if_number = forms.IntegerField(label=_("this number"), required=False)
    show_if_choices = forms.TypedMultipleChoiceField(
        label=_("or one of these answers"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        survey: Survey,
        question: Question | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.survey, self.question = survey, question
        before = [
            q
            for q in survey.questions.prefetch_related("choices")
            if question is None or q.position < question.position
        ]
        eligible = [q for q in before if q.type in NUMBER_TYPES | CHOICE_TYPES]
        self.fields["show_if_question"].choices = [("", _("(always show)"))] + [
            (q.pk, f"{q.position}. {q.text_for()}") for q in eligible
        ]
        self.fields["show_if_choices"].choices = [
            (c.pk, f"{q.position}. {c.label_for()}")
            for q in eligible
            if q.type in CHOICE_TYPES
            for c in q.choices.all()
        ]
        for code in survey.languages:
            name = language_name(code)
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Question (%(language)s)") % {"language": name},
                max_length=500,
                required=False,
            )
            self.fields[f"choices_{code}"] = forms.CharField(
                label=_("Answers, one per line (%(language)s)") % {"language": name},
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
            for end, words in (("min", _("Low end label")), ("max", _("High end label"))):
                self.fields[f"{end}_label_{code}"] = forms.CharField(
                    label=f"{words} ({name})", max_length=100, required=False
                )
        if question is not None:
            self.fields["type"].disabled = True
            self.initial.update(self._initial_from(question))
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save question")))

    @staticmethod
    def _initial_from(question: Question) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "type": question.type,
            "required": question.required,
            "other": question.settings.get("other", False),
            "scale_min": question.settings.get("min", 1),
            "scale_max": question.settings.get("max", 5),
        }
        choices = list(question.choices.all())
        for code in question.survey.languages:
            initial[f"text_{code}"] = question.text.get(code, "")
            initial[f"choices_{code}"] = "\n".join(c.label.get(code, "") for c in choices)
            for end in ("min", "max"):
                initial[f"{end}_label_{code}"] = question.settings.get(f"{end}_label", {}).get(
                    code, ""
                )
        rule = question.show_if
        if rule:
            initial["show_if_question"] = rule["question"]
            initial["show_if_op"] = rule["op"]
            if isinstance(rule["value"], list):
                initial["show_if_choices"] = rule["value"]
            else:
                initial["show_if_number"] = rule["value"]
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        languages = self.survey.languages
        first = languages[0]
        kind = self.question.type if self.question else cleaned.get("type")
        if not cleaned.get(f"text_{first}"):
            self.add_error(f"text_{first}", _("Write the question."))
        lines = {
            code: [line.strip() for line in cleaned.get(f"choices_{code}", "").splitlines()]
            for code in languages
        }
        count = max((len([x for x in v if x]) for v in lines.values()), default=0)
        if kind in CHOICE_TYPES:
            first_lines = [x for x in lines[first] if x]
            if len(first_lines) < 2:
                self.add_error(f"choices_{first}", _("Give at least two answers."))
            elif count > 50:
                self.add_error(f"choices_{first}", _("Keep it to 50 answers or fewer."))
            elif any(len(x) > 200 for v in lines.values() for x in v):
                self.add_error(f"choices_{first}", _("Keep each answer under 200 characters."))
            elif len(set(first_lines)) != len(first_lines):
                self.add_error(f"choices_{first}", _("Each answer must be different."))
        return cleaned

    def question_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        languages = self.survey.languages
        kind = self.question.type if self.question else data["type"]
        settings_: dict[str, Any] = {"other": data.get("other")}
        if kind == QuestionType.RATING:
            settings_.update(min=data.get("scale_min"), max=data.get("scale_max"))
        settings_["min_label"] = {c: data.get(f"min_label_{c}", "") for c in languages}
        settings_["max_label"] = {c: data.get(f"max_label_{c}", "") for c in languages}
        if data.get("show_if_question"):
            settings_["show_if"] = {
                "question": data["show_if_question"],
                "op": data.get("show_if_op") or Condition.EQUALS,
                "value": data.get("show_if_choices") or data.get("show_if_number"),
            }
        per_language = {
            code: [x.strip() for x in data.get(f"choices_{code}", "").splitlines() if x.strip()]
            for code in languages
        }
        choices = [
            {code: per_language[code][i] for code in languages if i < len(per_language[code])}
            for i in range(len(per_language[languages[0]]))
        ]
        return {
            "text": {code: data.get(f"text_{code}", "") for code in languages},
            "required": data.get("required", False),
            "settings": settings_,
            "choices": choices,
        }


class InvitationSendForm(forms.Form):
    """Who gets a personal link: a whole community, or a pasted list."""

    community = forms.ModelChoiceField(
        label=_("Everyone in a community"), queryset=Community.objects.none(), required=False
    )
    recipients = forms.CharField(
        label=_("Or these people, one per line: email, name"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5_000_000,
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.for_organisation(organisation)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send the survey")))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("community") and cleaned.get("recipients", "").strip():
            raise ValidationError(_("Choose a community or paste a list, not both."))
        if not cleaned.get("community") and not cleaned.get("recipients", "").strip():
            raise ValidationError(_("Choose a community or paste a list."))
        return cleaned

    @property
    def recipient_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data.get("recipients", "").splitlines():
            if not line.strip():
                continue
            email, _sep, name = line.partition(",")
            pairs.append((email.strip(), name.strip()))
        return pairs


class KioskRegisterForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Store"), queryset=Location.objects.none())
    idle_reset_seconds = forms.IntegerField(
        label=_("Start over after this many idle seconds"), min_value=5, max_value=600, initial=30
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.for_organisation(organisation)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Register a kiosk")))
