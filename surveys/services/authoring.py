"""The builder's writes as the API makes them: each names who made it, is written to the
audit log in the same transaction, and keeps to the API's rules on a survey's status.

The staff pages call surveys.services.builder directly. Through the API a published survey's
settings change as on the staff pages, but its kind, questions and answers to choose from
change only while it is a draft (duplicate a published survey to ask something else): an
integration cannot rewrite what people are answering. A refusal because of the survey's
state is a ValidationError whose code is one of STATE_CODES; the API answers those 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Community, Organisation, User
from communities.services.audit import audit_record, audit_register
from surveys.choices import SurveyKind, SurveyStatus
from surveys.models import Choice, Question, Survey
from surveys.services.builder import (
    QUESTIONS_MAX,
    choice_add,
    choice_delete,
    choice_update,
    choices_reorder,
    question_add,
    question_add_from_spec,
    question_delete,
    question_update,
    questions_reorder,
    survey_close,
    survey_create,
    survey_delete,
    survey_duplicate,
    survey_publish,
    survey_publish_problems,
    survey_update,
)

# Refusals that are about the survey's (or a question's) state, not the request's fields.
STATE_CODES = frozenset(
    {
        "survey_not_draft",
        "survey_not_live",
        "survey_live",
        "not_publishable",
        "close_time_passed",
        "question_has_dependants",
        "choice_answered",
        "choice_has_dependants",
    }
)

AUDIT_ACTIONS = {
    "survey.create": gettext_lazy("Survey created"),
    "survey.update": gettext_lazy("Survey changed"),
    "survey.publish": gettext_lazy("Survey published"),
    "survey.close": gettext_lazy("Survey closed"),
    "survey.duplicate": gettext_lazy("Survey duplicated"),
    "survey.delete": gettext_lazy("Draft survey deleted"),
    "survey.reorder": gettext_lazy("Questions reordered"),
    "question.create": gettext_lazy("Question added"),
    "question.update": gettext_lazy("Question changed"),
    "question.delete": gettext_lazy("Question deleted"),
    "question.reorder": gettext_lazy("Answers to choose from reordered"),
    "choice.create": gettext_lazy("Answer to choose added"),
    "choice.update": gettext_lazy("Answer to choose changed"),
    "choice.delete": gettext_lazy("Answer to choose removed"),
}


def survey_audit_register() -> None:
    """Name the survey builder's audit codes and targets (surveys' AppConfig.ready)."""
    audit_register(
        actions=AUDIT_ACTIONS,
        targets={"survey": Survey, "question": Question, "choice": Choice},
        target_labels={
            "survey": gettext_lazy("Survey"),
            "question": gettext_lazy("Question"),
            "choice": gettext_lazy("Answer to choose"),
        },
    )


def _draft_required(survey: Survey, message: str | None = None) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise ValidationError(
            message or _("Questions change only in a draft; duplicate the survey to change them."),
            code="survey_not_draft",
        )


def _record(
    *,
    survey: Survey,
    actor: User | None,
    action: str,
    target: Survey | Question | Choice | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action=action,
        target=target or survey,
        changes=changes,
    )


def _question_state(question: Question) -> dict[str, Any]:
    return {
        "text": question.text,
        "required": question.required,
        "settings": question.settings,
        "choices": [c.label for c in question.choices.order_by("position")],
    }


def _within(prefix: str, exc: ValidationError) -> ValidationError:
    """A refusal of one part of a request (an inline question), its fields named under it."""
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {f"{prefix}.{field}": errors for field, errors in exc.error_dict.items()}
        )
    return ValidationError({prefix: exc.error_list})


# --- surveys -------------------------------------------------------------------------------


@transaction.atomic
def survey_create_audited(
    *,
    organisation: Organisation,
    actor: User | None,
    title: Mapping[str, str],
    languages: list[str],
    kind: str = SurveyKind.SURVEY,
    community: Community | None = None,
    template: str | None = None,
    settings: Mapping[str, Any] | None = None,
    questions: list[Mapping[str, Any]] | None = None,
) -> Survey:
    """A draft with its settings and questions (written as a template writes them, see
    question_add_from_spec), or from a library template; one audit entry."""
    survey = survey_create(
        organisation=organisation,
        title=title,
        languages=languages,
        community=community,
        kind=kind,
        template=template,
    )
    if settings:
        survey_update(survey=survey, **settings)
    created: list[Question] = []
    for index, spec in enumerate(questions or []):
        if index >= QUESTIONS_MAX:
            raise ValidationError(
                {
                    "questions": [
                        _("Keep it to %(max)s questions or fewer.") % {"max": QUESTIONS_MAX}
                    ]
                }
            )
        try:
            created.append(question_add_from_spec(survey=survey, spec=spec, earlier=created))
        except ValidationError as exc:
            raise _within(f"questions.{index}", exc) from None
    fields = ("title", "kind", "languages", "community", *(settings or {}))
    _record(
        survey=survey,
        actor=actor,
        action="survey.create",
        changes={
            **{name: [None, getattr(survey, name)] for name in fields},
            "questions": [None, survey.questions.count()],
        },
    )
    return survey


@transaction.atomic
def survey_update_audited(*, survey: Survey, actor: User | None, **fields: Any) -> Survey:
    """Change a survey's settings (as the staff builder may, at any status) and, in a draft,
    its kind."""
    if "kind" in fields and fields["kind"] != survey.kind:
        _draft_required(survey, _("A survey's kind changes only while it is a draft."))
    before = {name: getattr(survey, name) for name in fields}
    survey_update(survey=survey, **fields)
    _record(
        survey=survey,
        actor=actor,
        action="survey.update",
        changes={name: [before[name], getattr(survey, name)] for name in fields},
    )
    return survey


@transaction.atomic
def survey_publish_audited(*, survey: Survey, actor: User | None) -> Survey:
    """Put a draft or closed survey live; a live one, or one not ready, is refused."""
    if survey.status == SurveyStatus.LIVE:
        raise ValidationError(_("The survey is already live."), code="survey_live")
    problems = survey_publish_problems(survey=survey)
    if problems:
        raise ValidationError(" ".join(problems), code="not_publishable")
    if survey.closes_at and survey.closes_at <= timezone.now():
        raise ValidationError(
            _("The close time has passed; move it first."), code="close_time_passed"
        )
    before = survey.status
    survey_publish(survey=survey)
    _record(
        survey=survey,
        actor=actor,
        action="survey.publish",
        changes={"status": [before, survey.status]},
    )
    return survey


@transaction.atomic
def survey_close_audited(*, survey: Survey, actor: User | None) -> Survey:
    """Close a live survey (see survey_close); any other is refused."""
    if survey.status != SurveyStatus.LIVE:
        raise ValidationError(_("Only a live survey can be closed."), code="survey_not_live")
    survey_close(survey=survey)
    _record(
        survey=survey,
        actor=actor,
        action="survey.close",
        changes={"status": [SurveyStatus.LIVE, survey.status]},
    )
    return survey


@transaction.atomic
def survey_duplicate_audited(*, survey: Survey, actor: User | None) -> Survey:
    """A draft copy of any survey (see survey_duplicate), recorded on the copy."""
    copy = survey_duplicate(survey=survey)
    _record(
        survey=copy,
        actor=actor,
        action="survey.duplicate",
        changes={"duplicate_of": [None, f"#{survey.pk} {survey}"]},
    )
    return copy


@transaction.atomic
def survey_delete_audited(*, survey: Survey, actor: User | None) -> None:
    """Delete a draft (see survey_delete); the entry keeps its id and title."""
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="survey.delete",
        target_type="survey",
        target_id=str(survey.pk),
        target_label=str(survey),
    )
    survey_delete(survey=survey)


# --- questions and their answers to choose from ----------------------------------------------


@transaction.atomic
def question_add_audited(
    *,
    survey: Survey,
    actor: User | None,
    type: str,
    text: Mapping[str, str],
    required: bool = True,
    settings: Mapping[str, Any] | None = None,
    choices: list[Mapping[str, str]] | None = None,
) -> Question:
    """Add a question at the end of a draft (see question_add)."""
    _draft_required(survey)
    if survey.questions.count() >= QUESTIONS_MAX:
        raise ValidationError(
            _("Keep it to %(max)s questions or fewer.") % {"max": QUESTIONS_MAX}, code="too_many"
        )
    question = question_add(
        survey=survey, type=type, text=text, required=required, settings=settings, choices=choices
    )
    _record(
        survey=survey,
        actor=actor,
        action="question.create",
        target=question,
        changes={"type": [None, question.type]}
        | {name: [None, value] for name, value in _question_state(question).items()},
    )
    return question


@transaction.atomic
def question_update_audited(
    *,
    question: Question,
    actor: User | None,
    text: Mapping[str, str],
    required: bool,
    settings: Mapping[str, Any] | None = None,
    choices: list[Mapping[str, str]] | None = None,
) -> Question:
    """Change a draft's question (see question_update)."""
    survey = question.survey
    _draft_required(survey)
    before = _question_state(question)
    question_update(
        question=question, text=text, required=required, settings=settings, choices=choices
    )
    after = _question_state(question)
    _record(
        survey=survey,
        actor=actor,
        action="question.update",
        target=question,
        changes={name: [before[name], after[name]] for name in after},
    )
    return question


