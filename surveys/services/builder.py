"""Staff building surveys: drafts from the library, settings, questions and their order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, Organisation
from config.queue import enqueue_on_commit
from surveys.choices import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    RATING_LIMITS,
    SCALE_TYPES,
    Condition,
    QuestionType,
    SurveyKind,
    SurveyStatus,
)
from surveys.library import LIBRARY
from surveys.models import Answer, Choice, Question, Survey
from surveys.signals import survey_revision_bump

# Room to park positions while renumbering, under the (survey, position) unique constraint.
_POSITION_PARK = 10_000
# The builder forms' limits, for writes that do not come through them (the API).
TITLE_MAX_LENGTH = 200
THANK_YOU_MAX_LENGTH = 1000
QUESTION_TEXT_MAX_LENGTH = 500
SCALE_LABEL_MAX_LENGTH = 100
CHOICE_LABEL_MAX_LENGTH = 200
CHOICES_MAX = 50
# The API's limit; the staff builder adds questions one page at a time.
QUESTIONS_MAX = 100


def _texts(texts: Mapping[str, str] | None, languages: list[str]) -> dict[str, str]:
    """Keep the survey's languages' non-empty texts, stripped."""
    return {code: str(texts[code]).strip() for code in languages if (texts or {}).get(code, "")}


def _languages_clean(languages: list[str] | None) -> list[str]:
    known = [code for code, _name in settings.LANGUAGES]
    chosen = [code for code in known if code in (languages or [])]
    if not chosen:
        raise ValidationError({"languages": [_("Choose at least one language.")]})
    return chosen


@transaction.atomic
def survey_create(
    *,
    organisation: Organisation,
    title: Mapping[str, str],
    languages: list[str],
    community: Community | None = None,
    kind: str = SurveyKind.SURVEY,
    template: str | None = None,
) -> Survey:
    """Create a draft survey, empty or from a library template's questions and texts."""
    languages = _languages_clean(languages)
    if community is not None and community.organisation_id != organisation.pk:
        raise ValidationError({"community": [_("Choose one of your communities.")]})
    blueprint = LIBRARY.get(template) if template else None
    if template and blueprint is None:
        raise ValidationError({"template": [_("There is no such template.")]})
    survey = Survey(
        organisation=organisation,
        community=community,
        kind=kind,
        status=SurveyStatus.DRAFT,
        languages=languages,
        title=_texts(title, languages) or _texts((blueprint or {}).get("title"), languages),
        thank_you=_texts((blueprint or {}).get("thank_you"), languages),
    )
    survey.full_clean()
    if not survey.title:
        raise ValidationError({"title": [_("Give the survey a title.")]})
    survey.save()
    created: list[Question] = []
    for spec in (blueprint or {}).get("questions", []):
        created.append(question_add_from_spec(survey=survey, spec=spec, earlier=created))
    return survey


def question_add_from_spec(
    *, survey: Survey, spec: Mapping[str, Any], earlier: list[Question]
) -> Question:
    """Add a question written as a template writes it (surveys.library): its show-if rule
    names an earlier question by its index in `earlier`, and a choice question's answers by
    their indexes; they become ids here."""
    settings_ = {key: value for key, value in spec.get("settings", {}).items() if key != "show_if"}
    rule = spec.get("show_if")
    if rule:
        index = rule.get("question")
        if not isinstance(index, int) or not 0 <= index < len(earlier):
            raise ValidationError({"show_if": [_("A rule can only look at an earlier question.")]})
        target = earlier[index]
        rule = dict(rule, question=target.pk)
        if target.type in CHOICE_TYPES:
            ids = list(target.choices.order_by("position").values_list("pk", flat=True))
            indexes = rule.get("value") if isinstance(rule.get("value"), list) else [rule["value"]]
            if not all(isinstance(i, int) and 0 <= i < len(ids) for i in indexes):
                raise ValidationError(
                    {"show_if": [_("Choose answers of the earlier question to compare with.")]}
                )
            rule["value"] = [ids[i] for i in indexes]
        settings_["show_if"] = rule
    return question_add(
        survey=survey,
        type=spec["type"],
        text=spec["text"],
        required=spec.get("required", True),
        settings=settings_,
        choices=spec.get("choices", []),
    )


