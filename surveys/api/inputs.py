"""What the surveys API accepts: surveys with their questions, questions, answers to choose
from, and new orders. The builder's own limits (text lengths, counts, scale ends) are checked
here, so oversized, ill-typed or unknown input is a 400 naming the field, as the schema says.
What fits the schema but not the survey (a text in a language it lacks, a setting its type
does not have, a show-if rule that looks at no earlier question) is a 422: each input's
`refusals()`, run by `checked` after the shape is, then the services' refusals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communities.api.serializers import (
    StrictBooleanField,
    StrictDateTimeField,
    StrictInput,
    StrictIntegerField,
    Unprocessable,
)
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


def checked(data: serializers.Serializer) -> dict[str, Any]:
    """The input's fields once they fit the schema (else 400) and the survey (else 422)."""
    data.is_valid(raise_exception=True)
    if problems := data.refusals():
        raise Unprocessable(problems)
    return dict(data.validated_data)


def _community_refusal(data: serializers.Serializer) -> dict[str, list[str]]:
    """Swaps the community id for the organisation's community; an id of none is refused."""
    wanted = data.validated_data.get("community")
    if wanted is None:
        return {}
    community = (
        Community.objects.for_organisation(data.context["organisation"]).filter(pk=wanted).first()
    )
    if community is None:
        return {"community": [_("Choose one of your communities.")]}
    data.validated_data["community"] = community
    return {}


class ShowIfInput(StrictInput):
    """Show the question only when an earlier question's answer meets this (see the output
    of a question's settings)."""

    question = StrictIntegerField(
        min_value=1, max_value=ID_MAX, help_text="The earlier question's id."
    )
    op = serializers.ChoiceField(choices=Condition.choices)
    values = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=ID_MAX),
        min_length=1,
        max_length=CHOICES_MAX,
        help_text='One number for "lte", "gte" and "eq"; numbers or choice ids for "in".',
    )


def rule_values_problem(rule: Mapping[str, Any]) -> dict[str, list[str]] | None:
    if rule["op"] != Condition.ANY_OF and len(rule["values"]) != 1:
        return {"values": [_("Compare with one number.")]}
    return None


class ShowIfByPositionInput(StrictInput):
    """A show-if rule in a new survey's questions, which have no ids yet: the earlier
    question by its position in the list (from 1), a choice question's answers by theirs."""

    question_position = StrictIntegerField(min_value=1, max_value=QUESTIONS_MAX)
    op = serializers.ChoiceField(choices=Condition.choices)
    values = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=ID_MAX),
        min_length=1,
        max_length=CHOICES_MAX,
        help_text='One number for "lte", "gte" and "eq"; numbers, or the positions (from 1) '
        'of a choice question\'s answers, for "in".',
    )


class _SettingsInput(StrictInput):
    """A question's settings; each only for the question types it names."""

    min = StrictIntegerField(
        required=False,
        min_value=RATING_LIMITS[0],
        max_value=RATING_LIMITS[1],
        help_text="A rating scale's low end.",
    )
    max = StrictIntegerField(
        required=False,
        min_value=RATING_LIMITS[0],
        max_value=RATING_LIMITS[1],
        help_text="A rating scale's high end.",
    )
    min_label = ScaleLabels(required=False, help_text="NPS and rating scales only.")
    max_label = ScaleLabels(required=False, help_text="NPS and rating scales only.")
    other = StrictBooleanField(
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


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": LANGUAGE_CODES},
        "minItems": 1,
        "maxItems": len(LANGUAGE_CODES),
        "uniqueItems": True,
        "description": "The languages the survey is written in, each once; the first is the "
        "one every text must have.",
    }
)
class LanguagesField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.ChoiceField(choices=LANGUAGE_CODES),
            min_length=1,
            max_length=len(LANGUAGE_CODES),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[str]:
        languages = super().to_internal_value(data)
        if len(set(languages)) != len(languages):
            raise serializers.ValidationError(_("Name each language once."))
        return languages


class _SurveySettingsInput(StrictInput):
    thank_you = ThankYouTexts(required=False)
    community = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=ID_MAX,
        help_text="A community's id.",
    )
    anonymity = serializers.ChoiceField(choices=Anonymity.choices, required=False)
    points = StrictIntegerField(required=False, min_value=0, max_value=100_000)
    anonymous_points = StrictBooleanField(required=False)
    allow_multiple_responses = StrictBooleanField(required=False)
    one_question_per_page = StrictBooleanField(required=False)
    opens_at = StrictDateTimeField(required=False, allow_null=True)
    closes_at = StrictDateTimeField(required=False, allow_null=True)
    invitation_valid_days = StrictIntegerField(required=False, min_value=1, max_value=365)
    reminder_limit = StrictIntegerField(required=False, min_value=0, max_value=5)
    reminder_interval_days = StrictIntegerField(required=False, min_value=1, max_value=60)
    trigger = serializers.ChoiceField(
        choices=TriggerEvent.choices,
        required=False,
        allow_blank=True,
        help_text='The event reported through /events/ that sends this survey ("" for none).',
    )

    @staticmethod
    def times_refusal(opens: Any, closes: Any) -> dict[str, list[str]]:
        if opens and closes and closes <= opens:
            return {"closes_at": [_("The survey must close after it opens.")]}
        return {}


