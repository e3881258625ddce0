"""Earning rules: what joining, completing the profile, a referral and a poll vote earn,
and staff's edits of a community's rules, expiry policy and tiers.

Each award is idempotent on a key naming its cause ("joined:<member>",
"profile:<member>", "referral:<referrer>:<referred>"), so a moment announced twice earns
once. communities announces its moments through communities.signals (it may not import
this layer); the receivers here are one call each, connected in RewardsConfig.ready.
A community without a RewardsPolicy, or with a rule at 0, earns nothing for it.

An award's entry names its cause as data: the reason code, a source "app.model:id" and
nothing personal in `detail` (the ledger outlives an erasure), and never a response.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Community, Member, User
from communities.services import MEMBER_CURRENT_STATUSES, audit_record, audit_register
from communities.services.common import unique_save
from rewards.choices import LedgerReason, TierBasis
from rewards.models import LedgerEntry, RewardsPolicy, Tier
from rewards.services.ledger import points_award

# --- awards -----------------------------------------------------------------------------------


def _policy(*, community_id: int) -> RewardsPolicy | None:
    return RewardsPolicy.objects.filter(community_id=community_id).first()


def poll_points_for(*, community: Community) -> int:
    """The points a vote earns in a poll without points of its own: the community's rule,
    read through `community.rewards_policy` (joined by the caller's query when it can be,
    so the answering path spends no query on it); 0 without a policy."""
    # A missing one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    policy = getattr(community, "rewards_policy", None)
    return policy.poll_points if policy is not None else 0


def _rule_award(
    *, member: Member, rule: str, reason: str, key: str, recipient: Member | None = None
) -> LedgerEntry | None:
    """The points the community's rule `rule` (a RewardsPolicy field) gives for something
    `member` did, to `recipient` (the member by default), once per key; None when the rules
    give none or they were given already."""
    policy = _policy(community_id=member.community_id)
    points = getattr(policy, rule) if policy is not None else 0
    if not points:
        return None
    entry, created = points_award(
        member=recipient or member,
        points=points,
        reason=reason,
        source=f"communities.member:{member.pk}",
        idempotency_key=key,
    )
    return entry if created else None


def join_points_award(*, member: Member) -> LedgerEntry | None:
    """Welcome points for a member who just confirmed, once per member; None when the
    community's rules give none (or they were given already)."""
    return _rule_award(
        member=member, rule="join_points", reason=LedgerReason.JOINED, key=f"joined:{member.pk}"
    )


def referral_points_award(*, member: Member) -> LedgerEntry | None:
    """Referral points to whoever referred `member`, who just confirmed: once per referred
    person, and only to a referrer still in the community. The entry says a friend joined,
    not who: the referred member's name would outlive their erasure in the ledger."""
    if member.referred_by_id is None or member.referred_by_id == member.pk:
        return None
    referrer = Member.objects.filter(
        pk=member.referred_by_id,
        community_id=member.community_id,
        status__in=MEMBER_CURRENT_STATUSES,
    ).first()
    if referrer is None:
        return None
    return _rule_award(
        member=member,
        recipient=referrer,
        rule="referral_points",
        reason=LedgerReason.REFERRAL,
        key=f"referral:{referrer.pk}:{member.pk}",
    )


def profile_points_award(*, member: Member) -> LedgerEntry | None:
    """Points for a completed profile (communities decides what complete means), once per
    member; None when the rules give none or they were given already."""
    if member.status not in MEMBER_CURRENT_STATUSES:
        return None
    return _rule_award(
        member=member,
        rule="profile_points",
        reason=LedgerReason.PROFILE_COMPLETED,
        key=f"profile:{member.pk}",
    )


def member_confirmed_receive(*, member: Member, **_signal: Any) -> None:
    """communities.signals.member_confirmed: welcome points, and the referrer's."""
    join_points_award(member=member)
    referral_points_award(member=member)


def member_profile_completed_receive(*, member: Member, **_signal: Any) -> None:
    """communities.signals.member_profile_completed: profile points."""
    profile_points_award(member=member)


# --- staff edits: the policy ----------------------------------------------------------------

POINTS_MAX = 1_000_000
EXPIRY_MONTHS_MAX = 120
NOTICE_DAYS_MAX = 365
WINDOW_MONTHS_MAX = 120
# The shortest month: a warning must come before the points could expire.
DAYS_IN_SHORTEST_MONTH = 28
POLICY_FIELDS = (
    "join_points",
    "profile_points",
    "referral_points",
    "poll_points",
    "expiry_months",
    "warning_days",
    "last_chance_days",
    "tier_basis",
    "tier_window_months",
)

