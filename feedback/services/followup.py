"""Follow-up rules: which answers open a case, the respondent's follow-up email and the
staff alert, and the analysis of a response's text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from communities.models import StaffRole
from communities.outbox.contacts import SURVEY_KEY, contacts_limited
from communities.outbox.models import OutboundEmail
from communities.outbox.services import (
    outbox_enqueue,
    sender_headers,
    unsubscribe_headers,
    unsubscribe_url,
)
from communities.permissions import WORK_CASES_ROLES
from config.queue import redrive
from feedback.choices import CasePriority, Condition
from feedback.models import Case
from feedback.reasons import CHOICE, CSAT, NPS, SENTIMENT, STARS, Reason, reason_make
from feedback.rules import organisation_rules
from feedback.services.cases import case_open
from feedback.services.contact import followup_recipient
from surveys.choices import QuestionType
from surveys.models import Answer, Response
from surveys.reactions import StoredResponse
from surveys.sentiment import sentiment_score


@dataclass(frozen=True)
class Rule:
    condition: str
    threshold: float | None = None
    choice_id: int | None = None
    email_respondent: bool = True
    alert_staff: bool = False
    open_case: bool = True


DEFAULT_RULES = (
    Rule(Condition.NPS_AT_MOST, 6),
    Rule(Condition.STARS_AT_MOST, 2),
    Rule(Condition.SENTIMENT_BELOW, -0.3),
)


def followup_rules(*, response: Response) -> tuple[Rule, ...]:
    """The survey's own rules, else its organisation's, else the defaults."""
    organisation = response.organisation if Response.organisation.is_cached(response) else None
    rows = organisation_rules(organisation_id=response.organisation_id, organisation=organisation)
    own = [r for r in rows if r.survey_id == response.survey_id] or [
        r for r in rows if r.survey_id is None
    ]
    if not own:
        return DEFAULT_RULES
    return tuple(
        Rule(r.condition, r.threshold, r.choice_id, r.email_respondent, r.alert_staff, r.open_case)
        for r in own
    )


def _rule_matches(rule: Rule, answer: Answer, choice_ids: set[int]) -> bool:
    if rule.condition == Condition.NPS_AT_MOST:
        return (
            answer.question_type == QuestionType.NPS
            and answer.number is not None
            and answer.number <= rule.threshold
        )
    if rule.condition == Condition.STARS_AT_MOST:
        # A CSAT face is the same 1–5 satisfaction, drawn differently.
        return (
            answer.question_type in (QuestionType.STAR, QuestionType.CSAT)
            and answer.number is not None
            and answer.number <= rule.threshold
        )
    if rule.condition == Condition.SENTIMENT_BELOW:
        return answer.sentiment is not None and answer.sentiment < rule.threshold
    if rule.condition == Condition.CHOICE_SELECTED:
        return rule.choice_id in choice_ids
    return False


def _reason(rule: Rule, answer: Answer) -> Reason:
    """What matched, as data: each reader sees it in their own language (feedback.reasons)."""
    if rule.condition == Condition.SENTIMENT_BELOW:
        return reason_make(
            code=SENTIMENT,
            question=answer.question_id,
            value=answer.sentiment,
            threshold=rule.threshold,
        )
    if rule.condition == Condition.CHOICE_SELECTED:
        # The rule holds for the response (its choice was picked), not for each answer.
        return reason_make(code=CHOICE, value=rule.choice_id)
    code = {QuestionType.NPS: NPS, QuestionType.CSAT: CSAT}.get(answer.question_type, STARS)
    return reason_make(
        code=code, question=answer.question_id, value=answer.number, threshold=rule.threshold
    )


# savepoint=False: inside a submit's transaction, an error here rolls back the whole
# answer anyway, so the hot path carries no savepoint.
@transaction.atomic(savepoint=False)
def followup_apply(
    *,
    response: Response,
    answers: list[Answer] | None = None,
    choice_ids: set[int] | None = None,
    conditions: frozenset[str] | None = None,
    at: datetime | None = None,
    new_response: bool = False,
    consent_just_given: bool = False,
    scores_first: bool = False,
) -> Case | None:
    """Apply the follow-up rules to a response: open its case and queue its email, once.

    `conditions` limits which kinds of rule are applied (the sentiment task applies only
    sentiment rules: the score rules already ran when the response was stored). The
    email goes only to a respondent who ticked consent-to-contact and is not anonymous;
    a second call finds the case and the email already there. `at` is the time a case
    records (a pooled anonymous answer's batch time, not the moment of release).
    `new_response` says the response was written in this transaction, so it can have no
    case or email yet and neither is looked up; `consent_just_given` that its consent was
    recorded in this transaction too, so it is not read back.
    """
    rules = [
        rule
        for rule in followup_rules(response=response)
        if conditions is None or rule.condition in conditions
    ]
    if not rules:
        return None
    if answers is None:
        answers = list(response.answers.all())
    if choice_ids is None and any(r.condition == Condition.CHOICE_SELECTED for r in rules):
        choice_ids = set(
            Answer.choices.through.objects.filter(answer__response=response).values_list(
                "choice_id", flat=True
            )
        )
    matched = [
        (rule, answer)
        for rule in rules
        for answer in answers
        if _rule_matches(rule, answer, choice_ids or set())
    ]
    if not matched:
        return None
    # For an answer from a request, scores speak first: the case names what the score and
    # choice rules found, and a comment's sentiment only when they found nothing, as when
    # the comment was scored by a later task (the rows a submit writes did not change when
    # scoring moved inline). A batch from the pool was always judged on everything at once.
    decisive = (
        [(r, a) for r, a in matched if r.condition != Condition.SENTIMENT_BELOW]
        if scores_first
        else []
    )
    why: list[Reason] = []
    for rule, answer in decisive or matched:
        if (reason := _reason(rule, answer)) not in why:
            why.append(reason)
    case = None
    if any(rule.open_case for rule, _ in matched):
        detractor = any(
            a.question_type == QuestionType.NPS and a.number is not None and a.number <= 3
            for a in answers
        )
        case = case_open(
            response=response,
            reasons=why,
            priority=CasePriority.HIGH if detractor else CasePriority.NORMAL,
            at=at,
            new_response=new_response,
        )
    if any(rule.email_respondent for rule, _ in matched):
        followup_email_queue(
            response=response,
            case=case,
            new_response=new_response,
            consent_just_given=consent_just_given,
        )
    if any(rule.alert_staff for rule, _ in matched):
        staff_alert_queue(response=response, case=case, reasons=why)
    return case


def staff_alert_queue(*, response: Response, case: Case | None, reasons: list[Reason]) -> int:
    """Email every owner, admin and agent of the organisation about a flagged answer, once."""
    recipients = (
        StaffRole.objects.for_organisation(response.organisation_id)
        .filter(role__in=WORK_CASES_ROLES, user__is_active=True)
        .select_related("user")
    )
    path = reverse("staff:case_detail", args=[response.organisation.slug, case.pk]) if case else ""
    for role in recipients:
        outbox_enqueue(
            organisation=response.organisation,
            to_email=role.user.email,
            template="case_alert",
            language=role.user.locale or response.organisation.default_language,
            context={
                "organisation_name": response.organisation.name,
                "survey_title": response.survey.title_text,
                # Rendered by the email template in the recipient's language.
                "reasons": reasons,
                "case_url": f"{settings.SITE_URL}{path}" if path else "",
            },
            idempotency_key=f"alert:response:{response.pk}:user:{role.user_id}",
        )
    return len(recipients)


def followup_email_queue(
    *,
    response: Response,
    case: Case | None,
    new_response: bool = False,
    consent_just_given: bool = False,
) -> OutboundEmail | None:
    """Queue the follow-up email to the respondent once per response, or None when we must
    not write: see followup_recipient, and, when the organisation counts follow-ups in its
    contact limit, a person written to recently about another survey.

    Like every email to a member it carries one-click unsubscribe (RFC 8058 headers and a
    link in the text); it comes from the organisation's sender name, and replies go to
    its reply address (the email asks for a reply only when there is one to go to).
    """
    recipient = followup_recipient(
        response=response,
        consent_just_given=consent_just_given,
        suppression_checked_later=new_response,
    )
    if recipient is None:
        return None
    organisation = response.organisation
    survey = response.survey
    # The survey's own invitation and reminders led to this answer: they never hold back
    # its follow-up (communities.outbox.contacts).
    if organisation.contact_limit_followups and contacts_limited(
        organisation=organisation, emails=[recipient], exclude_survey_id=survey.pk
    ):
        return None
    unsubscribe = unsubscribe_url(organisation_id=organisation.pk, email=recipient)
    return outbox_enqueue(
        organisation=organisation,
        to_email=recipient,
        template="followup",
        language=response.language,
        context={
            "organisation_name": organisation.name,
            "survey_title": survey.title.get(response.language) or survey.title_text,
            "name": response.member.name if response.member_id else "",
            "case_id": case.pk if case else None,
            "can_reply": bool(organisation.reply_to_email),
            "unsubscribe_url": unsubscribe,
            SURVEY_KEY: survey.pk,
        },
        headers={
            **unsubscribe_headers(url=unsubscribe),
            **sender_headers(organisation=organisation),
        },
        idempotency_key=f"followup:response:{response.pk}",
        new_key=new_response,
        unless_suppressed=new_response,
    )


@transaction.atomic
def response_analyse(*, response_id: int) -> bool:
    """Score the response's text answers and apply the follow-up rules; once per response."""
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("member", "survey", "organisation")
        .filter(pk=response_id, analysed_at__isnull=True)
        .first()
    )
    if response is None:
        return False
    answers = list(response.answers.all())
    for answer in answers:
        if answer.question_type == QuestionType.TEXT and answer.text and answer.sentiment is None:
            answer.sentiment = sentiment_score(answer.text)
            answer.save(update_fields=["sentiment"])
    followup_apply(
        response=response,
        answers=answers,
        conditions=frozenset({Condition.SENTIMENT_BELOW}),
        at=_derived_time(response),
    )
    response.analysed_at = _derived_time(response) or timezone.now()
    response.save(update_fields=["analysed_at"])
    return True


