"""Which follow-up rules a response meets, and what they would do: read-only.

`rules_plan` holds one response against an ordered list of rules and returns a `Plan`
(the rules that matched, the reasons, and the merged actions) without writing anything:
followup_apply carries the plan out inside the submit's transaction, and "Test this rule"
shows it for the organisation's last responses. What a condition needs beyond the
answers (segment membership, the respondent's history, the channel's kind) is asked of a
`Facts` object, once per response and only when some rule asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from communities.models import Segment
from communities.selectors import members_matching
from feedback.choices import (
    Condition,
    RuleAlert,
    RuleConditionKind,
    RuleHistory,
    RuleMatch,
    RuleScoreKind,
)
from feedback.reasons import (
    CHOICE,
    CSAT,
    FIRST_RESPONSE,
    KEYWORDS,
    NPS,
    REPEAT_DETRACTOR,
    SCORE_RANGE,
    SEGMENT,
    SENTIMENT,
    STARS,
    Reason,
    reason_make,
)
from feedback.rules import CompiledRule
from feedback.services.followup_spec import SCORE_QUESTION_TYPES, text_fold
from surveys.choices import TEXT_TYPES, QuestionType
from surveys.models import Answer, Channel, Response

DETRACTOR_AT_MOST = 6


def legacy_compile(
    *,
    condition: str,
    threshold: float | None,
    choice_id: int | None,
    email_respondent: bool,
    alert_staff: bool,
    open_case: bool,
    pk: int | None = None,
) -> CompiledRule:
    """A rule of the first release (one condition, on/off actions) in today's shape; the
    defaults and migration 0006 read them so. "Stars" there included CSAT faces."""
    if condition == Condition.NPS_AT_MOST:
        conditions = [
            {"kind": "score", "score": "nps", "question": None, "min": None, "max": threshold}
        ]
    elif condition == Condition.STARS_AT_MOST:
        conditions = [
            {"kind": "score", "score": score, "question": None, "min": None, "max": threshold}
            for score in (RuleScoreKind.STARS, RuleScoreKind.CSAT)
        ]
    elif condition == Condition.SENTIMENT_BELOW:
        conditions = [{"kind": "sentiment", "below": threshold}]
    else:
        conditions = [{"kind": "choice", "choice": choice_id}]
    actions = {
        "case": {"priority": "", "team": None, "assign": "", "person": None} if open_case else None,
        "email": {"delay_minutes": 0, "templates": {}} if email_respondent else None,
        "alert": RuleAlert.IMMEDIATE if alert_staff else "",
        "webhook": False,
    }
    return CompiledRule(
        pk=pk,
        name="",
        match=RuleMatch.ANY,
        scope={},
        conditions=tuple(conditions),
        actions=actions,
    )


class Facts:
    """What conditions and scopes ask about a response beyond its answers, each read once."""

    def __init__(self, response: Response, *, segment_members: dict[int, set[int]] | None = None):
        self.response = response
        # Filled by a caller that checks many responses at once (rule_test): segment id ->
        # the ids of those responses' members in it.
        self._segment_members = segment_members
        self._segments: dict[int, bool] = {}
        self._folded: dict[int, str] = {}

    def folded(self, answer: Answer) -> str:
        """The answer's text folded for keywords, once however many rules look at it."""
        key = id(answer)
        if key not in self._folded:
            self._folded[key] = text_fold(answer.text)
        return self._folded[key]

    def in_segment(self, segment_id: int) -> bool:
        member_id = self.response.member_id
        if not member_id or self.response.is_anonymous:
            return False
        if self._segment_members is not None and segment_id in self._segment_members:
            return member_id in self._segment_members[segment_id]
        if segment_id not in self._segments:
            segment = (
                Segment.objects.for_organisation(self.response.organisation_id)
                .select_related("community")
                .filter(pk=segment_id)
                .first()
            )
            try:
                self._segments[segment_id] = bool(
                    segment
                    and members_matching(community=segment.community, filter=segment.filter)
                    .filter(pk=member_id)
                    .exists()
                )
            except ValueError:
                # A segment whose filter no longer reads selects nobody, never everybody.
                self._segments[segment_id] = False
        return self._segments[segment_id]

    @cached_property
    def earlier_detractor(self) -> bool | None:
        """Whether the respondent was a detractor before (None: no one to know about)."""
        member_id = self.response.member_id
        if not member_id or self.response.is_anonymous:
            return None
        return (
            Answer.objects.for_organisation(self.response.organisation_id)
            .filter(
                response__member_id=member_id,
                response__submitted_at__lt=self.response.submitted_at,
                question_type=QuestionType.NPS,
                number__lte=DETRACTOR_AT_MOST,
            )
            .exists()
        )

    @cached_property
    def first_response(self) -> bool | None:
        member_id = self.response.member_id
        if not member_id or self.response.is_anonymous:
            return None
        return not (
            Response.objects.filter(
                organisation_id=self.response.organisation_id,
                member_id=member_id,
                submitted_at__lt=self.response.submitted_at,
            )
            .exclude(pk=self.response.pk)
            .exists()
        )

    @cached_property
    def channel_kind(self) -> str | None:
        if not self.response.channel_id:
            return None
        if Response.channel.is_cached(self.response):
            return self.response.channel.kind
        return (
            Channel.objects.filter(pk=self.response.channel_id)
            .values_list("kind", flat=True)
            .first()
        )


