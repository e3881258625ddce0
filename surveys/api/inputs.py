"""What the surveys API accepts: surveys with their questions, questions, answers to choose
from, and new orders. The builder's own limits (text lengths, counts, scale ends) are checked
here, so oversized or ill-typed input is a 400 naming the field; the services check the rest
(show-if rules, a scale narrower than its answers) and their refusals are 400s too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from communities.models import Community
from surveys.api.texts import (
    LANGUAGE_CODES,
    ChoiceLabels,
    QuestionTexts,
    ScaleLabels,
    ThankYouTexts,
    TitleTexts,
)
from surveys.choices import (
    CHOICE_TYPES,
    RATING_LIMITS,
    Anonymity,
    Condition,
    QuestionType,
    SurveyKind,
    TriggerEvent,
)
from surveys.library import LIBRARY
from surveys.services.builder import CHOICES_MAX, QUESTIONS_MAX

# Ids are bigints: anything larger is no id, and must not reach the database as a number.
ID_MAX = 2**63 - 1
SCALED_WITH_LABELS = frozenset({QuestionType.NPS, QuestionType.RATING})


class CommunityField(serializers.PrimaryKeyRelatedField):
    """A community of the caller's organisation, by id; another's is "does not exist"."""

    def __init__(self, **kwargs: Any):
        super().__init__(queryset=Community.objects.all(), **kwargs)

    def get_queryset(self):
        return Community.objects.for_organisation(self.context["organisation"])


class ShowIfInput(serializers.Serializer):
    """Show the question only when an earlier question's answer meets this (see the output
    of a question's settings)."""

    question = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="The earlier question's id."
    )
    op = serializers.ChoiceField(choices=Condition.choices)
    values = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=ID_MAX),
        min_length=1,
        max_length=CHOICES_MAX,
        help_text='One number for "lte", "gte" and "eq"; numbers or choice ids for "in".',
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["op"] != Condition.ANY_OF and len(attrs["values"]) != 1:
            raise serializers.ValidationError({"values": [_("Compare with one number.")]})
        return attrs


class ShowIfByPositionInput(serializers.Serializer):
    """A show-if rule in a new survey's questions, which have no ids yet: the earlier
    question by its position in the list (from 1), a choice question's answers by theirs."""

    question_position = serializers.IntegerField(min_value=1, max_value=QUESTIONS_MAX)
    op = serializers.ChoiceField(choices=Condition.choices)
    values = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=ID_MAX),
        min_length=1,
        max_length=CHOICES_MAX,
        help_text='One number for "lte", "gte" and "eq"; numbers, or the positions (from 1) '
        'of a choice question\'s answers, for "in".',
    )


class _SettingsInput(serializers.Serializer):
    min = serializers.IntegerField(
        required=False,
        min_value=RATING_LIMITS[0],
        max_value=RATING_LIMITS[1],
        help_text="A rating scale's low end.",
    )
    max = serializers.IntegerField(
        required=False,
        min_value=RATING_LIMITS[0],
        max_value=RATING_LIMITS[1],
        help_text="A rating scale's high end.",
    )
    min_label = ScaleLabels(required=False, help_text="NPS and rating scales only.")
    max_label = ScaleLabels(required=False, help_text="NPS and rating scales only.")
    other = serializers.BooleanField(
        required=False, help_text='Choice questions only: offer an "other" text box.'
    )


class QuestionSettingsInput(_SettingsInput):
    show_if = ShowIfInput(required=False, allow_null=True, help_text="null removes the rule.")


class InlineQuestionSettingsInput(_SettingsInput):
    show_if = ShowIfByPositionInput(required=False)


def _outside(texts: Mapping[str, str] | None, languages: list[str]) -> dict[str, list[str]]:
    message = _("Add this language to the survey's languages first.")
    return {
        code: [message] for code, text in (texts or {}).items() if text and code not in languages
    }


