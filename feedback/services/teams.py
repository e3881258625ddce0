"""The organisation's case settings, kept by owners and admins: teams (a name, a lead and
members who work cases), the root causes resolved cases are filed under, and the service
levels (business hours and a first-response and resolution target per priority)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.models import Organisation, StaffRole, User
from communities.permissions import WORK_CASES_ROLES
from communities.services.audit import audit_record
from feedback.choices import CasePriority
from feedback.models import BusinessHours, RootCause, SlaPolicy, Team

# A target longer than a year of business minutes is a typo, not a service level.
SLA_MINUTES_MAX = 365 * 24 * 60


def _case_workers(*, organisation: Organisation, users: Iterable[User]) -> list[User]:
    """`users`, each checked to work cases in the organisation, else ValidationError."""
    users = list(users)
    ids = {user.pk for user in users}
    allowed = set(
        StaffRole.objects.for_organisation(organisation)
        .filter(user_id__in=ids, role__in=WORK_CASES_ROLES, user__is_active=True)
        .values_list("user_id", flat=True)
    )
    if ids - allowed:
        raise ValidationError(
            _("Pick people of this organisation who work cases (an owner, admin or agent)."),
            code="not_case_staff",
        )
    return users


@transaction.atomic
def team_save(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str,
    lead: User | None,
    members: Iterable[User],
    team: Team | None = None,
) -> Team:
    """Create a team (or update `team`): a name unique in the organisation, a lead and
    members who work cases there (the lead is made a member). ValidationError on "name",
    "lead" or "members" otherwise; audited."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Name the team in 1 to 100 characters.")})
    clash = Team.objects.for_organisation(organisation).filter(name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError(
            {"name": ValidationError(_("A team of that name exists."), code="unique")}
        )
    members = list(members)
    try:
        _case_workers(organisation=organisation, users=members)
    except ValidationError as exc:
        raise ValidationError({"members": exc}) from None
    if lead is not None:
        try:
            _case_workers(organisation=organisation, users=[lead])
        except ValidationError as exc:
            raise ValidationError({"lead": exc}) from None
        if lead.pk not in {m.pk for m in members}:
            members.append(lead)
    before = None
    if team is None:
        team = Team(organisation=organisation)
    else:
        before = {"name": team.name, "lead": team.lead}
    team.name, team.lead = name, lead
    team.full_clean(exclude=["organisation", "lead", "members"])
    team.save()
    team.members.set(members)
    audit_record(
        organisation=organisation,
        actor=actor,
        action="team.save",
        target=team,
        target_type="team",
        changes={
            "name": [before["name"] if before else None, name],
            "lead": [before["lead"] if before else None, lead],
        },
    )
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: User | None) -> None:
    """Delete the team; its cases stay, with no team. Audited."""
    audit_record(
        organisation=team.organisation,
        actor=actor,
        action="team.delete",
        target_type="team",
        target_id=str(team.pk),
        target_label=team.name,
    )
    team.delete()