@transaction.atomic
def question_delete_audited(*, question: Question, actor: User | None) -> None:
    """Delete a draft's question (see question_delete)."""
    survey = question.survey
    _draft_required(survey)
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="question.delete",
        target_type="question",
        target_id=str(question.pk),
        target_label=str(question),
    )
    question_delete(question=question)


@transaction.atomic
def questions_reorder_audited(
    *, survey: Survey, actor: User | None, order: list[int]
) -> list[Question]:
    """Put a draft's questions in `order` (see questions_reorder)."""
    _draft_required(survey)
    before = list(survey.questions.order_by("position").values_list("pk", flat=True))
    questions = questions_reorder(survey=survey, order=order)
    _record(
        survey=survey,
        actor=actor,
        action="survey.reorder",
        changes={"order": [before, [q.pk for q in questions]]},
    )
    return questions


@transaction.atomic
def choice_add_audited(
    *, question: Question, actor: User | None, label: Mapping[str, str]
) -> Choice:
    """Add an answer to choose to a draft's choice question (see choice_add)."""
    _draft_required(question.survey)
    choice = choice_add(question=question, label=label)
    _record(
        survey=question.survey,
        actor=actor,
        action="choice.create",
        target=choice,
        changes={"label": [None, choice.label]},
    )
    return choice