def question_problems(
    *, kind: str, fields: Mapping[str, Any], languages: list[str], creating: bool
) -> dict[str, Any]:
    """What is wrong with a question's fields for its type and the survey's languages, by
    field (empty when nothing is). `fields` holds the question as it would be saved."""
    errors: dict[str, Any] = {}
    given = fields.get("settings") or {}
    wrong: dict[str, list[str]] = {}
    if kind != QuestionType.RATING:
        wrong |= {
            end: [_("Only a rating scale sets its ends.")]
            for end in ("min", "max")
            if given.get(end) is not None
        }
    if kind not in SCALED_WITH_LABELS:
        wrong |= {
            end: [_("Only NPS and rating scales have end labels.")]
            for end in ("min_label", "max_label")
            if given.get(end)
        }
    else:
        for end in ("min_label", "max_label"):
            if outside := _outside(given.get(end), languages):
                wrong[end] = outside
    if kind not in CHOICE_TYPES and given.get("other"):
        wrong["other"] = [_("Only a choice question offers an “other” box.")]
    if wrong:
        errors["settings"] = wrong
    first = languages[0]
    if not (fields.get("text") or {}).get(first):
        errors["text"] = {first: [_("Write the question in the survey's first language.")]}
    elif outside := _outside(fields.get("text"), languages):
        errors["text"] = outside
    choices = fields.get("choices")
    if kind not in CHOICE_TYPES:
        if choices:
            errors["choices"] = [_("Only a choice question has answers to choose from.")]
        return errors
    if choices is None and not creating:
        return errors
    labels = [(label.get(first) or "").strip() for label in choices or []]
    if len(labels) < 2:
        errors["choices"] = [_("Give at least two answers.")]
    elif not all(labels):
        errors["choices"] = {
            i: {first: [_("Write the answer in the survey's first language.")]}
            for i, label in enumerate(labels)
            if not label
        }
    elif len(set(labels)) != len(labels):
        errors["choices"] = [_("Each answer must be different.")]
    elif outside := {i: o for i, label in enumerate(choices) if (o := _outside(label, languages))}:
        errors["choices"] = outside
    return errors


def _languages_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CODES),
        min_length=1,
        max_length=len(LANGUAGE_CODES),
        help_text="The languages the survey is written in; the first is the one every text "
        "must have.",
        **kwargs,
    )


def _languages_check(languages: list[str]) -> list[str]:
    if len(set(languages)) != len(languages):
        raise serializers.ValidationError(_("Name each language once."))
    return languages


class _SurveySettingsInput(serializers.Serializer):
    thank_you = ThankYouTexts(required=False)
    community = CommunityField(required=False, allow_null=True)
    anonymity = serializers.ChoiceField(choices=Anonymity.choices, required=False)
    points = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    anonymous_points = serializers.BooleanField(required=False)
    allow_multiple_responses = serializers.BooleanField(required=False)
    one_question_per_page = serializers.BooleanField(required=False)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField(required=False, allow_null=True)
    invitation_valid_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    reminder_limit = serializers.IntegerField(required=False, min_value=0, max_value=5)
    reminder_interval_days = serializers.IntegerField(required=False, min_value=1, max_value=60)
    trigger = serializers.ChoiceField(
        choices=TriggerEvent.choices,
        required=False,
        allow_blank=True,
        help_text='The event reported through /events/ that sends this survey ("" for none).',
    )

    def validate_languages(self, languages: list[str]) -> list[str]:
        return _languages_check(languages)

    @staticmethod
    def times_check(opens: Any, closes: Any) -> None:
        if opens and closes and closes <= opens:
            raise serializers.ValidationError(
                {"closes_at": [_("The survey must close after it opens.")]}
            )


class InlineQuestionInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = QuestionTexts()
    required = serializers.BooleanField(default=True)
    settings = InlineQuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Choice questions: at least two answers, in order.",
    )


