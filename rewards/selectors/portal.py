"""What the member's own rewards pages read: the catalogue as this member sees it (their
price, what they can afford, what is gone), their redemptions, their ledger explained
line by line, and their tier and badges.

Every read is scoped to the member's organisation and community; a member only ever
reads their own rows. The voucher code of a redemption is put on the row only when the
member may see it (approved or fulfilled), so no template can show it by mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from communities.models import Member
from rewards.choices import REDEMPTION_COUNTED, LedgerReason, RedemptionStatus, RewardKind
from rewards.models import (
    LedgerEntry,
    MemberBadge,
    MemberStanding,
    Redemption,
    Reward,
    Tier,
    VoucherCode,
)

# Statuses in which a voucher's code is the member's to read.
CODE_SHOWN = (RedemptionStatus.APPROVED, RedemptionStatus.FULFILLED)


@dataclass(frozen=True)
class Loyalty:
    """A member's tier (None below the first) and badges, in their language."""

    tier: str | None
    discount_percent: int
    points_counted: int
    next_tier: str | None
    next_tier_needs: int
    badges: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogueItem:
    """One reward as one member sees it."""

    reward: Reward
    name: str
    description: str
    image_url: str
    cost: int
    # Items left; None means no limit.
    left: int | None
    out_of_stock: bool
    limit_reached: bool
    short_by: int

    @property
    def affordable(self) -> bool:
        return self.short_by == 0

    @property
    def can_redeem(self) -> bool:
        return self.affordable and not self.out_of_stock and not self.limit_reached


@dataclass(frozen=True)
class RedemptionRow:
    redemption: Redemption
    reward_name: str
    # Only set for an approved or fulfilled voucher redemption.
    code: str

    @property
    def cancellable(self) -> bool:
        return self.redemption.status == RedemptionStatus.REQUESTED


def member_discount_percent(*, member: Member) -> int:
    """The member's tier discount on reward costs (0 below the first tier)."""
    return (
        MemberStanding.objects.filter(member_id=member.pk, tier__isnull=False)
        .values_list("tier__discount_percent", flat=True)
        .first()
    ) or 0


def cost_after_discount(*, cost: int, discount_percent: int) -> int:
    # The one price rule (rewards.services.reward_cost_for uses it too): a discount
    # rounds in the community's favour and never makes a reward free.
    return max(1, math.ceil(cost * (100 - discount_percent) / 100))


def offered_rewards(*, member: Member) -> QuerySet[Reward]:
    """Every reward of the member's organisation offered to their community (active or
    not): what a member may open by id. Anything else answers 404."""
    return Reward.objects.for_organisation(member.organisation_id).filter(
        Q(community_id=member.community_id) | Q(community__isnull=True)
    )


def _with_member_counts(rewards: QuerySet[Reward], *, member: Member) -> QuerySet[Reward]:
    # Subqueries, not joins: a join of a reward's codes with its redemptions would grow
    # as their product.
    taken = (
        Redemption.objects.filter(
            reward=OuterRef("pk"), member_id=member.pk, status__in=REDEMPTION_COUNTED
        )
        .order_by()
        .values("reward")
        .annotate(n=Count("pk"))
        .values("n")
    )
    free = (
        VoucherCode.objects.filter(reward=OuterRef("pk"), redemption__isnull=True)
        .order_by()
        .values("reward")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return rewards.annotate(
        taken_by_member=Coalesce(Subquery(taken), 0),
        free_codes=Coalesce(Subquery(free), 0),
    )


def _item(reward: Reward, *, language: str, discount: int, balance: int) -> CatalogueItem:
    cost = cost_after_discount(cost=reward.cost, discount_percent=discount)
    left = reward.free_codes if reward.kind == RewardKind.VOUCHER else reward.stock
    limit = reward.per_member_limit
    return CatalogueItem(
        reward=reward,
        name=reward.name_in(language),
        description=reward.description_in(language),
        image_url=reward.image.url if reward.image else "",
        cost=cost,
        left=left,
        out_of_stock=left is not None and left <= 0,
        limit_reached=limit is not None and reward.taken_by_member >= limit,
        short_by=max(0, cost - balance),
    )


def member_catalogue(
    *, member: Member, language: str, balance: int, now: datetime
) -> list[CatalogueItem]:
    """The rewards the member may ask for today (active, within their window), each with
    this member's cost, stock and limit. A fixed number of queries, however many."""
    rewards = (
        offered_rewards(member=member)
        .filter(active=True)
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=now))
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
    )
    discount = member_discount_percent(member=member)
    return [
        _item(reward, language=language, discount=discount, balance=balance)
        for reward in _with_member_counts(rewards, member=member).order_by("cost", "name", "pk")
    ]


def member_catalogue_item(*, member: Member, pk: int, language: str, balance: int) -> CatalogueItem:
    """One reward offered to the member's community, active or not (the page says why it
    cannot be had); Reward.DoesNotExist for anyone else's."""
    reward = _with_member_counts(offered_rewards(member=member), member=member).get(pk=pk)
    discount = member_discount_percent(member=member)
    return _item(reward, language=language, discount=discount, balance=balance)