@transaction.atomic
def survey_update(*, survey: Survey, **fields: Any) -> Survey:
    """Change a survey's settings; texts are kept only in the survey's languages."""
    if "languages" in fields:
        fields["languages"] = _languages_clean(fields["languages"])
    languages = fields.get("languages", survey.languages)
    for name in ("title", "thank_you"):
        if name in fields:
            fields[name] = _texts(fields[name], languages)
    community = fields.get("community")
    if community is not None and community.organisation_id != survey.organisation_id:
        raise ValidationError({"community": [_("Choose one of your communities.")]})
    for name, value in fields.items():
        setattr(survey, name, value)
    if not survey.title:
        raise ValidationError({"title": [_("Give the survey a title.")]})
    survey.full_clean()
    survey.save()
    return survey


@transaction.atomic
def survey_duplicate(*, survey: Survey) -> Survey:
    """A draft copy with every question, choice and show-if rule, and no answers."""
    questions = list(survey.questions.prefetch_related("choices"))
    copy = Survey.objects.get(pk=survey.pk)
    copy.pk = copy.id = None
    copy.public_id = Survey._meta.get_field("public_id").default()
    copy.status = SurveyStatus.DRAFT
    copy.opens_at = copy.closes_at = None
    copy.title = {
        code: _("%(title)s (copy)") % {"title": text} for code, text in survey.title.items()
    }
    copy.save()
    question_ids: dict[int, int] = {}
    choice_ids: dict[int, int] = {}
    for question in questions:
        new = Question.objects.create(
            organisation_id=copy.organisation_id,
            survey=copy,
            position=question.position,
            type=question.type,
            text=question.text,
            required=question.required,
            settings={k: v for k, v in question.settings.items() if k != "show_if"},
            hidden=question.hidden,
        )
        question_ids[question.pk] = new.pk
        for choice in question.choices.all():
            choice_ids[choice.pk] = Choice.objects.create(
                organisation_id=copy.organisation_id,
                question=new,
                position=choice.position,
                label=choice.label,
            ).pk
        if question.show_if:
            rule = dict(question.show_if, question=question_ids[question.show_if["question"]])
            if isinstance(rule["value"], list):
                rule["value"] = [choice_ids.get(v, v) for v in rule["value"]]
            new.settings = {**new.settings, "show_if": rule}
            new.save(update_fields=["settings"])
    return copy


def survey_publish_problems(*, survey: Survey) -> list[str]:
    """Why a survey cannot go live yet, in words for its author; empty when it can."""
    questions = [q for q in survey.questions.prefetch_related("choices") if not q.hidden]
    problems = []
    if not questions:
        problems.append(_("Add at least one question."))
    if survey.kind == SurveyKind.POLL and (
        len(questions) != 1
        or questions[0].type not in (CHOICE_TYPES | {QuestionType.YES_NO} | SCALE_TYPES)
    ):
        problems.append(_("A quick poll has exactly one question that is answered by a tap."))
    for question in questions:
        if question.type in CHOICE_TYPES and question.choices.count() < 2:
            problems.append(
                _("“%(question)s” needs at least two answers to choose from.")
                % {"question": question.text_for()}
            )
    return problems


@transaction.atomic
def survey_publish(*, survey: Survey) -> Survey:
    """Put a draft or closed survey live (from its open time, if it has one)."""
    problems = survey_publish_problems(survey=survey)
    if problems:
        raise ValidationError(problems)
    if survey.closes_at and survey.closes_at <= timezone.now():
        raise ValidationError({"closes_at": [_("The close time has passed; move it first.")]})
    survey.status = SurveyStatus.LIVE
    survey.save(update_fields=["status", "updated_at"])
    return survey


