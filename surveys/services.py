from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.models import (
    Community,
    EmailSuppression,
    Location,
    Member,
    Organisation,
)
from communities.services import (
    MEMBER_CURRENT_STATUSES,
    consent_record,
    member_activity_touch,
    member_lock,
)
from config.queue import enqueue_on_commit
from config.ratelimit import rate_limited
from feedback.models import OutboundEmail
from feedback.services import followup_apply, outbox_enqueue
from feedback.tasks import response_analyse_task
from rewards.choices import LedgerReason
from rewards.services import points_award
from surveys.choices import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    RATING_LIMITS,
    SCALE_TYPES,
    Anonymity,
    BatchStatus,
    ChannelKind,
    Condition,
    EventOutcome,
    QuestionType,
    SurveyKind,
    SurveyStatus,
)
from surveys.library import LIBRARY
from surveys.models import (
    SHORT_TEXT_MAX_LENGTH,
    TEXT_ANSWER_MAX_LENGTH,
    Answer,
    Channel,
    Choice,
    InvitationBatch,
    Participation,
    Question,
    Response,
    Survey,
    SurveyEvent,
    SurveyInvitation,
)


class SurveyNotOpen(ValidationError):
    pass


class AlreadyAnswered(ValidationError):
    pass


def question_field_name(question: Question) -> str:
    return f"q_{question.pk}"


def survey_closed_reason(*, survey: Survey, now=None) -> str | None:
    """Why a survey takes no answers right now, in words for the respondent, or None."""
    now = now or timezone.now()
    if survey.status == SurveyStatus.DRAFT:
        return _("This survey is not published yet.")
    if survey.status == SurveyStatus.CLOSED or (survey.closes_at and now >= survey.closes_at):
        return _("This survey has closed. Thank you for your interest.")
    if survey.opens_at and now < survey.opens_at:
        return _("This survey is not open yet.")
    return None


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
    if len(text) > limit:
        raise ValidationError(
            _("Please keep your answer under %(max)s characters (it has %(n)s).")
            % {"max": limit, "n": len(text)}
        )
    return text


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
        if question.type == QuestionType.SINGLE_CHOICE and len(values) != 1:
            raise ValidationError(_("Choose one answer."))
        valid = {c.pk for c in question.choices.all()}
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
    limit = (
        SHORT_TEXT_MAX_LENGTH
        if question.type == QuestionType.SHORT_TEXT
        else TEXT_ANSWER_MAX_LENGTH
    )
    return {"text": _text_clean(value, limit)}


def survey_questions(*, survey: Survey) -> list[Question]:
    return list(survey.questions.filter(hidden=False).prefetch_related("choices"))


@dataclass
class SubmitResult:
    response: Response | None
    created: bool
    points_awarded: int = 0
    notes: list[str] = field(default_factory=list)


def _respondent_is_anonymous(
    *,
    survey: Survey,
    member: Member | None,
    invitation: SurveyInvitation | None,
    wants_anonymous: bool,
) -> bool:
    if survey.anonymity == Anonymity.ANONYMOUS:
        return True
    if survey.anonymity == Anonymity.RESPONDENT_CHOICE and wants_anonymous:
        return True
    return member is None and invitation is None