@transaction.atomic
def root_cause_save(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str,
    active: bool = True,
    root_cause: RootCause | None = None,
) -> RootCause:
    """Add a root cause to the organisation's list (or rename / retire `root_cause`): a
    name unique in the organisation, else ValidationError on "name". Audited."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Name the root cause in 1 to 100 characters.")})
    clash = RootCause.objects.for_organisation(organisation).filter(name__iexact=name)
    if root_cause is not None:
        clash = clash.exclude(pk=root_cause.pk)
    if clash.exists():
        raise ValidationError(
            {"name": ValidationError(_("A root cause of that name exists."), code="unique")}
        )
    before = (root_cause.name, root_cause.active) if root_cause else (None, None)
    root_cause = root_cause or RootCause(organisation=organisation)
    root_cause.name, root_cause.active = name, active
    root_cause.save()
    audit_record(
        organisation=organisation,
        actor=actor,
        action="root_cause.save",
        target=root_cause,
        target_type="root_cause",
        changes={"name": [before[0], name], "active": [before[1], active]},
    )
    return root_cause


@transaction.atomic
def service_levels_save(
    *,
    organisation: Organisation,
    actor: User | None,
    days: Iterable[int],
    opens: dt.time,
    closes: dt.time,
    targets: dict[str, tuple[int, int]],
) -> None:
    """Set the organisation's business hours and, per priority, its (first response,
    resolution) targets in business minutes. Hours that close before they open, no
    working day, or a first response target longer than the resolution target is a
    ValidationError; cases already open keep the due times they were given. Audited."""
    days = sorted({int(d) for d in days})
    if not days or any(d < 1 or d > 7 for d in days):
        raise ValidationError({"days": _("Pick at least one working day.")})
    if opens >= closes:
        raise ValidationError({"closes": _("Close after opening, on the same day.")})
    for priority, (first, resolution) in targets.items():
        if first > resolution:
            raise ValidationError(
                {
                    f"{priority}_first_response": _(
                        "The first response must be due no later than the resolution."
                    )
                }
            )
    BusinessHours.objects.update_or_create(
        organisation=organisation, defaults={"days": days, "opens": opens, "closes": closes}
    )
    for priority, (first, resolution) in targets.items():
        policy, _created = SlaPolicy.objects.get_or_create(
            organisation=organisation,
            priority=priority,
            defaults={"first_response_minutes": first, "resolution_minutes": resolution},
        )
        policy.first_response_minutes, policy.resolution_minutes = first, resolution
        policy.full_clean(exclude=["organisation"])
        policy.save()
    audit_record(
        organisation=organisation,
        actor=actor,
        action="sla.save",
        changes={
            "business_hours": [None, f"{days} {opens:%H:%M}-{closes:%H:%M}"],
            "targets": [None, {p: list(t) for p, t in targets.items()}],
        },
    )


@transaction.atomic
def root_cause_delete(*, root_cause: RootCause, actor: User | None) -> None:
    """Delete a root cause no case is filed under; one that is is retired instead (its
    cases keep it), else ValidationError code "in_use". Audited."""
    if root_cause.cases.exists():
        raise ValidationError(
            _("Cases are filed under this root cause: retire it (active: false) instead."),
            code="in_use",
        )
    audit_record(
        organisation=root_cause.organisation,
        actor=actor,
        action="root_cause.delete",
        target_type="root_cause",
        target_id=str(root_cause.pk),
        target_label=root_cause.name,
    )
    root_cause.delete()


@transaction.atomic
def sla_policy_save(
    *,
    organisation: Organisation,
    actor: User | None,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
) -> tuple[SlaPolicy, bool]:
    """Set `priority`'s (first response, resolution) targets in business minutes, 1 to
    SLA_MINUTES_MAX with the first response no later than the resolution, else
    ValidationError on the field; (the policy, whether it was created). Cases already open
    keep their due times. Audited."""
    if priority not in CasePriority.values:
        raise ValidationError(
            {"priority": ValidationError(_("Not a case priority."), code="invalid_choice")}
        )
    for field, value in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if not 1 <= value <= SLA_MINUTES_MAX:
            raise ValidationError({field: _("Give 1 to %(n)s minutes.") % {"n": SLA_MINUTES_MAX}})
    if first_response_minutes > resolution_minutes:
        raise ValidationError(
            {
                "first_response_minutes": _(
                    "The first response must be due no later than the resolution."
                )
            }
        )
    policy = (
        SlaPolicy.objects.select_for_update()
        .filter(organisation=organisation, priority=priority)
        .first()
    )
    created = policy is None
    before = [None, None] if created else [policy.first_response_minutes, policy.resolution_minutes]
    policy = policy or SlaPolicy(organisation=organisation, priority=priority)
    policy.first_response_minutes = first_response_minutes
    policy.resolution_minutes = resolution_minutes
    policy.save()
    audit_record(
        organisation=organisation,
        actor=actor,
        action="sla_policy.save",
        changes={
            "priority": [None if created else priority, priority],
            "targets": [before, [first_response_minutes, resolution_minutes]],
        },
    )
    return policy, created


@transaction.atomic
def sla_policy_delete(*, policy: SlaPolicy, actor: User | None) -> None:
    """Remove the priority's own targets: its cases fall back to the defaults
    (CASES_SLA_DEFAULTS) from the next case opened. Audited."""
    audit_record(
        organisation=policy.organisation,
        actor=actor,
        action="sla_policy.delete",
        changes={
            "priority": [policy.priority, None],
            "targets": [[policy.first_response_minutes, policy.resolution_minutes], None],
        },
    )
    policy.delete()
