from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from surveys.choices import Anonymity, QuestionType
from surveys.models import TEXT_ANSWER_MAX_LENGTH, Question, Survey, translated
from surveys.services import answers_validate, question_field_name


def _scale_label(kind: str, n: int) -> str:
    if kind != QuestionType.STAR:
        return str(n)
    # Screen readers would read "black star" n times; they get the words instead.
    return format_html(
        '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span>',
        "★" * n,
        ngettext("%(n)s star", "%(n)s stars", n) % {"n": n},
    )


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
        for question in questions:
            self.fields[question_field_name(question)] = self._field_for(question)
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
            *[Field(question_field_name(q), template="surveys/_question.html") for q in questions],
            *[name for name in ("answer_anonymously", "consent_to_contact") if name in self.fields],
            "idempotency_key",
            HTML('<hr class="my-4">'),
            Submit("submit", _("Send my answers"), css_class="btn-lg w-100"),
        )

    def _field_for(self, question: Question) -> forms.Field:
        label = question.text_for(self.language)
        required = question.required
        if question.type in (QuestionType.NPS, QuestionType.STAR, QuestionType.RATING):
            low, high = question.bounds
            min_label = translated(question.settings.get("min_label", {}), self.language)
            max_label = translated(question.settings.get("max_label", {}), self.language)
            if question.type == QuestionType.NPS and not min_label:
                min_label, max_label = _("Not at all likely"), _("Extremely likely")
            field = forms.TypedChoiceField(
                label=label,
                required=required,
                coerce=int,
                choices=[(n, _scale_label(question.type, n)) for n in range(low, high + 1)],
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
                label=label,
                required=required,
                coerce=int,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                choices=[(c.pk, c.label_for(self.language)) for c in question.choices.all()],
            )
        else:
            field = forms.CharField(
                label=label,
                required=required,
                max_length=TEXT_ANSWER_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
                strip=True,
            )
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
        if question.bounds:
            field.error_messages["invalid_choice"] = _(
                "Choose a number from %(low)s to %(high)s."
            ) % dict(zip(("low", "high"), question.bounds, strict=True))
        for validator in field.validators:
            if getattr(validator, "code", "") == "max_length":
                validator.message = field.error_messages["max_length"]
        return field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The service's rules are the authority; running them here puts each message
        # next to its question instead of at the top of the page.
        raw = {name: cleaned.get(name) for name in self.fields if name.startswith("q_")}
        raw = {k: v for k, v in raw.items() if k not in self.errors}
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