@transaction.atomic
def response_submit(
    *,
    survey: Survey,
    raw_answers: Mapping[str, Any],
    idempotency_key: str,
    language: str = "en",
    member: Member | None = None,
    invitation: SurveyInvitation | None = None,
    channel: Channel | None = None,
    location: Location | None = None,
    consent_to_contact: bool = False,
    wants_anonymous: bool = False,
    questions: list[Question] | None = None,
) -> SubmitResult:
    """Store a response and its answers in one transaction, exactly once per key.

    Also records participation, awards the survey's points once, opens a case and
    queues a follow-up email when a score rule matches, and enqueues sentiment scoring
    after commit when there is text to score. A repeated key returns the first response.
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise ValidationError({"idempotency_key": [_("This form has expired; please reload.")]})
    if member is None:
        # A member's double submit is caught under the member's lock below instead.
        existing = Response.objects.filter(survey=survey, idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(response=existing, created=False)

    reason = survey_closed_reason(survey=survey)
    if reason:
        raise SurveyNotOpen(reason, code="survey_not_open")
    if member is not None and member.organisation_id != survey.organisation_id:
        raise ValidationError(_("This survey belongs to another organisation."))
    questions = questions if questions is not None else survey_questions(survey=survey)
    clean = answers_validate(questions=questions, raw=raw_answers)

    anonymous = _respondent_is_anonymous(
        survey=survey, member=member, invitation=invitation, wants_anonymous=wants_anonymous
    )
    now = timezone.now()
    if member is not None:
        member_lock(member_id=member.pk)
        # A double submit that waited on the lock finds the first one's response here.
        existing = Response.objects.filter(survey=survey, idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(response=existing, created=False)
        if (
            not survey.allow_multiple_responses
            and Participation.objects.filter(survey=survey, member=member).exists()
        ):
            raise AlreadyAnswered(
                _("You have already answered this survey. Thank you!"), code="already_answered"
            )
        if survey.allow_multiple_responses:
            Participation.objects.get_or_create(
                survey=survey,
                member=member,
                defaults={
                    "organisation_id": survey.organisation_id,
                    "completed_on": timezone.localdate(now),
                },
            )
        else:
            # The member's lock is held and none exists: a plain insert cannot collide.
            Participation.objects.create(
                organisation_id=survey.organisation_id,
                survey=survey,
                member=member,
                completed_on=timezone.localdate(now),
            )
    if invitation is not None:
        # Two devices sending one personal link at once: the second waits here, then
        # finds it used.
        invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation is not None and invitation.responded_at is not None:
        raise AlreadyAnswered(
            _("This link has already been used to answer. Thank you!"), code="already_answered"
        )

    # An anonymous response keeps only the hour, so it cannot be joined to its
    # Participation (which keeps only the day) or a ledger entry by timestamp.
    submitted_at = now.replace(minute=0, second=0, microsecond=0) if anonymous else now
    response = Response(
        organisation=survey.organisation,
        survey=survey,
        channel=channel,
        member=None if anonymous else member,
        invitation=None if anonymous else invitation,
        location=location,
        language=language,
        submitted_at=submitted_at,
        submitted_on=timezone.localdate(now),
        is_anonymous=anonymous,
        consent_to_contact=bool(consent_to_contact) and not anonymous,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # A concurrent double submit with the same key won the race.
        first = Response.objects.filter(survey=survey, idempotency_key=idempotency_key).first()
        if first is None:
            raise AlreadyAnswered(
                _("This link has already been used to answer. Thank you!"),
                code="already_answered",
            ) from None
        return SubmitResult(response=first, created=False)

    by_id = {q.pk: q for q in questions}
    answers = Answer.objects.bulk_create(
        Answer(
            organisation_id=survey.organisation_id,
            response=response,
            question_id=qid,
            question_type=by_id[qid].type,
            number=value.get("number"),
            text=value.get("text", ""),
        )
        for qid, value in clean.items()
    )
    through = [
        Answer.choices.through(answer_id=a.pk, choice_id=cid)
        for a in answers
        for cid in clean[a.question_id].get("choice_ids", ())
    ]
    if through:
        Answer.choices.through.objects.bulk_create(through)

    if invitation is not None:
        SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=now)
    if member is not None:
        # Answering is activity (the lifecycle task reads it). An anonymous answer
        # records only the day, as its Participation does, so the member's row cannot
        # date the response.
        active_at = (
            timezone.make_aware(datetime.combine(timezone.localdate(now), datetime.min.time()))
            if anonymous
            else now
        )
        member_activity_touch(member_id=member.pk, at=active_at)

    result = SubmitResult(response=response, created=True)
    if member is not None and survey.points and (not anonymous or survey.anonymous_points):
        # Keyed on survey and member, not the response, so an anonymous answer still
        # earns once without the ledger pointing at what was answered.
        _entry, awarded = points_award(
            member=member,
            points=survey.points,
            reason=LedgerReason.SURVEY_COMPLETED,
            source=f"surveys.survey:{survey.pk}",
            idempotency_key=f"survey:{survey.pk}:member:{member.pk}",
        )
        result.points_awarded = survey.points if awarded else 0
    if member is not None and response.consent_to_contact:
        consent_record(
            member=member,
            purpose=ConsentPurpose.CONTACT_FOLLOWUP,
            granted=True,
            channel=ConsentChannel.WEB,
        )

    # Score rules need no worker: the case and the email row commit with the response.
    # Only text needs the sentiment task; everything else is analysed now.
    has_text = any(a.text for a in answers)
    if answers:
        chosen = {cid for v in clean.values() for cid in v.get("choice_ids", ())}
        followup_apply(response=response, answers=answers, choice_ids=chosen)
    if has_text:
        enqueue_on_commit(response_analyse_task, response_id=response.pk)
    else:
        Response.objects.filter(pk=response.pk).update(analysed_at=now)
    return result


# --- building surveys (staff) ----------------------------------------------------------

# Room to park positions while renumbering, under the (survey, position) unique constraint.
_POSITION_PARK = 10_000


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
        settings_ = {
            key: value for key, value in spec.get("settings", {}).items() if key != "show_if"
        }
        if "show_if" in spec:
            rule = dict(spec["show_if"])
            earlier = created[rule["question"]]
            rule["question"] = earlier.pk
            if rule["op"] == Condition.ANY_OF and earlier.type in CHOICE_TYPES:
                ids = list(earlier.choices.values_list("pk", flat=True))
                rule["value"] = [ids[i] for i in rule["value"]]
            settings_["show_if"] = rule
        created.append(
            question_add(
                survey=survey,
                type=spec["type"],
                text=spec["text"],
                required=spec.get("required", True),
                settings=settings_,
                choices=spec.get("choices", []),
            )
        )
    return survey


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
    survey.status = SurveyStatus.CLOSED
    survey.save(update_fields=["status", "updated_at"])
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
    if type == QuestionType.MULTI_CHOICE and settings.get("other"):
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
            % {"question": dependants[0]}
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
    return [questions[pk] for pk in order]


def question_move(*, question: Question, offset: int) -> list[Question]:
    """Move a question up (-1) or down (+1) one place."""
    order = list(question.survey.questions.values_list("pk", flat=True))
    index = order.index(question.pk)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return questions_reorder(survey=question.survey, order=order)


# --- personal email links ---------------------------------------------------------------

INVITATION_SALT = "chorus.surveys.invitation"
UNSUBSCRIBE_SALT = "chorus.surveys.unsubscribe"


class InvitationLinkError(Exception):
    """A personal link that cannot be used; `reason` is forged, expired or used."""

    def __init__(self, reason: str, invitation: SurveyInvitation | None = None):
        super().__init__(reason)
        self.reason, self.invitation = reason, invitation


def invitation_link_token(*, invitation: SurveyInvitation) -> str:
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(invitation.token)


def invitation_from_link(*, signed: str) -> SurveyInvitation:
    """The invitation a personal link names, if it is genuine, unexpired and unused."""
    signer = signing.TimestampSigner(salt=INVITATION_SALT)
    try:
        token = signer.unsign(signed)
    except signing.BadSignature:
        raise InvitationLinkError("forged") from None
    invitation = (
        SurveyInvitation.objects.select_related("survey", "survey__organisation", "member")
        .filter(token=token)
        .first()
    )
    if invitation is None:
        raise InvitationLinkError("forged")
    try:
        signer.unsign(signed, max_age=timedelta(days=invitation.survey.invitation_valid_days))
    except signing.SignatureExpired:
        raise InvitationLinkError("expired", invitation) from None
    if invitation.responded_at is not None:
        raise InvitationLinkError("used", invitation)
    return invitation


def invitation_open(*, invitation: SurveyInvitation) -> None:
    """Record the first open; opening never answers or uses up the link."""
    SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def unsubscribe_token(*, organisation_id: int, email: str) -> str:
    return signing.dumps([organisation_id, email], salt=UNSUBSCRIBE_SALT, compress=True)


@transaction.atomic
def email_unsubscribe(*, signed: str) -> EmailSuppression:
    """Stop survey email to an address for one organisation (from a link in an email)."""
    organisation_id, email = signing.loads(signed, salt=UNSUBSCRIBE_SALT)
    suppression, _created = EmailSuppression.objects.get_or_create(
        organisation_id=organisation_id, email=email.lower()
    )
    Member.objects.for_organisation(organisation_id).filter(email__iexact=email).exclude(
        status=MemberStatus.ERASED
    ).update(status=MemberStatus.UNSUBSCRIBED)
    return suppression


def _suppressed(*, organisation_id: int, emails: list[str]) -> set[str]:
    lowered = [e.lower() for e in emails]
    suppressed = set(
        EmailSuppression.objects.for_organisation(organisation_id)
        .filter(email__in=lowered)
        .values_list("email", flat=True)
    )
    suppressed |= {
        e.lower()
        for e in Member.objects.for_organisation(organisation_id)
        .filter(email__in=lowered, status__in=(MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED))
        .values_list("email", flat=True)
    }
    return suppressed


def _invitation_email(
    *,
    invitation: SurveyInvitation,
    reminder: int = 0,
    enqueue: bool = True,
    questions: list[Question] | None = None,
) -> OutboundEmail:
    survey = invitation.survey
    organisation = survey.organisation
    language = invitation.language or organisation.default_language
    if survey.languages and language not in survey.languages:
        language = survey.languages[0]
    link = settings.SITE_URL + reverse(
        "surveys:invitation_open", args=[invitation_link_token(invitation=invitation)]
    )
    # A batch passes the questions in: one lookup per chunk, not two per email.
    questions = questions if questions is not None else survey_questions(survey=survey)
    first = next(iter(questions), None)
    unsubscribe = settings.SITE_URL + reverse(
        "surveys:unsubscribe",
        args=[unsubscribe_token(organisation_id=organisation.pk, email=invitation.email)],
    )
    return outbox_enqueue(
        organisation=organisation,
        to_email=invitation.email,
        template="invitation",
        language=language,
        context={
            "organisation_name": organisation.name,
            "survey_title": survey.title.get(language) or survey.title_text,
            "question": first.text_for(language) if first else "",
            "name": invitation.name,
            "link": link,
            # One tap on a score opens the survey with that answer filled in.
            "scores": [(n, f"{link}?score={n}") for n in range(11)]
            if first is not None and first.type == QuestionType.NPS
            else [],
            "reminder": reminder,
            "unsubscribe_url": unsubscribe,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        idempotency_key=f"invitation:{invitation.pk}:{reminder}",
        enqueue=enqueue,
    )


def _recipients_clean(recipients: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Normalised, de-duplicated (email, name) pairs; a ValidationError names bad lines."""
    clean: dict[str, str] = {}
    bad = []
    for line, (email, name) in enumerate(recipients, start=1):
        email = (email or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            bad.append(str(line))
            continue
        clean.setdefault(email, (name or "").strip()[:200])
    if bad:
        raise ValidationError(
            {
                "recipients": [
                    _("These lines are not email addresses: %(lines)s.")
                    % {"lines": ", ".join(bad[:20]) + ("…" if len(bad) > 20 else "")}
                ]
            }
        )
    return list(clean.items())


@transaction.atomic
def invitation_batch_create(
    *,
    survey: Survey,
    created_by: Any = None,
    community: Community | None = None,
    recipients: list[tuple[str, str]] | None = None,
) -> InvitationBatch:
    """Queue a send of personal survey links; the workers write and send them."""
    reason = survey_closed_reason(survey=survey)
    if reason:
        raise ValidationError(reason)
    if survey.kind == SurveyKind.POLL:
        raise ValidationError(_("A quick poll is answered on the community home, not by email."))
    if community is not None and community.organisation_id != survey.organisation_id:
        raise ValidationError({"community": [_("Choose one of your communities.")]})
    clean = _recipients_clean(recipients or [])
    if community is None and not clean:
        raise ValidationError({"recipients": [_("Name at least one recipient.")]})
    if len(clean) > settings.CHORUS["INVITATION_BATCH_MAX"]:
        raise ValidationError(
            {
                "recipients": [
                    _("Send to at most %(max)s people at once.")
                    % {"max": settings.CHORUS["INVITATION_BATCH_MAX"]}
                ]
            }
        )
    batch = InvitationBatch.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        created_by=created_by,
        community=community,
        recipients=[[email, name] for email, name in clean],
    )
    from surveys.tasks import invitation_batch_send_task

    enqueue_on_commit(invitation_batch_send_task, batch_id=batch.pk)
    return batch


