"""Staff's writes to their follow-up rules, each audited with its before and after, and
"Test this rule": what a rule would have done to the organisation's last responses.

Every write goes through `_rule_fields_clean` (feedback.services.followup_spec), so a
rule that names another organisation's question, an impossible range or a template with
an unknown variable is a ValidationError on the field, and nothing is written. A change
moves the organisation's updated_at (feedback.rules), so every process reads the rules
afresh on the next answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils.translation import gettext as _

from communities.models import Location, Organisation, Segment, StaffRole, User
from communities.permissions import WORK_CASES_ROLES
from communities.selectors import members_matching
from communities.services.audit import audit_record
from feedback.choices import RuleAssignment, RuleConditionKind
from feedback.models import FollowUpRule, Team
from feedback.reasons import Reason
from feedback.rules import CompiledRule, rules_forget
from feedback.services.contact import followup_recipient
from feedback.services.followup_eval import Facts, rules_plan
from feedback.services.followup_spec import (
    actions_clean,
    conditions_clean,
    match_clean,
    scope_clean,
)
from surveys.models import Answer, Response

TEST_RESPONSES = 200
NAME_MAX_LENGTH = FollowUpRule._meta.get_field("name").max_length
AUDITED = ("name", "active", "match", "stop", "scope", "conditions", "actions")


def _rule_fields_clean(
    *, organisation: Organisation, fields: dict[str, Any], exclude_pk: int | None = None
) -> dict[str, Any]:
    name = " ".join(str(fields.get("name") or "").split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "name": ValidationError(
                    _("Name the rule in 1 to %(n)s characters.") % {"n": NAME_MAX_LENGTH},
                    code="invalid_length",
                )
            }
        )
    # Staff tell rules apart by name (the list, the audit log): two of one name are refused.
    if (
        FollowUpRule.objects.for_organisation(organisation)
        .filter(name=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        raise ValidationError(
            {"name": ValidationError(_("Another rule has this name."), code="duplicate")}
        )
    return {
        "name": name,
        "active": bool(fields.get("active")),
        "match": match_clean(fields.get("match")),
        "stop": bool(fields.get("stop")),
        "scope": scope_clean(organisation=organisation, scope=fields.get("scope") or {}),
        "conditions": conditions_clean(
            organisation=organisation, conditions=fields.get("conditions")
        ),
        "actions": actions_clean(organisation=organisation, actions=fields.get("actions")),
    }


def _snapshot(rule: FollowUpRule) -> dict[str, Any]:
    """The rule's audited fields as the log keeps them (JSON as sorted text, readable
    without the row)."""
    return {
        name: json.dumps(getattr(rule, name), sort_keys=True, ensure_ascii=False)
        if isinstance(getattr(rule, name), dict | list)
        else getattr(rule, name)
        for name in AUDITED
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [before.get(name), after.get(name)] for name in after}


def rule_compile(*, organisation: Organisation, fields: dict[str, Any]) -> CompiledRule:
    """The rule the fields describe, checked, without saving it (for "Test this rule")."""
    cleaned = _rule_fields_clean(
        organisation=organisation, fields=fields, exclude_pk=fields.get("pk")
    )
    return CompiledRule(
        pk=fields.get("pk"),
        name=cleaned["name"],
        match=cleaned["match"],
        scope=cleaned["scope"],
        conditions=tuple(cleaned["conditions"]),
        actions=cleaned["actions"],
        stop=cleaned["stop"],
    )


@transaction.atomic
def rule_create(
    *, organisation: Organisation, actor: User | None, fields: dict[str, Any]
) -> FollowUpRule:
    """Add a rule after the organisation's others; audited ("followup_rule.create")."""
    cleaned = _rule_fields_clean(organisation=organisation, fields=fields)
    last = (
        FollowUpRule.objects.for_organisation(organisation)
        .select_for_update()
        .aggregate(last=Max("position"))["last"]
    )
    rule = FollowUpRule.objects.create(
        organisation=organisation, position=0 if last is None else last + 1, **cleaned
    )
    audit_record(
        organisation=organisation,
        actor=actor,
        action="followup_rule.create",
        target=rule,
        target_type="followup_rule",
        changes=_changes({}, _snapshot(rule)),
    )
    return rule


@transaction.atomic
def rule_update(*, rule: FollowUpRule, actor: User | None, fields: dict[str, Any]) -> FollowUpRule:
    """Change a rule; audited with what changed ("followup_rule.update"), nothing logged
    when nothing did."""
    locked = FollowUpRule.objects.select_for_update().get(
        pk=rule.pk, organisation_id=rule.organisation_id
    )
    cleaned = _rule_fields_clean(
        organisation=locked.organisation, fields=fields, exclude_pk=locked.pk
    )
    before = _snapshot(locked)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    locked.save()
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="followup_rule.update",
        target=locked,
        target_type="followup_rule",
        changes=_changes(before, _snapshot(locked)),
    )
    return locked


@transaction.atomic
def rule_delete(*, rule: FollowUpRule, actor: User | None) -> None:
    """Delete a rule; audited with everything it was ("followup_rule.delete")."""
    before = _snapshot(rule)
    organisation = rule.organisation
    audit_record(
        organisation=organisation,
        actor=actor,
        action="followup_rule.delete",
        target=rule,
        target_type="followup_rule",
        changes={name: [value, None] for name, value in before.items()},
    )
    rule.delete()