def in_scope(rule: CompiledRule, response: Response, facts: Facts) -> bool:
    scope = rule.scope
    if scope.get("surveys") and response.survey_id not in scope["surveys"]:
        return False
    if scope.get("locations") and response.location_id not in scope["locations"]:
        return False
    if scope.get("channels") and facts.channel_kind not in scope["channels"]:
        return False
    segments = scope.get("segments")
    return not segments or any(facts.in_segment(s) for s in segments)


def _score_reason(condition: dict[str, Any], answer: Answer) -> Reason:
    code = {
        QuestionType.NPS: NPS,
        QuestionType.CSAT: CSAT,
        QuestionType.STAR: STARS,
    }.get(answer.question_type)
    if code is not None and condition.get("min") is None:
        return reason_make(
            code=code, question=answer.question_id, value=answer.number, threshold=condition["max"]
        )
    return reason_make(
        code=SCORE_RANGE,
        question=answer.question_id,
        value=answer.number,
        threshold=condition.get("max") if condition.get("max") is not None else condition["min"],
    )


def condition_reasons(
    condition: dict[str, Any], answers: list[Answer], choice_ids: set[int], facts: Facts
) -> list[Reason]:
    """Why the condition holds for the response (one reason per answer that meets it), or
    [] when it does not."""
    kind = condition.get("kind")
    if kind == RuleConditionKind.SCORE:
        types = SCORE_QUESTION_TYPES.get(condition.get("score"), frozenset())
        low, high = condition.get("min"), condition.get("max")
        return [
            _score_reason(condition, a)
            for a in answers
            if a.question_type in types
            and a.number is not None
            and (condition.get("question") is None or a.question_id == condition["question"])
            and (low is None or a.number >= low)
            and (high is None or a.number <= high)
        ]
    if kind == RuleConditionKind.SENTIMENT:
        return [
            reason_make(
                code=SENTIMENT,
                question=a.question_id,
                value=a.sentiment,
                threshold=condition["below"],
            )
            for a in answers
            if a.sentiment is not None and a.sentiment < condition["below"]
        ]
    if kind == RuleConditionKind.CHOICE:
        # The rule holds for the response (its choice was picked), not for each answer.
        return (
            [reason_make(code=CHOICE, value=condition["choice"])]
            if (condition["choice"] in choice_ids)
            else []
        )
    if kind == RuleConditionKind.KEYWORDS:
        return [
            reason_make(code=KEYWORDS, question=a.question_id)
            for a in answers
            if a.question_type in TEXT_TYPES
            and a.text
            and any(word in facts.folded(a) for word in condition["words"])
        ]
    if kind == RuleConditionKind.SEGMENT:
        return (
            [reason_make(code=SEGMENT, value=condition["segment"])]
            if facts.in_segment(condition["segment"])
            else []
        )
    if kind == RuleConditionKind.HISTORY:
        if condition.get("is") == RuleHistory.FIRST:
            return [reason_make(code=FIRST_RESPONSE)] if facts.first_response else []
        # A repeat detractor is one now as well as before.
        now = any(
            a.question_type == QuestionType.NPS
            and a.number is not None
            and a.number <= DETRACTOR_AT_MOST
            for a in answers
        )
        return [reason_make(code=REPEAT_DETRACTOR)] if now and facts.earlier_detractor else []
    return []


