"""Staff builder forms: a new survey, a survey's settings, one question."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Organisation
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
from surveys.models import Question, Survey, translated


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