@transaction.atomic
def survey_close(*, survey: Survey) -> Survey:
    """Close the survey; anonymous answers still pooled are released after commit, however
    few (no more will come to hide them among)."""
    from surveys.tasks import anonymous_pool_release_task

    survey.status = SurveyStatus.CLOSED
    survey.save(update_fields=["status", "updated_at"])
    if survey.pooled_answers.exists():
        enqueue_on_commit(anonymous_pool_release_task, survey_id=survey.pk)
    return survey


def _question_settings_clean(
    *, survey: Survey, type: str, settings: Mapping[str, Any], before: list[Question]
) -> dict[str, Any]:
    languages = survey.languages
    clean: dict[str, Any] = {}
    if type == QuestionType.RATING:
        try:
            low, high = int(settings.get("min", 1)), int(settings.get("max", 5))
        except (TypeError, ValueError):
            raise ValidationError({"settings": [_("Scale ends must be whole numbers.")]}) from None
        if not RATING_LIMITS[0] <= low < high <= RATING_LIMITS[1]:
            raise ValidationError(
                {
                    "settings": [
                        _("A scale runs from %(min)s to %(max)s, low end first.")
                        % {"min": RATING_LIMITS[0], "max": RATING_LIMITS[1]}
                    ]
                }
            )
        clean.update(min=low, max=high)
    if type in (QuestionType.NPS, QuestionType.RATING):
        for end in ("min_label", "max_label"):
            if settings.get(end):
                clean[end] = _texts(settings[end], languages)
    if type in CHOICE_TYPES and settings.get("other"):
        clean["other"] = True
    if settings.get("show_if"):
        clean["show_if"] = show_if_clean(rule=settings["show_if"], before=before)
    return clean


def show_if_clean(*, rule: Mapping[str, Any], before: list[Question]) -> dict[str, Any]:
    """Check a show-if rule against the questions before it; returns it normalised."""
    try:
        target_id = int(rule.get("question"))
    except (TypeError, ValueError):
        target_id = None
    target = next((q for q in before if q.pk == target_id), None)
    if target is None:
        raise ValidationError({"show_if": [_("A rule can only look at an earlier question.")]})
    op, value = rule.get("op"), rule.get("value")
    if target.type in NUMBER_TYPES:
        low, high = target.bounds
        values = value if isinstance(value, list | tuple) else [value]
        try:
            numbers = [int(v) for v in values]
        except (TypeError, ValueError):
            numbers = []
        if op not in Condition.values or not numbers or not all(low <= n <= high for n in numbers):
            raise ValidationError(
                {
                    "show_if": [
                        _("Compare with a number from %(low)s to %(high)s.")
                        % {"low": low, "high": high}
                    ]
                }
            )
        return {
            "question": target.pk,
            "op": op,
            "value": numbers if op == Condition.ANY_OF else numbers[0],
        }
    if target.type in CHOICE_TYPES:
        valid = set(target.choices.values_list("pk", flat=True))
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            ids = []
        if not ids or not set(ids) <= valid:
            raise ValidationError(
                {"show_if": [_("Choose answers of the earlier question to compare with.")]}
            )
        return {"question": target.pk, "op": Condition.ANY_OF, "value": sorted(ids)}
    raise ValidationError({"show_if": [_("A rule can look at a score, yes/no or choice.")]})


def _choices_set(*, question: Question, choices: list[Mapping[str, str]]) -> None:
    languages = question.survey.languages
    labels = [_texts(label, languages) for label in choices]
    labels = [label for label in labels if label]
    existing = list(question.choices.order_by("position"))
    if len(labels) < len(existing):
        dropped = existing[len(labels) :]
        if Answer.choices.through.objects.filter(choice__in=dropped).exists():
            raise ValidationError(
                {"choices": [_("An answer that people have chosen cannot be removed.")]}
            )
        Choice.objects.filter(pk__in=[c.pk for c in dropped]).delete()
    for position, label in enumerate(labels, start=1):
        if position <= len(existing):
            choice = existing[position - 1]
            if choice.label != label or choice.position != position:
                choice.label, choice.position = label, position
                choice.save(update_fields=["label", "position"])
        else:
            Choice.objects.create(
                organisation_id=question.organisation_id,
                question=question,
                position=position,
                label=label,
            )