@transaction.atomic
def choice_update_audited(
    *, choice: Choice, actor: User | None, label: Mapping[str, str]
) -> Choice:
    """Reword an answer to choose of a draft's question (see choice_update)."""
    survey = choice.question.survey
    _draft_required(survey)
    before = choice.label
    choice_update(choice=choice, label=label)
    _record(
        survey=survey,
        actor=actor,
        action="choice.update",
        target=choice,
        changes={"label": [before, choice.label]},
    )
    return choice


@transaction.atomic
def choice_delete_audited(*, choice: Choice, actor: User | None) -> None:
    """Remove an answer to choose from a draft's question (see choice_delete)."""
    survey = choice.question.survey
    _draft_required(survey)
    audit_record(
        organisation=survey.organisation,
        actor=actor,
        action="choice.delete",
        target_type="choice",
        target_id=str(choice.pk),
        target_label=str(choice),
    )
    choice_delete(choice=choice)


@transaction.atomic
def choices_reorder_audited(
    *, question: Question, actor: User | None, order: list[int]
) -> list[Choice]:
    """Put a draft's choice question's answers in `order` (see choices_reorder)."""
    _draft_required(question.survey)
    before = list(question.choices.order_by("position").values_list("pk", flat=True))
    choices = choices_reorder(question=question, order=order)
    _record(
        survey=question.survey,
        actor=actor,
        action="question.reorder",
        target=question,
        changes={"order": [before, [c.pk for c in choices]]},
    )
    return choices