def _derived_time(response: Response) -> datetime | None:
    """The time rows derived from an anonymous response record: its own, coarse one (the
    hour), never the moment of analysis, which would date the answer more closely. None
    (now) for an identified response."""
    return response.submitted_at if response.is_anonymous else None


def analysis_redrive(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Enqueue analysis for responses whose task never ran (broker down at submit)."""
    from feedback.tasks import response_analyse_task

    if older_than is None:
        older_than = timedelta(seconds=settings.CHORUS["OUTBOX_REDRIVE_AFTER_SECONDS"])
    return redrive(
        task=response_analyse_task,
        rows=Response.objects.filter(
            analysed_at__isnull=True, submitted_at__lt=timezone.now() - older_than
        ),
        order_by="submitted_at",
        kwarg="response_id",
        limit=limit,
    )


def response_stored(stored: StoredResponse) -> None:
    """feedback's reaction to a stored response (registered in FeedbackConfig.ready).

    The response arrives analysed (its text scored as it was written, surveys.writing),
    so every rule — scores and sentiment alike — runs once, here, in the transaction that
    wrote it: the case and the email row commit with the response, and no task reads it
    back. Whatever derives from an anonymous response carries its own coarse time (for an
    answer released from the pool, its batch's).
    """
    if stored.answers:
        followup_apply(
            response=stored.response,
            answers=stored.answers,
            choice_ids=stored.choice_ids,
            at=_derived_time(stored.response),
            new_response=True,
            consent_just_given=stored.consent_just_given,
            scores_first=not stored.pooled,
        )