@transaction.atomic
def rule_move(*, rule: FollowUpRule, actor: User | None, up: bool) -> bool:
    """Swap the rule with the one before (up) or after it; False at either end. The
    positions are renumbered 0, 1, 2… so gaps and ties left by older rows go away."""
    rules = list(
        FollowUpRule.objects.for_organisation(rule.organisation_id)
        .select_for_update()
        .order_by("position", "pk")
    )
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rules):
        return False
    before = [r.pk for r in rules]
    rules[index], rules[other] = rules[other], rules[index]
    for position, row in enumerate(rules):
        row.position = position
    FollowUpRule.objects.bulk_update(rules, ["position"])
    rules_forget(organisation_id=rule.organisation_id)
    audit_record(
        organisation=rule.organisation,
        actor=actor,
        action="followup_rule.reorder",
        target=rule,
        target_type="followup_rule",
        changes={"position": [json.dumps(before), json.dumps([r.pk for r in rules])]},
    )
    return True


@dataclass
class TestRow:
    """One response the tested rule matched, and what the rule would do to it."""

    response: Response
    reasons: list[Reason]
    case: bool = False
    priority: str = ""
    team: str = ""
    assignee: str = ""
    email_language: str = ""
    email_refused: bool = False
    alert: str = ""
    webhook: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TestResult:
    checked: int
    rows: list[TestRow]


def _segment_members(rule: CompiledRule, responses: list[Response]) -> dict[int, set[int]]:
    """For each segment the rule names: which of these responses' members are in it, in one
    query per segment."""
    ids = {c["segment"] for c in rule.conditions if c.get("kind") == RuleConditionKind.SEGMENT}
    ids |= set(rule.scope.get("segments") or [])
    members = {r.member_id for r in responses if r.member_id}
    found: dict[int, set[int]] = {}
    for segment in Segment.objects.filter(pk__in=ids).select_related("community"):
        try:
            found[segment.pk] = set(
                members_matching(community=segment.community, filter=segment.filter)
                .filter(pk__in=members)
                .values_list("pk", flat=True)
            )
        except ValueError:
            found[segment.pk] = set()
    return found


def rule_test(
    *, organisation: Organisation, rule: CompiledRule, limit: int = TEST_RESPONSES
) -> TestResult:
    """Which of the organisation's last `limit` responses the rule matches, and what it
    would do to each: the case it would open (priority, team, who would get it, taking
    round-robin turns from the rule's cursor), whether the email could go and in which
    language, the alert. Reads only; nothing is written and no turn is taken."""
    responses = list(
        Response.objects.filter(organisation=organisation)
        .select_related("member", "invitation", "location", "channel", "survey")
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.order_by("pk")))
        .order_by("-submitted_at", "-pk")[:limit]
    )
    choices: dict[int, set[int]] = {}
    if RuleConditionKind.CHOICE in rule.kinds():
        for response_id, choice_id in Answer.choices.through.objects.filter(
            answer__response__in=[r.pk for r in responses]
        ).values_list("answer__response_id", "choice_id"):
            choices.setdefault(response_id, set()).add(choice_id)
    segments = _segment_members(rule, responses)
    case_spec = rule.actions.get("case") or {}
    team = (
        Team.objects.for_organisation(organisation).filter(pk=case_spec.get("team")).first()
        if case_spec.get("team")
        else None
    )
    turns: list[User] = []
    if team is not None and case_spec.get("assign") == RuleAssignment.ROUND_ROBIN:
        workers = StaffRole.objects.for_organisation(organisation).filter(
            role__in=WORK_CASES_ROLES, user__is_active=True
        )
        turns = list(team.members.filter(pk__in=workers.values("user_id")).order_by("pk"))
    cursor = 0
    if turns and rule.pk:
        cursor = (
            FollowUpRule.objects.filter(pk=rule.pk, organisation=organisation)
            .values_list("round_robin_cursor", flat=True)
            .first()
            or 0
        )
    person = (
        User.objects.filter(pk=case_spec.get("person")).first()
        if case_spec.get("assign") == RuleAssignment.PERSON
        else None
    )
    rows: list[TestRow] = []
    for response in responses:
        facts = Facts(response, segment_members=segments)
        plan = rules_plan(
            rules=[rule],
            response=response,
            answers=list(response.answers.all()),
            choice_ids=choices.get(response.pk, set()),
            facts=facts,
        )
        if not plan.matched:
            continue
        row = TestRow(response=response, reasons=plan.reasons())
        if plan.case is not None:
            row.case = True
            row.priority = plan.case.get("priority") or ""
            row.team = team.name if team else ""
            if turns:
                chosen = turns[cursor % len(turns)]
                cursor += 1
                row.assignee = chosen.name or chosen.email
            elif person is not None:
                row.assignee = person.name or person.email
            elif case_spec.get("assign") == RuleAssignment.LOCATION_MANAGER:
                manager = (
                    Location.objects.filter(pk=response.location_id)
                    .select_related("manager")
                    .first()
                    if response.location_id
                    else None
                )
                if manager and manager.manager:
                    row.assignee = manager.manager.name or manager.manager.email
        if plan.email is not None:
            if followup_recipient(response=response):
                row.email_language = response.language
            else:
                row.email_refused = True
        row.alert = rule.actions.get("alert") or ""
        row.webhook = bool(plan.webhook_rules)
        rows.append(row)
    return TestResult(checked=len(responses), rows=rows)