@dataclass
class RuleOutcome:
    rule: CompiledRule
    reasons: list[Reason]
    # Reasons of conditions other than sentiment (a score or a choice speaks first).
    decisive: list[Reason]


@dataclass
class Plan:
    """What the rules that matched a response would do, merged in rule order."""

    matched: list[RuleOutcome] = field(default_factory=list)
    case: dict[str, Any] | None = None
    case_rule: CompiledRule | None = None
    email: dict[str, Any] | None = None
    immediate_alert: bool = False
    digest_rules: list[CompiledRule] = field(default_factory=list)
    webhook_rules: list[CompiledRule] = field(default_factory=list)

    def reasons(self, *, scores_first: bool = False) -> list[Reason]:
        decisive = [r for o in self.matched for r in o.decisive] if scores_first else []
        why: list[Reason] = []
        for reason in decisive or [r for o in self.matched for r in o.reasons]:
            if reason not in why:
                why.append(reason)
        return why


def rule_outcome(
    rule: CompiledRule,
    response: Response,
    answers: list[Answer],
    choice_ids: set[int],
    facts: Facts,
) -> RuleOutcome | None:
    """The rule's verdict on the response: None when it is out of scope or does not hold."""
    if not rule.conditions or not in_scope(rule, response, facts):
        return None
    every = rule.match == RuleMatch.ALL
    results = []
    for condition in rule.conditions:
        reasons = condition_reasons(condition, answers, choice_ids, facts)
        if every and not reasons:
            # One condition failing settles "all": the rest (maybe a query) is not asked.
            return None
        results.append((condition, reasons))
    if not any(reasons for _c, reasons in results):
        return None
    reasons = [r for _c, rs in results for r in rs]
    decisive = [r for c, rs in results if c.get("kind") != RuleConditionKind.SENTIMENT for r in rs]
    return RuleOutcome(rule=rule, reasons=reasons, decisive=decisive)


def rules_plan(
    *,
    rules: list[CompiledRule] | tuple[CompiledRule, ...],
    response: Response,
    answers: list[Answer],
    choice_ids: set[int],
    facts: Facts | None = None,
) -> Plan:
    """Hold the response against the rules in order; a matching rule with `stop` ends it."""
    facts = facts or Facts(response)
    plan = Plan()
    for rule in rules:
        outcome = rule_outcome(rule, response, answers, choice_ids, facts)
        if outcome is None:
            continue
        plan.matched.append(outcome)
        actions = rule.actions
        if actions.get("case") is not None and plan.case is None:
            plan.case, plan.case_rule = actions["case"], rule
        if actions.get("email") is not None and plan.email is None:
            plan.email = actions["email"]
        if actions.get("alert") == RuleAlert.IMMEDIATE:
            plan.immediate_alert = True
        elif actions.get("alert") == RuleAlert.DIGEST:
            plan.digest_rules.append(rule)
        if actions.get("webhook"):
            plan.webhook_rules.append(rule)
        if rule.stop:
            break
    return plan
