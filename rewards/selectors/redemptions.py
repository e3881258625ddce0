"""Staff reads of redemptions and of a member's points: the approval queue, what to ship,
one redemption, a member's ledger. Each takes the organisation and reads only its rows.

Every queryset joins what its page shows (member, reward, who decided) in the one query,
so a page costs the same however many rows it lists.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from communities.models import Community, Member, Organisation
from rewards.choices import RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward


def redemption_queue(
    *,
    organisation: Organisation,
    status: str | None = RedemptionStatus.REQUESTED,
    reward: Reward | None = None,
    community: Community | None = None,
    kind: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Redemption]:
    """The organisation's redemptions matching the filters (status None: any), oldest
    request first so the queue is worked in the order members asked. `since` is inclusive,
    `until` exclusive, both on the time of the request."""
    redemptions = Redemption.objects.for_organisation(organisation).select_related(
        "member__community", "reward", "decided_by"
    )
    if status:
        redemptions = redemptions.filter(status=status)
    if reward is not None:
        redemptions = redemptions.filter(reward=reward)
    if community is not None:
        redemptions = redemptions.filter(member__community=community)
    if kind:
        redemptions = redemptions.filter(reward__kind=kind)
    if since is not None:
        redemptions = redemptions.filter(created_at__gte=since)
    if until is not None:
        redemptions = redemptions.filter(created_at__lt=until)
    return redemptions.order_by("created_at", "pk")


def redemptions_to_ship(
    *,
    organisation: Organisation,
    reward: Reward | None = None,
    community: Community | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Redemption]:
    """Approved physical items not yet sent: what the warehouse packs next."""
    return redemption_queue(
        organisation=organisation,
        status=RedemptionStatus.APPROVED,
        reward=reward,
        community=community,
        kind=RewardKind.PHYSICAL,
        since=since,
        until=until,
    )


def staff_member_ledger(*, organisation: Organisation, member: Member) -> QuerySet[LedgerEntry]:
    """The member's whole ledger, newest first, with the staff user of each adjustment."""
    return (
        LedgerEntry.objects.for_organisation(organisation)
        .filter(member=member)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def redemption_rewards(*, organisation: Organisation) -> QuerySet[Reward]:
    """The rewards a queue may be filtered by: all of the organisation's, active or not."""
    return Reward.objects.for_organisation(organisation).order_by("name", "pk")