@transaction.atomic
def question_add(
    *,
    survey: Survey,
    type: str,
    text: Mapping[str, str],
    required: bool = True,
    settings: Mapping[str, Any] | None = None,
    choices: list[Mapping[str, str]] | None = None,
) -> Question:
    """Add a question at the end of the survey (with its choices, for choice types)."""
    if type not in QuestionType.values:
        raise ValidationError({"type": [_("Choose a question type.")]})
    before = list(survey.questions.prefetch_related("choices"))
    question = Question(
        organisation_id=survey.organisation_id,
        survey=survey,
        position=max((q.position for q in before), default=0) + 1,
        type=type,
        text=_texts(text, survey.languages),
        required=required,
        settings=_question_settings_clean(
            survey=survey, type=type, settings=settings or {}, before=before
        ),
    )
    if not question.text:
        raise ValidationError({"text": [_("Write the question.")]})
    question.save()
    if type in CHOICE_TYPES:
        _choices_set(question=question, choices=list(choices or []))
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    text: Mapping[str, str],
    required: bool,
    settings: Mapping[str, Any] | None = None,
    choices: list[Mapping[str, str]] | None = None,
) -> Question:
    """Change a question's wording, settings and choices; an answered one keeps its type."""
    survey = question.survey
    before = list(
        survey.questions.filter(position__lt=question.position).prefetch_related("choices")
    )
    question.text = _texts(text, survey.languages)
    if not question.text:
        raise ValidationError({"text": [_("Write the question.")]})
    question.required = required
    question.settings = _question_settings_clean(
        survey=survey, type=question.type, settings=settings or {}, before=before
    )
    if (
        question.type == QuestionType.RATING
        and question.answers.exclude(number__range=question.bounds).exists()
    ):
        raise ValidationError(
            {"settings": [_("Some answers lie outside that scale; widen it instead.")]}
        )
    question.save()
    if question.type in CHOICE_TYPES and choices is not None:
        _choices_set(question=question, choices=choices)
    return question


@transaction.atomic
def question_delete(*, question: Question) -> bool:
    """Delete an unanswered question; hide an answered one. True when it was deleted.

    A question other questions' show-if rules look at cannot go: they would lose their
    condition silently.
    """
    dependants = [
        q.text_for()
        for q in question.survey.questions.exclude(pk=question.pk)
        if (q.show_if or {}).get("question") == question.pk
    ]
    if dependants:
        raise ValidationError(
            _("“%(question)s” is shown depending on this one; change its rule first.")
            % {"question": dependants[0]},
            code="question_has_dependants",
        )
    if question.answers.exists():
        question.hidden = True
        question.save(update_fields=["hidden", "updated_at"])
        return False
    survey = question.survey
    question.delete()
    questions_reorder(survey=survey, order=list(survey.questions.values_list("pk", flat=True)))
    return True


@transaction.atomic
def question_restore(*, question: Question) -> Question:
    question.hidden = False
    question.save(update_fields=["hidden", "updated_at"])
    return question


@transaction.atomic
def questions_reorder(*, survey: Survey, order: list[int]) -> list[Question]:
    """Put the survey's questions in `order` (every id once); show-if rules must look back."""
    questions = {q.pk: q for q in survey.questions.select_for_update()}
    if sorted(order) != sorted(questions) or len(set(order)) != len(order):
        raise ValidationError(_("The new order must list every question of the survey once."))
    seen: set[int] = set()
    for pk in order:
        rule = questions[pk].show_if
        if rule and rule.get("question") not in seen:
            raise ValidationError(
                _("“%(question)s” depends on an answer that would come after it.")
                % {"question": questions[pk].text_for()}
            )
        seen.add(pk)
    survey.questions.update(position=F("position") + _POSITION_PARK)
    for position, pk in enumerate(order, start=1):
        Question.objects.filter(pk=pk).update(position=position)
        questions[pk].position = position
    # QuerySet.update sends no signal: the compiled survey's key moves here.
    survey_revision_bump(survey_id=survey.pk)
    return [questions[pk] for pk in order]