class InlineQuestionInput(StrictInput):
    """A new survey's question, in order."""

    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = QuestionTexts()
    required = StrictBooleanField(default=True)
    settings = InlineQuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Choice questions: at least two answers, in order.",
    )


class SurveyCreateInput(_SurveySettingsInput):
    """A new draft: its title (or a template), languages, settings and questions."""

    title = TitleTexts(required=False, help_text="Required unless a template gives one.")
    kind = serializers.ChoiceField(choices=SurveyKind.choices, default=SurveyKind.SURVEY)
    languages = LanguagesField()
    template = serializers.ChoiceField(
        choices=list(LIBRARY),
        required=False,
        help_text="Start from a library template's questions (instead of `questions`).",
    )
    questions = serializers.ListField(
        child=InlineQuestionInput(), required=False, max_length=QUESTIONS_MAX
    )

    def validate(self, attrs: dict) -> dict:
        # The schema says so too (SurveyCreateInputSchema).
        if "title" not in attrs and "template" not in attrs:
            raise serializers.ValidationError(
                {"title": [_("Give the survey a title, or start from a template.")]}
            )
        return attrs

    def refusals(self) -> dict[str, Any]:
        attrs = self.validated_data
        languages = attrs["languages"]
        errors: dict[str, Any] = {
            **self.times_refusal(attrs.get("opens_at"), attrs.get("closes_at")),
            **_community_refusal(self),
        }
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
        return errors


class SurveyCreateInputSchema(OpenApiSerializerExtension):
    """A new survey names its title or a template (which gives one), and nothing else."""

    target_class = SurveyCreateInput
    priority = 1  # before communities' StrictInputSchema, whose additionalProperties it keeps

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        schema["anyOf"] = [{"required": ["title"]}, {"required": ["template"]}]
        return schema


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
    languages = LanguagesField(required=False)

    def refusals(self) -> dict[str, Any]:
        attrs = self.validated_data
        survey = self.context["survey"]
        languages = attrs.get("languages", survey.languages)
        return {
            **self.times_refusal(
                attrs.get("opens_at", survey.opens_at), attrs.get("closes_at", survey.closes_at)
            ),
            **_community_refusal(self),
            **{
                name: outside
                for name in ("title", "thank_you")
                if (outside := _outside(attrs.get(name), languages))
            },
        }


class QuestionCreateInput(StrictInput):
    """A question added at the end of a draft."""

    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = QuestionTexts()
    required = StrictBooleanField(default=True)
    settings = QuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Choice questions: at least two answers, in order.",
    )

    def refusals(self) -> dict[str, Any]:
        attrs = self.validated_data
        survey = self.context["survey"]
        problems = question_problems(
            kind=attrs["type"], fields=attrs, languages=survey.languages, creating=True
        )
        return _with_rule_problem(problems, attrs.get("settings"))


class QuestionUpdateInput(StrictInput):
    """Fields left out keep their value; `settings` members left out keep theirs."""

    type = serializers.ChoiceField(
        choices=QuestionType.choices, required=False, help_text="A question keeps its type."
    )
    text = QuestionTexts(required=False)
    required = StrictBooleanField(required=False)
    settings = QuestionSettingsInput(required=False)
    choices = serializers.ListField(
        child=ChoiceLabels(),
        required=False,
        max_length=CHOICES_MAX,
        help_text="Replaces the answers to choose from, in order (each with all its texts).",
    )

    def refusals(self) -> dict[str, Any]:
        """The type only; the view checks the question as it would be saved."""
        kind = self.validated_data.get("type")
        if kind is not None and kind != self.context["question"].type:
            return {"type": [_("A question keeps its type; delete it and add another.")]}
        return _with_rule_problem({}, self.validated_data.get("settings"))


def _with_rule_problem(problems: dict[str, Any], settings: Mapping | None) -> dict[str, Any]:
    rule = (settings or {}).get("show_if")
    if rule and (wrong := rule_values_problem(rule)):
        problems["settings"] = {**problems.get("settings", {}), "show_if": wrong}
    return problems


class ChoiceInput(StrictInput):
    """An answer to choose, added at the end of a choice question's."""

    label = ChoiceLabels(help_text="Its text in the survey's first language at least.")

    def refusals(self) -> dict[str, Any]:
        if outside := _outside(self.validated_data.get("label"), self.context["languages"]):
            return {"label": outside}
        return {}


class ChoiceUpdateInput(ChoiceInput):
    """An answer to choose, reworded; a change with no label changes nothing."""

    label = ChoiceLabels(required=False, help_text="Languages left out keep their text.")


def order_input(name: str, maximum: int, what: str) -> type[serializers.Serializer]:
    fields = {
        "order": serializers.ListField(
            child=StrictIntegerField(min_value=1, max_value=ID_MAX),
            max_length=maximum,
            help_text=f"Every {what} id once, in the new order.",
        )
    }
    return type(
        name,
        (StrictInput,),
        {
            "__doc__": f"A new order of the {what}s.",
            "__module__": __name__,
            # The ids are checked by the service: one of none, or a missing one, is a 422.
            "refusals": lambda self: {},
            **fields,
        },
    )


QuestionOrderInput = order_input("QuestionOrderInput", QUESTIONS_MAX, "question")
ChoiceOrderInput = order_input("ChoiceOrderInput", CHOICES_MAX, "answer")
