"""The respondent's form, built from a survey's Question rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from surveys.choices import NUMBER_TYPES, Anonymity, QuestionType
from surveys.models import (
    SHORT_TEXT_MAX_LENGTH,
    TEXT_ANSWER_MAX_LENGTH,
    Question,
    Survey,
    translated,
)
from surveys.services.answers import answers_validate, question_field_name

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

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        # The words under the scale's ends ("Not at all likely" … "Extremely likely") are
        # the description of its first and last buttons, so a screen reader says them too
        # (surveys/_question.html gives them these ids).
        base = (attrs or {}).get("id")
        if base and self.min_label and index == 0:
            option["attrs"]["aria-describedby"] = f"{base}_min"
        elif base and self.max_label and index == len(self.choices) - 1:
            option["attrs"]["aria-describedby"] = f"{base}_max"
        return option


def answers_posted(*, questions: Sequence[Question], data: QueryDict) -> dict[str, Any]:
    """The raw answers of a posted respondent form, as ResponseForm.raw_answers has them.

    A submit that is valid needs nothing of the form but these: answers_validate checks
    each answer with the same rules and words as the form's fields. The form itself is
    built only to show a page with errors.
    """
    raw: dict[str, Any] = {}
    for question in questions:
        name = question_field_name(question)
        if question.type == QuestionType.MULTI_CHOICE:
            raw[name] = data.getlist(name)
        else:
            raw[name] = data.get(name)
        if question.has_other:
            raw[f"{name}_other"] = data.get(f"{name}_other", "")
    return raw


def checkbox_posted(data: QueryDict, name: str) -> bool:
    """A ticked box, read the way forms.BooleanField reads it."""
    return bool(forms.CheckboxInput().value_from_datadict(data, {}, name))


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