def question_move(*, question: Question, offset: int) -> list[Question]:
    """Move a question up (-1) or down (+1) one place."""
    order = list(question.survey.questions.values_list("pk", flat=True))
    index = order.index(question.pk)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return questions_reorder(survey=question.survey, order=order)


@transaction.atomic
def survey_delete(*, survey: Survey) -> None:
    """Delete a draft with its questions; a survey that was ever published keeps its answers
    and history, so it is closed instead."""
    if survey.status != SurveyStatus.DRAFT or survey.responses.exists():
        raise ValidationError(
            _("Only a draft can be deleted; close a published survey instead."),
            code="survey_not_draft",
        )
    survey.delete()


def _choice_label_clean(*, question: Question, label: Mapping[str, str], exclude: int | None):
    if question.type not in CHOICE_TYPES:
        raise ValidationError(
            {"question": [_("Only a choice question has answers to choose from.")]},
            code="not_a_choice_question",
        )
    languages = question.survey.languages
    clean = _texts(label, languages)
    if not clean.get(languages[0]):
        raise ValidationError({"label": [_("Write the answer.")]})
    if any(len(text) > CHOICE_LABEL_MAX_LENGTH for text in clean.values()):
        raise ValidationError({"label": [_("Keep each answer under 200 characters.")]})
    others = question.choices.exclude(pk=exclude)
    if any(c.label.get(languages[0]) == clean[languages[0]] for c in others):
        raise ValidationError({"label": [_("Each answer must be different.")]}, code="duplicate")
    return clean


@transaction.atomic
def choice_add(*, question: Question, label: Mapping[str, str]) -> Choice:
    """Add an answer at the end of a choice question's list."""
    clean = _choice_label_clean(question=question, label=label, exclude=None)
    positions = list(question.choices.values_list("position", flat=True))
    if len(positions) >= CHOICES_MAX:
        raise ValidationError({"label": [_("Keep it to 50 answers or fewer.")]}, code="too_many")
    return Choice.objects.create(
        organisation_id=question.organisation_id,
        question=question,
        position=max(positions, default=0) + 1,
        label=clean,
    )


@transaction.atomic
def choice_update(*, choice: Choice, label: Mapping[str, str]) -> Choice:
    """Change an answer's wording."""
    choice.label = _choice_label_clean(question=choice.question, label=label, exclude=choice.pk)
    choice.save(update_fields=["label"])
    return choice


@transaction.atomic
def choice_delete(*, choice: Choice) -> None:
    """Delete an answer nobody chose and no show-if rule looks for; the rest close up."""
    question = choice.question
    if choice.answers.exists():
        raise ValidationError(
            _("An answer that people have chosen cannot be removed."), code="choice_answered"
        )
    for other in question.survey.questions.exclude(pk=question.pk):
        rule = other.show_if or {}
        values = rule.get("value")
        if rule.get("question") == question.pk and isinstance(values, list) and choice.pk in values:
            raise ValidationError(
                _("“%(question)s” is shown depending on this answer; change its rule first.")
                % {"question": other.text_for()},
                code="choice_has_dependants",
            )
    choice.delete()
    choices_reorder(question=question, order=list(question.choices.values_list("pk", flat=True)))


@transaction.atomic
def choices_reorder(*, question: Question, order: list[int]) -> list[Choice]:
    """Put a choice question's answers in `order` (every id once)."""
    choices = {c.pk: c for c in question.choices.select_for_update()}
    if sorted(order) != sorted(choices) or len(set(order)) != len(order):
        raise ValidationError(_("The new order must list every answer of the question once."))
    question.choices.update(position=F("position") + _POSITION_PARK)
    for position, pk in enumerate(order, start=1):
        Choice.objects.filter(pk=pk).update(position=position)
        choices[pk].position = position
    # QuerySet.update sends no signal: the compiled survey's key moves here.
    survey_revision_bump(survey_id=question.survey_id)
    return [choices[pk] for pk in order]