def _batch_audience(batch: InvitationBatch) -> list[tuple[str, str, int | None, str]]:
    """(email, name, member id, language) for everyone the batch names."""
    if batch.community_id is not None:
        return list(
            Member.objects.for_organisation(batch.organisation_id)
            .filter(community_id=batch.community_id)
            .exclude(email="")
            # Only confirmed members: a pending join or an open invitation has not
            # agreed to hear from the community yet (that is what double opt-in is for).
            .filter(status__in=MEMBER_CURRENT_STATUSES)
            .order_by("pk")
            .values_list("email", "name", "pk", "locale")
        )
    return [(email, name, None, "") for email, name in batch.recipients]


def invitation_batch_send(*, batch_id: int) -> int:
    """Write the batch's invitations and their emails chunk by chunk; returns emails queued.

    Safe to run again after a crash: invitations are unique per batch and address,
    and each email's outbox key is its invitation's, so nothing is written or sent twice.
    """
    from feedback.tasks import outbox_send_many_task

    batch = InvitationBatch.objects.select_related("survey", "survey__organisation").get(
        pk=batch_id
    )
    if batch.status == BatchStatus.DONE:
        return 0
    InvitationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
    audience = _batch_audience(batch)
    chunk_size = settings.CHORUS["INVITATION_CHUNK"]
    questions = survey_questions(survey=batch.survey)
    queued = 0
    skipped = {"suppressed": 0}
    channel, _created = Channel.objects.get_or_create(
        survey=batch.survey,
        kind=ChannelKind.EMAIL,
        defaults={"organisation_id": batch.organisation_id},
    )
    for start in range(0, len(audience), chunk_size):
        chunk = audience[start : start + chunk_size]
        with transaction.atomic():
            suppressed = _suppressed(
                organisation_id=batch.organisation_id, emails=[row[0] for row in chunk]
            )
            skipped["suppressed"] += len(suppressed)
            SurveyInvitation.objects.bulk_create(
                [
                    SurveyInvitation(
                        organisation_id=batch.organisation_id,
                        survey=batch.survey,
                        batch=batch,
                        channel=channel,
                        email=email.lower(),
                        name=name,
                        member_id=member_id,
                        language=language,
                    )
                    for email, name, member_id, language in chunk
                    if email.lower() not in suppressed
                ],
                ignore_conflicts=True,
            )
            pending = list(
                SurveyInvitation.objects.filter(
                    batch=batch,
                    sent_at__isnull=True,
                    email__in=[row[0].lower() for row in chunk],
                ).select_related("survey", "survey__organisation")
            )
            ids = [
                _invitation_email(invitation=invitation, enqueue=False, questions=questions).pk
                for invitation in pending
            ]
            SurveyInvitation.objects.filter(pk__in=[i.pk for i in pending]).update(
                sent_at=timezone.now()
            )
            if ids:
                enqueue_on_commit(outbox_send_many_task, email_ids=ids)
            queued += len(ids)
    InvitationBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE,
        total=SurveyInvitation.objects.filter(batch=batch).count(),
        skipped=skipped,
        finished_at=timezone.now(),
    )
    return queued


