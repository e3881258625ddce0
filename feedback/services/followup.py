"""Follow-up rules: which answers open a case, the respondent's follow-up email and the
staff alert, and the analysis of a response's text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from communities.models import Location, StaffRole
from communities.outbox.contacts import SURVEY_KEY, contacts_limited
from communities.outbox.models import OutboundEmail
from communities.outbox.services import (
    outbox_enqueue,
    outbox_write,
    sender_headers,
    unsubscribe_headers,
    unsubscribe_url,
)
from communities.permissions import WORK_CASES_ROLES
from config.queue import redrive
from config.sql import insert_rows
from feedback.choices import (
    CasePriority,
    Condition,
    RuleAlert,
    RuleAssignment,
    RuleConditionKind,
)
from feedback.inbound.addresses import reply_headers, reply_link
from feedback.models import Case, FollowUpRule, RuleAlertIntent, Team
from feedback.reasons import Reason
from feedback.rules import organisation_rules
from feedback.services.case_rows import case_open_rider
from feedback.services.cases import case_open
from feedback.services.contact import followup_recipient
from feedback.services.followup_eval import CompiledRule, Plan, legacy_compile, rules_plan
from feedback.services.followup_spec import template_render
from surveys.choices import QuestionType
from surveys.models import Answer, Response
from surveys.reactions import QUIET, Rider, StoredResponse
from surveys.sentiment import sentiment_score


@dataclass(frozen=True)
class Rule:
    """A rule of the first release's shape: the defaults are written so."""

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
_DEFAULTS_COMPILED = tuple(
    legacy_compile(
        condition=r.condition,
        threshold=r.threshold,
        choice_id=r.choice_id,
        email_respondent=r.email_respondent,
        alert_staff=r.alert_staff,
        open_case=r.open_case,
    )
    for r in DEFAULT_RULES
)
# The legacy `conditions` filter of followup_apply, as the kinds of condition it names.
_KINDS_OF = {
    Condition.NPS_AT_MOST: RuleConditionKind.SCORE,
    Condition.STARS_AT_MOST: RuleConditionKind.SCORE,
    Condition.SENTIMENT_BELOW: RuleConditionKind.SENTIMENT,
    Condition.CHOICE_SELECTED: RuleConditionKind.CHOICE,
}
# Called with (response, case, rules) for each response a rule with "webhook" matched:
# the hook point for the webhook action (nothing is registered yet).
RULE_WEBHOOK_HOOKS: list[Callable[..., None]] = []


def followup_rules(*, response: Response) -> tuple[CompiledRule, ...]:
    """The organisation's active rules whose surveys include the response's, in order;
    the defaults when there are none."""
    organisation = response.organisation if Response.organisation.is_cached(response) else None
    rows = organisation_rules(organisation_id=response.organisation_id, organisation=organisation)
    own = tuple(
        rule
        for rule in rows
        if not rule.scope.get("surveys") or response.survey_id in rule.scope["surveys"]
    )
    return own or _DEFAULTS_COMPILED


def _round_robin_next(*, rule_pk: int, members: list[int]) -> int:
    """The member whose turn it is; one UPDATE moves the rule's cursor (and locks its row
    until the submit commits, so concurrent answers take successive turns)."""
    FollowUpRule.objects.filter(pk=rule_pk).update(round_robin_cursor=F("round_robin_cursor") + 1)
    cursor = FollowUpRule.objects.filter(pk=rule_pk).values_list("round_robin_cursor", flat=True)[0]
    return members[(cursor - 1) % len(members)]


_PICKS = frozenset(
    {RuleAssignment.PERSON, RuleAssignment.LOCATION_MANAGER, RuleAssignment.ROUND_ROBIN}
)


def case_route(
    *, plan: Plan, response: Response, advance: bool = True
) -> tuple[int | None, int | None]:
    """(team id, assignee id) the plan's case goes to. Only staff who work cases in the
    organisation are given cases; with nobody eligible the case stays with the team.
    `advance=False` tells whose turn it is without taking it (for "Test this rule")."""
    spec = plan.case or {}
    team_id = spec.get("team")
    assign = spec.get("assign") or ""
    if assign not in _PICKS:
        # Nobody to pick (most plans): no query to build on an answer's path.
        return team_id, None
    workers = (
        StaffRole.objects.for_organisation(response.organisation_id)
        .filter(role__in=WORK_CASES_ROLES, user__is_active=True)
        .values_list("user_id", flat=True)
    )
    if assign == RuleAssignment.PERSON and spec.get("person"):
        return team_id, spec["person"] if workers.filter(user_id=spec["person"]).exists() else None
    if assign == RuleAssignment.LOCATION_MANAGER and response.location_id:
        manager = (
            Location.objects.filter(pk=response.location_id).values_list("manager_id", flat=True)
        ).first()
        return team_id, manager if manager and workers.filter(user_id=manager).exists() else None
    if assign == RuleAssignment.ROUND_ROBIN and team_id and plan.case_rule is not None:
        members = sorted(
            Team.objects.for_organisation(response.organisation_id)
            .filter(pk=team_id, members__in=workers)
            .values_list("members", flat=True)
        )
        if not members or plan.case_rule.pk is None:
            return team_id, None
        if not advance:
            cursor = (
                FollowUpRule.objects.filter(pk=plan.case_rule.pk)
                .values_list("round_robin_cursor", flat=True)
                .first()
                or 0
            )
            return team_id, members[cursor % len(members)]
        return team_id, _round_robin_next(rule_pk=plan.case_rule.pk, members=members)
    return team_id, None


