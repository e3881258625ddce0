"""Reads of the reward catalogue for staff pages: rewards with what is left of them, a
voucher reward's pool in counts, its uploads. Codes themselves are never read here."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from communities.models import Community, Organisation
from rewards.models import Reward, VoucherCode, VoucherUpload


def reward_list(
    *,
    organisation: Organisation,
    community: Community | None = None,
    active: bool | None = None,
) -> QuerySet[Reward]:
    """The organisation's rewards (of one community, or active or not, when given), each
    with `codes_left`: its unassigned voucher codes (0 for other kinds)."""
    rewards = (
        Reward.objects.for_organisation(organisation)
        .select_related("community")
        .annotate(codes_left=Count("codes", filter=Q(codes__redemption__isnull=True)))
        .order_by("community__name", "name", "pk")
    )
    if community is not None:
        rewards = rewards.filter(community=community)
    if active is not None:
        rewards = rewards.filter(active=active)
    return rewards


def voucher_pool_counts(*, organisation: Organisation, reward: Reward) -> dict[str, int]:
    """How many codes a voucher reward has: in all, still free, handed out."""
    counts = (
        VoucherCode.objects.for_organisation(organisation)
        .filter(reward=reward)
        .aggregate(total=Count("pk"), free=Count("pk", filter=Q(redemption__isnull=True)))
    )
    return {**counts, "assigned": counts["total"] - counts["free"]}


def voucher_uploads(*, organisation: Organisation, reward: Reward) -> QuerySet[VoucherUpload]:
    """A reward's uploads, newest first, without their reports (which can be long)."""
    return (
        VoucherUpload.objects.for_organisation(organisation)
        .filter(reward=reward)
        .defer("report")
        .select_related("uploaded_by")
    )
