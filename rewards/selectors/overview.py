"""The staff rewards overview: points issued, redeemed, expired and adjusted per month, the
points members hold at each month's end (the organisation's liability), redemptions by
status and the most redeemed rewards.

A handful of aggregate queries whatever the size of the ledger: one GROUP BY (month,
reason) over the window, one sum of everything before it, one GROUP BY status and one
GROUP BY reward. Nothing is read per member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from communities.models import Community, Organisation
from rewards.choices import REDEMPTION_COUNTED, LedgerReason, RedemptionStatus
from rewards.models import LedgerEntry, Redemption

# What a month's entries count as. Holds and their returns net into "redeemed"; staff
# adjustments (and any other debit) are "adjusted", so each month balances:
# liability at its end = liability before + issued - redeemed - expired + adjusted.
REDEEMED_REASONS = (LedgerReason.REDEMPTION_HOLD, LedgerReason.REDEMPTION_RETURN)
NOT_ISSUED_REASONS = (*REDEEMED_REASONS, LedgerReason.EXPIRED, LedgerReason.ADJUSTMENT)
TOP_REWARDS = 5


@dataclass
class MonthFigures:
    month: date  # the first day of the month, in the organisation's time zone
    issued: int = 0
    redeemed: int = 0
    expired: int = 0
    adjusted: int = 0
    liability: int = 0  # points members hold at the month's end


@dataclass
class StatusFigures:
    status: str
    label: str
    count: int
    points: int


@dataclass
class RewardFigures:
    reward_id: int
    name: str
    count: int
    points: int


@dataclass
class RewardsOverview:
    start: datetime  # the window's first instant, in the organisation's time zone
    months: list[MonthFigures]
    opening_liability: int
    statuses: list[StatusFigures] = field(default_factory=list)
    top_rewards: list[RewardFigures] = field(default_factory=list)

    @property
    def issued(self) -> int:
        return sum(m.issued for m in self.months)

    @property
    def redeemed(self) -> int:
        return sum(m.redeemed for m in self.months)

    @property
    def expired(self) -> int:
        return sum(m.expired for m in self.months)

    @property
    def adjusted(self) -> int:
        return sum(m.adjusted for m in self.months)

    @property
    def liability(self) -> int:
        return self.months[-1].liability if self.months else self.opening_liability

    @property
    def empty(self) -> bool:
        return not self.opening_liability and not any(
            m.issued or m.redeemed or m.expired or m.adjusted for m in self.months
        )


def month_starts(*, now: datetime, tz: tzinfo, months: int) -> list[datetime]:
    """The first instant of each of the last `months` months (this one last), in `tz`."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=tz))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def rewards_overview(
    *,
    organisation: Organisation,
    tz: tzinfo,
    now: datetime,
    community: Community | None = None,
    language: str = "",
    months: int = 12,
) -> RewardsOverview:
    """The organisation's (or one of its communities') points per month over the last
    `months` months in its time zone `tz`, with redemptions by status and the top rewards."""
    if community is not None and community.organisation_id != organisation.pk:
        raise ValueError("community of another organisation")
    starts = month_starts(now=now, tz=tz, months=months)
    start = starts[0]
    entries = LedgerEntry.objects.for_organisation(organisation)
    redemptions = Redemption.objects.for_organisation(organisation)
    if community is not None:
        entries = entries.filter(member__community=community)
        redemptions = redemptions.filter(member__community=community)

    opening = entries.filter(created_at__lt=start).aggregate(
        total=Coalesce(Sum("points"), Value(0), output_field=IntegerField())
    )["total"]
    rows = (
        entries.filter(created_at__gte=start, created_at__lte=now)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", "reason")
        .annotate(
            total=Sum("points"),
            positive=Coalesce(
                Sum("points", filter=Q(points__gt=0)), Value(0), output_field=IntegerField()
            ),
        )
        .order_by()
    )
    by_month = {s.date(): MonthFigures(month=s.date()) for s in starts}
    for row in rows:
        figures = by_month.get(_local_date(row["month"], tz))
        if figures is None:
            continue
        reason, total, positive = row["reason"], row["total"], row["positive"]
        if reason in REDEEMED_REASONS:
            figures.redeemed -= total
        elif reason == LedgerReason.EXPIRED:
            figures.expired -= total
        elif reason == LedgerReason.ADJUSTMENT:
            figures.adjusted += total
        else:
            # An earning reason: its credits are issued; a debit under it (a reversal)
            # is an adjustment, so the month still balances.
            figures.issued += positive
            figures.adjusted += total - positive
    running = opening
    ordered = [by_month[s.date()] for s in starts]
    for figures in ordered:
        running += figures.issued - figures.redeemed - figures.expired + figures.adjusted
        figures.liability = running

    return RewardsOverview(
        start=start,
        months=ordered,
        opening_liability=opening,
        statuses=_statuses(redemptions.filter(created_at__gte=start, created_at__lte=now)),
        top_rewards=_top_rewards(
            redemptions.filter(created_at__gte=start, created_at__lte=now), language
        ),
    )


def _local_date(value: datetime | date, tz: tzinfo) -> date:
    # TruncMonth(tzinfo=) answers an aware datetime at local midnight (PostgreSQL, SQLite).
    if isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).date()
    return value


def _statuses(redemptions) -> list[StatusFigures]:
    counts = {
        row["status"]: row
        for row in redemptions.values("status")
        .annotate(count=Count("id"), points=Sum("points"))
        .order_by()
    }
    return [
        StatusFigures(
            status=status.value,
            label=str(status.label),
            count=counts.get(status.value, {}).get("count", 0),
            points=counts.get(status.value, {}).get("points") or 0,
        )
        for status in RedemptionStatus
    ]


def _top_rewards(redemptions, language: str) -> list[RewardFigures]:
    rows = (
        redemptions.filter(status__in=REDEMPTION_COUNTED)
        .values("reward_id", "reward__name", "reward__translations")
        .annotate(count=Count("id"), points=Sum("points"))
        .order_by("-count", "-points", "reward_id")[:TOP_REWARDS]
    )
    return [
        RewardFigures(
            reward_id=row["reward_id"],
            name=((row["reward__translations"] or {}).get(language) or {}).get("name")
            or row["reward__name"],
            count=row["count"],
            points=row["points"] or 0,
        )
        for row in rows
    ]