AUDIT_ACTIONS = {
    "rewards_policy.update": gettext_lazy("Rewards policy changed"),
    "tier.create": gettext_lazy("Tier created"),
    "tier.update": gettext_lazy("Tier changed"),
    "tier.delete": gettext_lazy("Tier deleted"),
}


def policy_audit_register() -> None:
    """Name the audit codes and targets of these edits (RewardsConfig.ready)."""
    audit_register(
        actions=AUDIT_ACTIONS,
        targets={"rewards_policy": RewardsPolicy, "tier": Tier},
        target_labels={
            "rewards_policy": gettext_lazy("Rewards policy"),
            "tier": gettext_lazy("Tier"),
        },
    )


def policy_for(*, community: Community) -> RewardsPolicy:
    """The community's policy, or an unsaved one with the defaults (earn nothing extra,
    never expire) when staff have not set one."""
    policy = _policy(community_id=community.pk)
    if policy is None:
        policy = RewardsPolicy(organisation_id=community.organisation_id, community=community)
    return policy


def _whole(value: Any, *, low: int, high: int, field: str, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = [_("Enter a whole number.")]
        return None
    if not low <= value <= high:
        errors[field] = [
            _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        ]
        return None
    return value


def _policy_clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in ("join_points", "profile_points", "referral_points", "poll_points"):
        clean[name] = _whole(fields.get(name), low=0, high=POINTS_MAX, field=name, errors=errors)
    expiry = fields.get("expiry_months")
    clean["expiry_months"] = (
        None
        if expiry is None
        else _whole(expiry, low=1, high=EXPIRY_MONTHS_MAX, field="expiry_months", errors=errors)
    )
    for name in ("warning_days", "last_chance_days"):
        clean[name] = _whole(
            fields.get(name), low=1, high=NOTICE_DAYS_MAX, field=name, errors=errors
        )
    basis = fields.get("tier_basis")
    if basis not in TierBasis.values:
        errors["tier_basis"] = [_("Choose how tiers count points.")]
    clean["tier_basis"] = basis
    clean["tier_window_months"] = _whole(
        fields.get("tier_window_months"),
        low=1,
        high=WINDOW_MONTHS_MAX,
        field="tier_window_months",
        errors=errors,
    )
    warning, last_chance = clean["warning_days"], clean["last_chance_days"]
    if warning is not None and last_chance is not None and last_chance >= warning:
        errors.setdefault("last_chance_days", []).append(
            _("The last-chance email must come after the warning: fewer days before expiry.")
        )
    months = clean["expiry_months"]
    if months and warning is not None and warning >= months * DAYS_IN_SHORTEST_MONTH:
        errors.setdefault("warning_days", []).append(
            _("The warning must come before points can expire: fewer days than the expiry period.")
        )
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def rewards_policy_update(*, community: Community, actor: User, **fields: Any) -> RewardsPolicy:
    """Set a community's earning rules, expiry and tier basis (made on first save), all
    fields validated; the change is audited with each field's value before and after."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    clean = _policy_clean(fields)
    policy = RewardsPolicy.objects.select_for_update().filter(community=community).first()
    if policy is None:
        policy, _created = RewardsPolicy.objects.get_or_create(
            community=community, defaults={"organisation_id": community.organisation_id}
        )
        policy = RewardsPolicy.objects.select_for_update().get(pk=policy.pk)
    before = {name: getattr(policy, name) for name in POLICY_FIELDS}
    for name, value in clean.items():
        setattr(policy, name, value)
    policy.full_clean(exclude=["organisation", "community"])
    policy.save()
    audit_record(
        organisation=community.organisation,
        actor=actor,
        action="rewards_policy.update",
        target_type="rewards_policy",
        target_id=str(policy.pk),
        target_label=community.name,
        changes={name: (before[name], clean[name]) for name in POLICY_FIELDS},
    )
    return policy


# --- staff edits: tiers ---------------------------------------------------------------------

TIER_NAME_MAX = 100
THRESHOLD_MAX = 100_000_000
DISCOUNT_MAX = 90


def tier_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _tier_clean(
    *, community: Community, names: dict[str, Any], threshold: Any, discount_percent: Any
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean_names: dict[str, str] = {}
    for language in tier_languages():
        text = " ".join(str(names.get(language) or "").split())
        if len(text) > TIER_NAME_MAX:
            errors[f"name_{language}"] = [
                _("Keep the name under %(limit)d characters.") % {"limit": TIER_NAME_MAX}
            ]
        elif text:
            clean_names[language] = text
    default = community.organisation.default_language
    if default in tier_languages() and default not in clean_names:
        errors.setdefault(f"name_{default}", []).append(
            _("Name the tier in the organisation's default language.")
        )
    if not clean_names and not errors:
        errors["names"] = [_("Name the tier.")]
    threshold = _whole(threshold, low=0, high=THRESHOLD_MAX, field="threshold", errors=errors)
    discount = _whole(
        discount_percent, low=0, high=DISCOUNT_MAX, field="discount_percent", errors=errors
    )
    if errors:
        raise ValidationError(errors)
    return {"names": clean_names, "threshold": threshold, "discount_percent": discount}


def _tier_threshold_free(*, community: Community, threshold: int, tier: Tier | None) -> None:
    taken = Tier.objects.filter(community=community, threshold=threshold)
    if tier is not None:
        taken = taken.exclude(pk=tier.pk)
    if taken.exists():
        raise ValidationError({"threshold": [_duplicate_message()]}, code="duplicate")


def _duplicate_message() -> str:
    return _("Another tier of this community starts at this many points; choose another.")


def _names_text(names: dict[str, str]) -> str:
    # The audit log keeps values flat: "en: Gold · th: ทอง".
    return " · ".join(f"{language}: {text}" for language, text in sorted(names.items()))


def _tier_audit(*, tier: Tier, actor: User, action: str, before: dict, after: dict) -> None:
    organisation = tier.community.organisation
    audit_record(
        organisation=organisation,
        actor=actor,
        action=action,
        target_type="tier",
        target_id=str(tier.pk),
        target_label=f"{tier.community.name}: {tier.name_in(organisation.default_language)}",
        changes={name: (before.get(name), after.get(name)) for name in before | after},
    )


def _tier_values(tier: Tier) -> dict[str, Any]:
    return {
        "names": _names_text(tier.names),
        "threshold": tier.threshold,
        "discount_percent": tier.discount_percent,
    }


@transaction.atomic
def tier_create(
    *,
    community: Community,
    actor: User,
    names: dict[str, Any],
    threshold: Any,
    discount_percent: Any,
) -> Tier:
    """Add a tier to a community: names per language (the organisation's default language
    required), a threshold no other tier of the community has, a discount of 0–90 %.
    Audited."""
    clean = _tier_clean(
        community=community, names=names, threshold=threshold, discount_percent=discount_percent
    )
    _tier_threshold_free(community=community, threshold=clean["threshold"], tier=None)
    tier = Tier(organisation_id=community.organisation_id, community=community, **clean)
    tier.full_clean(exclude=["organisation", "community"], validate_unique=False)
    unique_save(tier, field="threshold", message=_duplicate_message())
    _tier_audit(tier=tier, actor=actor, action="tier.create", before={}, after=_tier_values(tier))
    return tier


@transaction.atomic
def tier_update(
    *, tier: Tier, actor: User, names: dict[str, Any], threshold: Any, discount_percent: Any
) -> Tier:
    """Change a tier's names, threshold or discount, validated as `tier_create`; audited
    with the values before and after. Members' tiers follow at the next standings run."""
    community = tier.community
    clean = _tier_clean(
        community=community, names=names, threshold=threshold, discount_percent=discount_percent
    )
    _tier_threshold_free(community=community, threshold=clean["threshold"], tier=tier)
    before = _tier_values(tier)
    for name, value in clean.items():
        setattr(tier, name, value)
    tier.full_clean(exclude=["organisation", "community"], validate_unique=False)
    unique_save(tier, field="threshold", message=_duplicate_message())
    _tier_audit(
        tier=tier, actor=actor, action="tier.update", before=before, after=_tier_values(tier)
    )
    return tier


@transaction.atomic
def tier_delete(*, tier: Tier, actor: User) -> None:
    """Remove a tier; members in it have no tier until the next standings run places them.
    Audited with what it was."""
    _tier_audit(tier=tier, actor=actor, action="tier.delete", before=_tier_values(tier), after={})
    tier.delete()