def _case_open_routed(
    *, plan: Plan, response: Response, reasons: list[Reason], priority: str, at, new_response: bool
) -> Case:
    existed = not new_response and Case.objects.filter(response_id=response.pk).exists()
    if existed:
        return case_open(response=response, reasons=reasons, priority=priority, at=at)
    team_id, assignee_id = case_route(plan=plan, response=response)
    return case_open(
        response=response,
        reasons=reasons,
        priority=priority,
        at=at,
        new_response=new_response,
        team_id=team_id,
        assignee_id=assignee_id,
    )


def _auto_priority(answers: list[Answer]) -> str:
    detractor = any(
        a.question_type == QuestionType.NPS and a.number is not None and a.number <= 3
        for a in answers
    )
    return CasePriority.HIGH if detractor else CasePriority.NORMAL


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
    plan: Plan | None = None,
) -> Case | None:
    """Apply the follow-up rules to a response: open its case, queue its email and alerts,
    once.

    `conditions` limits which rules are applied to those with a condition of those kinds
    (the sentiment task applies only sentiment rules: the others already ran when the
    response was stored). The email goes only to a respondent who ticked consent-to-contact
    and is not anonymous; a second call finds the case and the email already there. `at`
    is the time a case records (a pooled anonymous answer's batch time, not the moment of
    release). `new_response` says the response was written in this transaction, so it can
    have no case or email yet and neither is looked up; `consent_just_given` that its
    consent was recorded in this transaction too, so it is not read back. `plan`: what
    the rules do for it, worked out beforehand with `answers` (response_prepare).
    """
    if plan is None:
        rules = followup_rules(response=response)
        if conditions is not None:
            kinds = {_KINDS_OF.get(c, c) for c in conditions}
            rules = tuple(rule for rule in rules if rule.kinds() & kinds)
        if not rules:
            return None
        if answers is None:
            answers = list(response.answers.all())
        if choice_ids is None and any(RuleConditionKind.CHOICE in r.kinds() for r in rules):
            choice_ids = set(
                Answer.choices.through.objects.filter(answer__response=response).values_list(
                    "choice_id", flat=True
                )
            )
        plan = rules_plan(
            rules=rules, response=response, answers=answers, choice_ids=choice_ids or set()
        )
    if not plan.matched:
        return None
    # For an answer from a request, scores speak first: the case names what the score and
    # choice rules found, and a comment's sentiment only when they found nothing, as when
    # the comment was scored by a later task (the rows a submit writes did not change when
    # scoring moved inline). A batch from the pool was always judged on everything at once.
    why = plan.reasons(scores_first=scores_first)
    case = None
    if plan.case is not None:
        case = _case_open_routed(
            plan=plan,
            response=response,
            reasons=why,
            priority=plan.case.get("priority") or _auto_priority(answers),
            at=at,
            new_response=new_response,
        )
    if plan.email is not None:
        followup_email_queue(
            response=response,
            case=case,
            new_response=new_response,
            consent_just_given=consent_just_given,
            email=plan.email,
        )
    if plan.immediate_alert:
        staff_alert_queue(response=response, case=case, reasons=why)
    for rule in plan.digest_rules:
        alert_intent_record(response=response, case=case, rule=rule, reasons=why, at=at)
    if plan.webhook_rules:
        for hook in RULE_WEBHOOK_HOOKS:
            hook(response=response, case=case, rules=plan.webhook_rules)
    return case