def reminders_send(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Remind those who have not answered, at most N times, M days apart; returns count."""
    now = now or timezone.now()
    due = (
        SurveyInvitation.objects.filter(
            survey__status=SurveyStatus.LIVE,
            survey__reminder_limit__gt=F("reminder_count"),
            responded_at__isnull=True,
            sent_at__isnull=False,
        )
        .exclude(email="")
        .select_related("survey", "survey__organisation")
        .order_by("sent_at")
    )
    sent = 0
    for invitation in due[:limit]:
        survey = invitation.survey
        last = invitation.reminded_at or invitation.sent_at
        if last > now - timedelta(days=survey.reminder_interval_days):
            continue
        if invitation.sent_at < now - timedelta(days=survey.invitation_valid_days):
            continue
        if survey_closed_reason(survey=survey, now=now):
            continue
        if _suppressed(organisation_id=invitation.organisation_id, emails=[invitation.email]):
            continue
        number = invitation.reminder_count + 1
        with transaction.atomic():
            # The conditional update makes a second sweep at the same time a no-op.
            claimed = SurveyInvitation.objects.filter(
                pk=invitation.pk, reminder_count=invitation.reminder_count
            ).update(reminder_count=number, reminded_at=now)
            if claimed:
                _invitation_email(invitation=invitation, reminder=number)
                sent += 1
    return sent


# --- surveys triggered by another system's events ------------------------------------------


@transaction.atomic
def event_receive(
    *,
    organisation: Organisation,
    kind: str,
    external_ref: str,
    email: str,
    name: str = "",
    language: str = "",
    survey: Survey | None = None,
    delay: timedelta = timedelta(0),
) -> tuple[SurveyEvent, bool]:
    """Store a reported event once per reference, and process it after commit (and delay)."""
    now = timezone.now()
    event, created = SurveyEvent.objects.get_or_create(
        organisation=organisation,
        kind=kind,
        external_ref=external_ref,
        defaults={
            "email": email.strip().lower(),
            "name": name,
            "language": language,
            "survey": survey,
            "received_at": now,
            "send_after": now + delay,
        },
    )
    if created:
        from surveys.tasks import event_process_task

        # The countdown is a convenience; the sweep sends anything due that it missed.
        enqueue_on_commit(
            event_process_task,
            event_id=event.pk,
            countdown=max(0, int(delay.total_seconds())) or None,
        )
    return event, created


def _event_survey(event: SurveyEvent) -> Survey | None:
    if event.survey_id is not None:
        return event.survey
    return (
        Survey.objects.for_organisation(event.organisation_id)
        .filter(trigger=event.kind, status=SurveyStatus.LIVE)
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def event_process(*, event_id: int, now: datetime | None = None) -> str | None:
    """Send the event's invitation, or record why not; None when not due or already done."""
    now = now or timezone.now()
    event = (
        SurveyEvent.objects.select_for_update(of=("self",))
        .select_related("organisation", "survey")
        .filter(pk=event_id, processed_at__isnull=True, send_after__lte=now)
        .first()
    )
    if event is None:
        return None
    survey = _event_survey(event)
    limit = timedelta(days=event.organisation.contact_limit_days)
    if survey is None or survey_closed_reason(survey=survey, now=now):
        outcome = EventOutcome.NO_SURVEY
    elif _suppressed(organisation_id=event.organisation_id, emails=[event.email]):
        outcome = EventOutcome.SUPPRESSED
    elif SurveyInvitation.objects.filter(survey=survey, external_ref=event.external_ref).exists():
        outcome = EventOutcome.DUPLICATE
    elif (
        SurveyInvitation.objects.for_organisation(event.organisation_id)
        .filter(email=event.email, sent_at__gte=now - limit)
        .exists()
    ):
        outcome = EventOutcome.CONTACT_LIMIT
    else:
        outcome = EventOutcome.INVITED
        channel, _created = Channel.objects.get_or_create(
            survey=survey,
            kind=ChannelKind.API,
            defaults={"organisation_id": survey.organisation_id},
        )
        event.invitation = SurveyInvitation.objects.create(
            organisation_id=event.organisation_id,
            survey=survey,
            channel=channel,
            email=event.email,
            name=event.name,
            language=event.language,
            external_ref=event.external_ref,
            member=Member.objects.for_organisation(event.organisation_id)
            .filter(email__iexact=event.email)
            .first(),
            sent_at=now,
        )
        _invitation_email(invitation=event.invitation)
    event.survey = survey
    event.outcome = outcome
    event.processed_at = now
    event.save(update_fields=["survey", "outcome", "processed_at", "invitation"])
    return outcome


def events_sweep(*, grace: timedelta = timedelta(seconds=60), limit: int = 500) -> int:
    """Enqueue due events nobody processed (broker down, worker restarted mid-countdown)."""
    from surveys.tasks import event_process_task

    ids = list(
        SurveyEvent.objects.filter(
            processed_at__isnull=True, send_after__lte=timezone.now() - grace
        )
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        event_process_task.delay(event_id=event_id)
    return len(ids)


# --- kiosks ------------------------------------------------------------------------------


class KioskRateLimited(Exception):
    pass


@transaction.atomic
def kiosk_register(*, survey: Survey, location: Location, idle_reset_seconds: int = 30) -> Channel:
    """A kiosk device for a store; its URL carries an unguessable, revocable token."""
    if location.organisation_id != survey.organisation_id:
        raise ValidationError({"location": [_("Choose one of your locations.")]})
    if not 5 <= idle_reset_seconds <= 600:
        raise ValidationError(
            {"idle_reset_seconds": [_("Reset after 5 to 600 seconds of no use.")]}
        )
    return Channel.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        kind=ChannelKind.KIOSK,
        location=location,
        idle_reset_seconds=idle_reset_seconds,
        device_token=secrets.token_urlsafe(32),
    )


@transaction.atomic
def kiosk_revoke(*, channel: Channel) -> Channel:
    channel.active = False
    channel.save(update_fields=["active", "updated_at"])
    return channel


def kiosk_submit(
    *, channel: Channel, raw_answers: Mapping[str, Any], idempotency_key: str, language: str
) -> SubmitResult:
    """Store a walk-in customer's answers: anonymous, tagged with the store and channel.

    A replay of a queued answer (same key) returns the stored one and is not counted
    against the device's rate.
    """
    existing = Response.objects.filter(
        survey_id=channel.survey_id, idempotency_key=idempotency_key
    ).first()
    if existing is not None:
        return SubmitResult(response=existing, created=False)
    if rate_limited(
        scope="kiosk", key=str(channel.pk), limit=settings.CHORUS["KIOSK_RATE_PER_MINUTE"]
    ):
        raise KioskRateLimited
    return response_submit(
        survey=channel.survey,
        raw_answers=raw_answers,
        idempotency_key=idempotency_key,
        language=language,
        channel=channel,
        location=channel.location,
    )
