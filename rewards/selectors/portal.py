"""What the member's own rewards pages read: the catalogue as this member sees it (their
price, what they can afford, what is gone), their redemptions, their ledger explained
line by line, and their tier and badges.

Every read is scoped to the member's organisation and community; a member only ever
reads their own rows. The voucher code of a redemption is put on the row only when the
member may see it (approved or fulfilled), so no template can show it by mistake.

The catalogue and the points history are read in a fixed number of queries, however long
the member's history and however many rewards: member_summary reads the balance, the
number of entries (the history's pager needs no COUNT of its own) and the standing in one
statement, then the community's tiers and the member's badges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.models import Member
from config.sql import PreparedQuery
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
class MemberSummary:
    """What every rewards page shows above its content: the balance and the standing,
    and how many ledger entries the member has (the history's page count)."""

    balance: int
    entries: int
    loyalty: Loyalty


@dataclass(frozen=True)
class CatalogueItem:
    """One reward as one member sees it."""

    reward: Reward
    name: str
    description: str
    # The reward's kind in the active language.
    kind_label: str
    image_url: str
    cost: int
    # Items left; None means no limit.
    left: int | None
    out_of_stock: bool
    limit_reached: bool
    short_by: int
    # What the catalogue's card says, in the active language, worked out once here: the
    # template's per-card translation tags were most of the catalogue's rendering time.
    cost_text: str = ""
    # "your tier price; usually …" when a tier discount changed the cost, else "".
    usual_cost_text: str = ""
    # "3 left" when the stock is limited and not gone, else "".
    left_text: str = ""
    # "You need 5 more points." when the member cannot afford it, else "".
    short_by_text: str = ""

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


def _offered(*, organisation_id: int, community_id: int) -> QuerySet[Reward]:
    return Reward.objects.for_organisation(organisation_id).filter(
        Q(community_id=community_id) | Q(community__isnull=True)
    )


def offered_rewards(*, member: Member) -> QuerySet[Reward]:
    """Every reward of the member's organisation offered to their community (active or
    not): what a member may open by id. Anything else answers 404."""
    return _offered(organisation_id=member.organisation_id, community_id=member.community_id)


def _with_member_counts(rewards: QuerySet[Reward], *, member_id: int) -> QuerySet[Reward]:
    # Subqueries, not joins: a join of a reward's codes with its redemptions would grow
    # as their product.
    taken = (
        Redemption.objects.filter(
            reward=OuterRef("pk"), member_id=member_id, status__in=REDEMPTION_COUNTED
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


# The catalogue in one statement compiled once per process (building and compiling it
# through the ORM cost twice what the database spent on it): every active reward offered
# to the community, with the member's redemptions that count and the free codes left.
_catalogue = PreparedQuery(
    lambda organisation_id, community_id, member_id: _with_member_counts(
        _offered(organisation_id=organisation_id, community_id=community_id).filter(active=True),
        member_id=member_id,
    ).order_by("cost", "name", "pk"),
    ("int", "int", "int"),
)


def _in_window(reward: Reward, now: datetime) -> bool:
    # Checked here, not in the statement: a prepared statement takes no datetime value.
    return (reward.available_from is None or reward.available_from <= now) and (
        reward.available_until is None or reward.available_until > now
    )


def _item(
    reward: Reward,
    *,
    language: str,
    discount: int,
    balance: int,
    kind_labels: dict[str, str] | None = None,
) -> CatalogueItem:
    cost = cost_after_discount(cost=reward.cost, discount_percent=discount)
    left = reward.free_codes if reward.kind == RewardKind.VOUCHER else reward.stock
    limit = reward.per_member_limit
    short_by = max(0, cost - balance)
    return CatalogueItem(
        reward=reward,
        name=reward.name_in(language),
        description=reward.description_in(language),
        kind_label=(kind_labels or {}).get(reward.kind) or str(reward.get_kind_display()),
        image_url=reward.image.url if reward.image else "",
        cost=cost,
        left=left,
        out_of_stock=left is not None and left <= 0,
        limit_reached=limit is not None and reward.taken_by_member >= limit,
        short_by=short_by,
        # The same messages the templates' blocktranslate tags use.
        cost_text=ngettext("%(n)s point", "%(n)s points", cost) % {"n": cost},
        usual_cost_text=(
            _("your tier price; usually %(cost)s") % {"cost": reward.cost}
            if cost != reward.cost
            else ""
        ),
        left_text=(
            ngettext("%(n)s left", "%(n)s left", left) % {"n": left}
            if left is not None and left > 0
            else ""
        ),
        short_by_text=(
            ngettext("You need %(n)s more point.", "You need %(n)s more points.", short_by)
            % {"n": short_by}
            if short_by
            else ""
        ),
    )


def member_catalogue(
    *,
    member: Member,
    language: str,
    balance: int,
    now: datetime,
    discount_percent: int | None = None,
) -> list[CatalogueItem]:
    """The rewards the member may ask for today (active, within their window), each with
    this member's cost, stock and limit: one query however many (two when the tier's
    `discount_percent` is not given, as member_summary's loyalty has it)."""
    discount = (
        member_discount_percent(member=member) if discount_percent is None else discount_percent
    )
    # Each kind's label translated once for the whole list, not once a reward.
    kind_labels = {kind: str(label) for kind, label in RewardKind.choices}
    return [
        _item(
            reward, language=language, discount=discount, balance=balance, kind_labels=kind_labels
        )
        for reward in _catalogue.all(member.organisation_id, member.community_id, member.pk)
        if _in_window(reward, now)
    ]


def member_catalogue_item(*, member: Member, pk: int, language: str, balance: int) -> CatalogueItem:
    """One reward offered to the member's community, active or not (the page says why it
    cannot be had); Reward.DoesNotExist for anyone else's."""
    reward = _with_member_counts(offered_rewards(member=member), member_id=member.pk).get(pk=pk)
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


_ledger = PreparedQuery(
    lambda organisation_id, member_id: (
        LedgerEntry.objects.for_organisation(organisation_id)
        .filter(member_id=member_id)
        .order_by("-created_at", "-pk")
    ),
    ("int", "int"),
)


class LedgerPages:
    """The member's ledger, newest first, as a Paginator reads it: its length is the count
    member_summary read (no COUNT query), and each page is one statement compiled once per
    process, its LIMIT and OFFSET parameters."""

    def __init__(self, *, member: Member, entries: int) -> None:
        self.member = member
        self.entries = entries

    def __len__(self) -> int:
        return self.entries

    def __getitem__(self, window: slice) -> list[LedgerEntry]:
        start, stop = window.start or 0, window.stop
        if stop <= start:
            return []
        return _ledger.all(
            self.member.organisation_id, self.member.pk, limit=stop - start, offset=start
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
    # What the template would work out per row (the local day, the sign, the words a
    # screen reader hears after the number) is worked out here once: a history page's
    # rows were most of its rendering time.
    sense = {True: _("earned"), False: _("spent or removed")}
    days: dict = {}
    lines = []
    for entry in entries:
        local = timezone.template_localtime(entry.created_at)
        day = days.get(local.date())
        if day is None:
            day = days[local.date()] = formats.date_format(local, "SHORT_DATE_FORMAT")
        earned = entry.points > 0
        lines.append(
            {
                "entry": entry,
                "points": abs(entry.points),
                "earned": earned,
                # U+2212 MINUS SIGN, as the page always showed it.
                "signed": f"{'+' if earned else '−'}{abs(entry.points)}",
                "sense": sense[earned],
                "day": day,
                "reason": ledger_explained(entry=entry, reward_names=names),
                "created_at": entry.created_at,
            }
        )
    return lines


@cache
def _summary_sql(vendor: str) -> str:
    # One statement, one pass over the member's entries: the balance and the count come
    # from the same scan of the (member, points) index, and the standing (none before the
    # first standings run) rides along. Plain SQL both databases run alike; the ORM cannot
    # put an aggregate and an outer join in one statement. `vendor` keys the cache only.
    qn = connection.ops.quote_name
    ledger, standing = LedgerEntry._meta, MemberStanding._meta

    def col(meta, name: str) -> str:
        return qn(meta.get_field(name).column)

    return (
        f"SELECT a.entries, a.balance, s.{col(standing, 'points_counted')}, "
        f"s.{col(standing, 'tier')} "
        f"FROM (SELECT COUNT(*) AS entries, COALESCE(SUM({col(ledger, 'points')}), 0) AS balance "
        f"FROM {qn(ledger.db_table)} WHERE {col(ledger, 'member')} = %s) a "
        f"LEFT JOIN {qn(standing.db_table)} s ON s.{col(standing, 'member')} = %s"
    )


# Compiled once per process: the community's tiers (a handful) and the member's badges.
_tiers = PreparedQuery(
    lambda organisation_id, community_id: (
        Tier.objects.for_organisation(organisation_id)
        .filter(community_id=community_id)
        .order_by("threshold")
    ),
    ("int", "int"),
)
_badges = PreparedQuery(
    lambda member_id: MemberBadge.objects.filter(member_id=member_id).order_by("awarded_at", "pk"),
    ("int",),
)


def _loyalty(*, member: Member, language: str, points_counted: int, tier_id: int | None) -> Loyalty:
    """The tier the standings run gave the member, the next one up and their badges: two
    queries (the community's tiers, a handful, and the badges)."""
    tiers = _tiers.all(member.organisation_id, member.community_id)
    tier = next((t for t in tiers if t.pk == tier_id), None)
    if tier is None and tier_id is not None:
        # Not one of this community's tiers (the old read showed it all the same).
        tier = Tier.objects.filter(pk=tier_id).first()
    floor = max(points_counted, tier.threshold) if tier is not None else points_counted
    upcoming = next((t for t in tiers if t.threshold > floor), None)
    badges = [
        {"kind": badge.kind, "label": badge.get_kind_display(), "awarded_at": badge.awarded_at}
        for badge in _badges.all(member.pk)
    ]
    return Loyalty(
        tier=tier.name_in(language) if tier is not None else None,
        discount_percent=tier.discount_percent if tier is not None else 0,
        points_counted=points_counted,
        next_tier=upcoming.name_in(language) if upcoming is not None else None,
        next_tier_needs=max(0, upcoming.threshold - points_counted) if upcoming is not None else 0,
        badges=badges,
    )


def member_summary(*, member: Member, language: str) -> MemberSummary:
    """The member's balance (the sum of their ledger, as member_balance reads it), their
    number of ledger entries, tier, next tier and badges: three queries, however long
    the history."""
    with connection.cursor() as cursor:
        cursor.execute(_summary_sql(connection.vendor), [member.pk, member.pk])
        entries, balance, counted, tier_id = cursor.fetchone()
    return MemberSummary(
        balance=int(balance),
        entries=int(entries),
        loyalty=_loyalty(
            member=member, language=language, points_counted=counted or 0, tier_id=tier_id
        ),
    )


def member_loyalty(*, member: Member, language: str) -> Loyalty:
    """The member's tier as the last standings run computed it, the next tier up, and
    their badges: three queries."""
    standing = (
        MemberStanding.objects.filter(member_id=member.pk)
        .values_list("points_counted", "tier_id")
        .first()
    )
    counted, tier_id = standing if standing is not None else (0, None)
    return _loyalty(member=member, language=language, points_counted=counted, tier_id=tier_id)