class SurveyCreateInput(_SurveySettingsInput):
    title = TitleTexts(required=False, help_text="Required unless a template gives one.")
    kind = serializers.ChoiceField(choices=SurveyKind.choices, default=SurveyKind.SURVEY)
    languages = _languages_field()
    template = serializers.ChoiceField(
        choices=list(LIBRARY),
        required=False,
        help_text="Start from a library template's questions (instead of `questions`).",
    )
    questions = serializers.ListField(
        child=InlineQuestionInput(), required=False, max_length=QUESTIONS_MAX
    )

    def validate(self, attrs: dict) -> dict:
        languages = attrs["languages"]
        self.times_check(attrs.get("opens_at"), attrs.get("closes_at"))
        errors: dict[str, Any] = {}
        if attrs.get("template") and attrs.get("questions"):
            errors["questions"] = [_("Start from a template or give questions, not both.")]
        for name in ("title", "thank_you"):
            if outside := _outside(attrs.get(name), languages):
                errors[name] = outside
        questions = attrs.get("questions") or []
        per_question = {}
        for index, question in enumerate(questions):
            problems = question_problems(
                kind=question["type"], fields=question, languages=languages, creating=True
            )
            rule = (question.get("settings") or {}).get("show_if")
            if rule and (rule_problem := _inline_rule_problem(rule, index, questions)):
                problems["settings"] = {**problems.get("settings", {}), "show_if": rule_problem}
            if problems:
                per_question[index] = problems
        if per_question:
            errors["questions"] = per_question
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _inline_rule_problem(rule: dict, index: int, questions: list[dict]) -> dict | None:
    position = rule["question_position"]
    if position > index:
        return {"question_position": [_("A rule can only look at an earlier question.")]}
    target = questions[position - 1]
    if target["type"] in CHOICE_TYPES:
        count = len(target.get("choices") or [])
        if rule["op"] != Condition.ANY_OF or not all(1 <= v <= count for v in rule["values"]):
            return {"values": [_("Name answers of the earlier question by their positions.")]}
    elif rule["op"] != Condition.ANY_OF and len(rule["values"]) != 1:
        return {"values": [_("Compare with one number.")]}
    return None


def inline_question_spec(question: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> dict:
    """A new survey's question as the builder takes a template's (question_add_from_spec)."""
    given = dict(question.get("settings") or {})
    spec = {
        "type": question["type"],
        "text": question["text"],
        "required": question["required"],
        "choices": question.get("choices") or [],
    }
    rule = given.pop("show_if", None)
    if rule:
        target = questions[rule["question_position"] - 1]
        values = rule["values"]
        if target["type"] in CHOICE_TYPES:
            values = [v - 1 for v in values]
        spec["show_if"] = {
            "question": rule["question_position"] - 1,
            "op": rule["op"],
            "value": values if rule["op"] == Condition.ANY_OF else values[0],
        }
    spec["settings"] = given
    return spec


class SurveyUpdateInput(_SurveySettingsInput):
    """Fields left out keep their value; a text's languages left out keep theirs."""

    title = TitleTexts(required=False)
    kind = serializers.ChoiceField(
        choices=SurveyKind.choices, required=False, help_text="Drafts only."
    )
    languages = _languages_field(required=False)

    def validate(self, attrs: dict) -> dict:
        survey = self.context["survey"]
        self.times_check(
            attrs.get("opens_at", survey.opens_at), attrs.get("closes_at", survey.closes_at)
        )
        languages = attrs.get("languages", survey.languages)
        errors = {
            name: outside
            for name in ("title", "thank_you")
            if (outside := _outside(attrs.get(name), languages))
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class QuestionCreateInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = QuestionTexts()
    required = serializers.BooleanField(default=True)
    settings = QuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Choice questions: at least two answers, in order.",
    )

    def validate(self, attrs: dict) -> dict:
        survey = self.context["survey"]
        problems = question_problems(
            kind=attrs["type"], fields=attrs, languages=survey.languages, creating=True
        )
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class QuestionUpdateInput(serializers.Serializer):
    """Fields left out keep their value; `settings` members left out keep theirs."""

    type = serializers.ChoiceField(
        choices=QuestionType.choices, required=False, help_text="A question keeps its type."
    )
    text = QuestionTexts(required=False)
    required = serializers.BooleanField(required=False)
    settings = QuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Replaces the answers to choose from, in order (each with all its texts).",
    )

    def validate_type(self, kind: str) -> str:
        if kind != self.context["question"].type:
            raise serializers.ValidationError(
                _("A question keeps its type; delete it and add another.")
            )
        return kind


class ChoiceInput(serializers.Serializer):
    label = ChoiceLabels(help_text="On a change, languages left out keep their text.")

    def validate_label(self, label: dict) -> dict:
        if outside := _outside(label, self.context["languages"]):
            raise serializers.ValidationError(outside)
        return label


def order_input(name: str, maximum: int, what: str) -> type[serializers.Serializer]:
    fields = {
        "order": serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
            max_length=maximum,
            help_text=f"Every {what} id once, in the new order.",
        )
    }
    return type(name, (serializers.Serializer,), {"__module__": __name__, **fields})


QuestionOrderInput = order_input("QuestionOrderInput", QUESTIONS_MAX, "question")
ChoiceOrderInput = order_input("ChoiceOrderInput", CHOICES_MAX, "answer")