def alert_intent_record(
    *, response: Response, case: Case | None, rule: CompiledRule, reasons: list[Reason], at=None
) -> None:
    """Keep a rule's "alert in the digest" for the digest builder, once per response and rule."""
    row = {
        "organisation_id": response.organisation_id,
        "rule_id": rule.pk,
        "response_id": response.pk,
        "case_id": case.pk if case else None,
        "mode": RuleAlert.DIGEST,
        "reasons": reasons,
        "created_at": at or timezone.now(),
        "digested_at": None,
    }
    insert_rows(RuleAlertIntent, [row], conflict=("response", "rule"))


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
    email: dict[str, Any] | None = None,
) -> OutboundEmail | None:
    """Queue the follow-up email to the respondent once per response, or None when we must
    not write: see followup_recipient, and, when the organisation counts follow-ups in its
    contact limit, a person written to recently about another survey.

    `email` is the matching rule's email action: its template in the response's language
    (else the standard email) and its delay (the outbox holds the email until then).
    Like every email to a member it carries one-click unsubscribe (RFC 8058 headers and a
    link in the text); it comes from the organisation's sender name, and replies go to
    its reply address, or the case's own when inbound mail is set up.
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
    context = {
        "organisation_name": organisation.name,
        "survey_title": survey.title.get(response.language) or survey.title_text,
        "name": response.member.name if response.member_id else "",
        "case_id": case.pk if case else None,
        # A reply reaches someone: the organisation's own reply address, or the case.
        "can_reply": bool(
            organisation.reply_to_email or (case is not None and settings.INBOUND_REPLY_DOMAIN)
        ),
        # The signed page for a customer whose mail program makes replying awkward.
        "reply_url": reply_link(case=case) if case is not None else "",
        "unsubscribe_url": unsubscribe,
        SURVEY_KEY: survey.pk,
    }
    headers = {
        **unsubscribe_headers(url=unsubscribe),
        **sender_headers(organisation=organisation),
        **(reply_headers(case=case) if case is not None else {}),
    }
    extra: dict[str, Any] = {}
    delay = (email or {}).get("delay_minutes") or 0
    if delay:
        extra["send_after"] = timezone.now() + timedelta(minutes=delay)
    own = ((email or {}).get("templates") or {}).get(response.language)
    if own:
        return _own_email_write(
            response=response,
            recipient=recipient,
            template=own,
            context=context,
            headers=headers,
            new_response=new_response,
            **extra,
        )
    return outbox_enqueue(
        organisation=organisation,
        to_email=recipient,
        template="followup",
        language=response.language,
        context=context,
        headers=headers,
        idempotency_key=f"followup:response:{response.pk}",
        new_key=new_response,
        unless_suppressed=new_response,
        **extra,
    )


def followup_email_render(
    *, template: dict[str, str], context: dict[str, Any], language: str
) -> tuple[str, str, str]:
    """(subject, text, html) of a staff-written follow-up: their subject and text rendered
    in the sandbox (followup_spec), inside the standard frame with the unsubscribe link."""
    values = {**context, "location_name": context.get("location_name", "")}
    subject = " ".join(template_render(template["subject"], values, html=False).split())
    body = template_render(template["body"], values, html=False)
    with translation.override(language):
        # The staff's text is text, not markup: the HTML part escapes all of it.
        frame = {**context, "text": body, "html": mark_safe(escape(body).replace("\n", "<br>"))}
        text = render_to_string("feedback/emails/followup_own_body.txt", frame, using="text")
        html = render_to_string("feedback/emails/followup_own_body.html", frame)
    return subject, text, html


def _own_email_write(
    *,
    response: Response,
    recipient: str,
    template: dict[str, str],
    context: dict[str, Any],
    headers: dict[str, str],
    new_response: bool,
    **extra: Any,
) -> OutboundEmail | None:
    key = f"followup:response:{response.pk}"
    if not new_response:
        existing = OutboundEmail.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    context = {
        **context,
        "location_name": response.location.name if response.location_id else "",
    }
    subject, text, html = followup_email_render(
        template=template, context=context, language=response.language
    )
    return outbox_write(
        idempotency_key=key,
        organisation=response.organisation,
        to_email=recipient,
        template="followup_own",
        context=context,
        language=response.language,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=headers,
        unless_suppressed=new_response,
        **extra,
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


def response_stored(stored: StoredResponse, prepared: Plan | None = None) -> None:
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
            plan=prepared,
        )


def response_prepare(draft: StoredResponse) -> Plan | None:
    """What the rules do for a response nobody is known to have given (a kiosk, a public
    link), worked out before it is written (surveys.reactions): response_stored's
    `prepared`. None for a member's: a rule's segment is read in the answer's transaction,
    after the member's side of it (activity, points) is written."""
    response = draft.response
    if not draft.answers or response.member_id is not None:
        return None
    return rules_plan(
        rules=followup_rules(response=response),
        response=response,
        answers=draft.answers,
        choice_ids=draft.choice_ids,
    )


def response_ride(draft: StoredResponse, prefix: str) -> Rider | None:
    """What response_stored would write for this response, said before it is written
    (surveys.reactions): nothing (QUIET) when no rule matches it; its case and the case's
    "opened" event (a Rider, as case_open writes them) when a rule opens a case and nothing
    else would be written; None when something else would be (an email to a respondent who
    may be written to, an alert, a digest or webhook action, a person picked for the case,
    a case.opened webhook), which then runs after the response in its transaction."""
    if not draft.answers:
        return QUIET
    response = draft.response
    rules = followup_rules(response=response)
    if not rules:
        return QUIET
    plan = rules_plan(
        rules=rules, response=response, answers=draft.answers, choice_ids=draft.choice_ids
    )
    if not plan.matched:
        return QUIET
    # followup_recipient's first test, which reads nothing: nobody to write to.
    emails = plan.email is not None and response.consent_to_contact and not response.is_anonymous
    if (
        plan.case is None
        or emails
        or plan.immediate_alert
        or plan.digest_rules
        or plan.webhook_rules
        or (plan.case.get("assign") or "") in _PICKS
    ):
        return None
    return case_open_rider(
        response=response,
        reasons=plan.reasons(scores_first=not draft.pooled),
        priority=plan.case.get("priority") or _auto_priority(draft.answers),
        at=_derived_time(response),
        team_id=plan.case.get("team"),
        prefix=prefix,
    )