def member_redemptions(*, member: Member) -> QuerySet[Redemption]:
    """The member's own redemptions, newest first, with their rewards and codes."""
    return (
        Redemption.objects.for_organisation(member.organisation_id)
        .filter(member=member)
        .select_related("reward", "voucher")
        .order_by("-created_at", "-pk")
    )


def redemption_rows(redemptions: Iterable[Redemption], *, language: str) -> list[RedemptionRow]:
    rows = []
    for redemption in redemptions:
        code = ""
        if redemption.status in CODE_SHOWN and redemption.reward.kind == RewardKind.VOUCHER:
            voucher = getattr(redemption, "voucher", None)
            code = voucher.code if voucher is not None else ""
        rows.append(
            RedemptionRow(
                redemption=redemption,
                reward_name=redemption.reward.name_in(language),
                code=code,
            )
        )
    return rows


def member_ledger(*, member: Member) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.for_organisation(member.organisation_id)
        .filter(member=member)
        .order_by("-created_at", "-pk")
    )


def _quoted(text: str) -> str:
    return _("“%(title)s”") % {"title": text}


def ledger_explained(*, entry: LedgerEntry, reward_names: dict[int, str]) -> str:
    """The line a member reads for one ledger entry, in the active language. The reason is
    a code translated here; a title or a staff note in `detail` is data, shown as stored
    (a reward's name in the member's language when the reward still exists)."""
    detail = entry.detail or {}
    title = str(detail.get("title") or "")
    note = str(detail.get("note") or "")
    reward = reward_names.get(detail.get("reward")) if detail.get("reward") else None
    reason = entry.reason
    if reason == LedgerReason.SURVEY_COMPLETED:
        return (
            _("Earned for %(survey)s") % {"survey": _quoted(title)}
            if title
            else _("Earned for answering a survey")
        )
    if reason == LedgerReason.POLL_VOTED:
        return _("Voted in a poll")
    if reason == LedgerReason.PROFILE_COMPLETED:
        return _("Completed your profile")
    if reason == LedgerReason.REFERRAL:
        return _("A friend you invited joined the community")
    if reason == LedgerReason.JOINED:
        return _("Welcome points for joining")
    if reason == LedgerReason.REDEMPTION_HOLD:
        name = reward or title
        return _("Spent on %(reward)s") % {"reward": _quoted(name)} if name else _("Spent")
    if reason == LedgerReason.REDEMPTION_RETURN:
        name = reward or title
        return (
            _("Returned: %(reward)s") % {"reward": _quoted(name)} if name else _("Points returned")
        )
    if reason == LedgerReason.EXPIRED:
        return _("Expired after a time without activity")
    if reason == LedgerReason.ADJUSTMENT:
        return _("Adjusted by staff: %(note)s") % {"note": note} if note else _("Adjusted by staff")
    return entry.get_reason_display()


def ledger_lines(*, entries: Iterable[LedgerEntry], language: str) -> list[dict]:
    """The entries as the member's history shows them: one query for the rewards' names
    in the member's language, whatever the number of entries."""
    entries = list(entries)
    reward_ids = {
        entry.detail.get("reward")
        for entry in entries
        if isinstance(entry.detail, dict) and isinstance(entry.detail.get("reward"), int)
    }
    names = (
        {r.pk: r.name_in(language) for r in Reward.objects.filter(pk__in=reward_ids)}
        if reward_ids
        else {}
    )
    return [
        {
            "entry": entry,
            "points": abs(entry.points),
            "earned": entry.points > 0,
            "reason": ledger_explained(entry=entry, reward_names=names),
            "created_at": entry.created_at,
        }
        for entry in entries
    ]


def member_loyalty(*, member: Member, language: str) -> Loyalty:
    """The member's tier as the last standings run computed it, the next tier up, and
    their badges: three queries."""
    standing = MemberStanding.objects.filter(member_id=member.pk).select_related("tier").first()
    tier = standing.tier if standing is not None else None
    counted = standing.points_counted if standing is not None else 0
    above = Tier.objects.for_organisation(member.organisation_id).filter(
        community_id=member.community_id, threshold__gt=counted
    )
    if tier is not None:
        above = above.filter(threshold__gt=tier.threshold)
    upcoming = above.order_by("threshold").first()
    badges = [
        {"kind": badge.kind, "label": badge.get_kind_display(), "awarded_at": badge.awarded_at}
        for badge in MemberBadge.objects.filter(member_id=member.pk).order_by("awarded_at", "pk")
    ]
    return Loyalty(
        tier=tier.name_in(language) if tier is not None else None,
        discount_percent=tier.discount_percent if tier is not None else 0,
        points_counted=counted,
        next_tier=upcoming.name_in(language) if upcoming is not None else None,
        next_tier_needs=max(0, upcoming.threshold - counted) if upcoming is not None else 0,
        badges=badges,
    )
