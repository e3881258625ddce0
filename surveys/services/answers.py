"""Checking a respondent's answers against the survey's questions: show-if rules, required
questions, bounds, choices and lengths; one clean value per question."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from surveys.choices import CHOICE_TYPES, NUMBER_TYPES, Condition, QuestionType
from surveys.models import SHORT_TEXT_MAX_LENGTH, TEXT_ANSWER_MAX_LENGTH, Question


def question_field_name(question: Question) -> str:
    return f"q_{question.pk}"


def condition_holds(*, rule: Mapping[str, Any], answer: Mapping[str, Any] | None) -> bool:
    """Whether an earlier question's clean answer meets a show-if rule."""
    if answer is None:
        return False
    op, value = rule.get("op"), rule.get("value")
    if "number" in answer:
        number = answer["number"]
        if op == Condition.AT_MOST:
            return number <= value
        if op == Condition.AT_LEAST:
            return number >= value
        if op == Condition.EQUALS:
            return number == value
        if op == Condition.ANY_OF:
            return number in value
        return False
    if answer.get("choice_ids"):
        wanted = set(value) if isinstance(value, list | tuple) else {value}
        return bool(wanted & set(answer["choice_ids"]))
    return False


def answers_validate(
    *, questions: list[Question], raw: Mapping[str, Any]
) -> dict[int, dict[str, Any]]:
    """Check raw answers against their questions; returns {question_id: clean value}.

    `raw` maps "q_<id>" to a number, a choice id, a list of choice ids or text, and
    "q_<id>_other" to a multi-choice question's "other" text. Questions are taken in
    order: one whose show-if rule is not met by the answers before it is skipped, its
    answer (if any) dropped and never required. Raises a ValidationError whose dict
    names the field of each bad answer.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[int, dict[str, Any]] = {}
    for question in questions:
        if question.show_if and not condition_holds(
            rule=question.show_if, answer=clean.get(question.show_if.get("question"))
        ):
            continue
        name = question_field_name(question)
        value = raw.get(name)
        other = str(raw.get(f"{name}_other") or "").strip() if question.has_other else ""
        if value in (None, "", [], ()) and not other:
            if question.required and not question.hidden:
                errors[name] = [_("Please answer this question.")]
            continue
        try:
            clean[question.pk] = _answer_clean(question, value, other)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return clean


def _text_clean(text: Any, limit: int) -> str:
    text = str(text).strip()
    if "\x00" in text:
        # Neither database stores one in text, and no person types one.
        raise ValidationError(_("Null characters are not allowed."))
    if len(text) > limit:
        raise ValidationError(
            _("Please keep your answer under %(max)s characters (it has %(n)s).")
            % {"max": limit, "n": len(text)}
        )
    return text


def _choice_ids(question: Question) -> set[int]:
    # Questions from the compiled survey come with their choices prefetched: reading that
    # list skips building a related manager and a queryset for every answer.
    kept = getattr(question, "_prefetched_objects_cache", {}).get("choices")
    return {c.pk for c in (kept if kept is not None else question.choices.all())}


def _answer_clean(question: Question, value: Any, other: str = "") -> dict[str, Any]:
    if question.type in NUMBER_TYPES:
        low, high = question.bounds
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            if question.type == QuestionType.YES_NO:
                raise ValidationError(_("Choose yes or no."))
            raise ValidationError(
                _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
        return {"number": number}
    if question.type in CHOICE_TYPES:
        values = value if isinstance(value, list | tuple) else [value]
        values = [v for v in values if v not in (None, "")]
        # With an "other" box, the written answer may stand instead of a choice.
        if question.type == QuestionType.SINGLE_CHOICE and not (
            len(values) == 1 or (other and not values)
        ):
            raise ValidationError(_("Choose one answer."))
        valid = _choice_ids(question)
        try:
            ids = {int(v) for v in values}
        except (TypeError, ValueError):
            raise ValidationError(_("That is not one of this question's answers.")) from None
        if not ids <= valid:
            raise ValidationError(_("That is not one of this question's answers."))
        clean: dict[str, Any] = {"choice_ids": sorted(ids)}
        if other:
            clean["text"] = _text_clean(other, SHORT_TEXT_MAX_LENGTH)
        return clean
    short = question.type == QuestionType.SHORT_TEXT
    limit = SHORT_TEXT_MAX_LENGTH if short else TEXT_ANSWER_MAX_LENGTH
    return {"text": _text_clean(value, limit)}
