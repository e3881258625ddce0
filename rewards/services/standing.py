"""Tiers and badges, computed for whole communities by a daily task, never per page view.

Both are a few INSERT … SELECT statements (upserts PostgreSQL and SQLite 3.24+ both run),
so a community of 100,000 members costs a handful of round trips, not 100,000.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db import connection, models
from django.utils import timezone

from communities.choices import MemberStatus
from communities.models import Community, Member
from communities.services import MEMBER_CURRENT_STATUSES
from rewards.choices import BadgeKind, LedgerReason, TierBasis
from rewards.models import LedgerEntry, MemberBadge, MemberStanding, RewardsPolicy, Tier
from rewards.services.expiry import months_shift

# Badges earned by entries in the ledger: (badge, the reason counted, how many it takes).
LEDGER_BADGES = (
    (BadgeKind.FIRST_SURVEY, LedgerReason.SURVEY_COMPLETED, 1),
    (BadgeKind.TEN_SURVEYS, LedgerReason.SURVEY_COMPLETED, 10),
    (BadgeKind.REFERRAL, LedgerReason.REFERRAL, 1),
)
ONE_YEAR = timedelta(days=365)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _col(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _stamp(value: dt.datetime) -> object:
    """A datetime as the ORM stores it on this database (SQLite keeps UTC text)."""
    return MemberStanding._meta.get_field("computed_at").get_db_prep_save(value, connection)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def standings_compute(*, now: dt.datetime | None = None, community_id: int | None = None) -> int:
    """Write every member's standing: the points they earned (positive entries other than
    returned redemptions) over their lifetime or the policy's rolling window, and the
    highest tier whose threshold that reaches. One upsert per community; a standing is
    rewritten only when its points or tier changed, so `computed_at` is when it last
    changed. Returns how many standings were created or changed.
    """
    now = now or timezone.now()
    communities = Community.objects.order_by("pk").values_list("pk", flat=True)
    if community_id is not None:
        communities = communities.filter(pk=community_id)
    policies = {
        policy.community_id: policy
        for policy in RewardsPolicy.objects.filter(community_id__in=communities).only(
            "community_id", "tier_basis", "tier_window_months"
        )
    }
    changed = 0
    for pk in communities:
        policy = policies.get(pk)
        since = None
        if policy is not None and policy.tier_basis == TierBasis.WINDOW:
            since = months_shift(now, -policy.tier_window_months)
        changed += _standings_upsert(community_id=pk, since=since, now=now)
    return changed


def _standings_upsert(*, community_id: int, since: dt.datetime | None, now: dt.datetime) -> int:
    standing, tier, ledger, member = (
        _table(MemberStanding),
        _table(Tier),
        _table(LedgerEntry),
        _table(Member),
    )
    s_member, s_org, s_tier, s_points, s_at = (
        _col(MemberStanding, name)
        for name in ("member", "organisation", "tier", "points_counted", "computed_at")
    )
    window = f"AND e.{_col(LedgerEntry, 'created_at')} >= %s" if since is not None else ""
    # Earned: every credit except a redemption's points coming back, which were earned
    # once already. The correlated SUM reads the (member, points) index.
    sql = f"""
        INSERT INTO {standing} ({s_member}, {s_org}, {s_tier}, {s_points}, {s_at})
        SELECT c.member_id, c.organisation_id,
               (SELECT t.{_col(Tier, "id")} FROM {tier} t
                WHERE t.{_col(Tier, "community")} = %s
                  AND t.{_col(Tier, "threshold")} <= c.counted
                ORDER BY t.{_col(Tier, "threshold")} DESC LIMIT 1),
               c.counted, %s
        FROM (
            SELECT m.{_col(Member, "id")} AS member_id,
                   m.{_col(Member, "organisation")} AS organisation_id,
                   COALESCE((
                       SELECT SUM(e.{_col(LedgerEntry, "points")}) FROM {ledger} e
                       WHERE e.{_col(LedgerEntry, "member")} = m.{_col(Member, "id")}
                         AND e.{_col(LedgerEntry, "points")} > 0
                         AND e.{_col(LedgerEntry, "reason")} <> %s
                         {window}
                   ), 0) AS counted
            FROM {member} m
            WHERE m.{_col(Member, "community")} = %s AND m.{_col(Member, "status")} <> %s
        ) c
        WHERE true
        ON CONFLICT ({s_member}) DO UPDATE SET
            {s_tier} = excluded.{s_tier},
            {s_points} = excluded.{s_points},
            {s_at} = excluded.{s_at}
        WHERE COALESCE({standing}.{s_tier}, 0) <> COALESCE(excluded.{s_tier}, 0)
           OR {standing}.{s_points} <> excluded.{s_points}
    """
    params: list = [community_id, _stamp(now), LedgerReason.REDEMPTION_RETURN]
    if since is not None:
        params.append(_stamp(since))
    params += [community_id, MemberStatus.ERASED]
    return _execute(sql, params)


def badges_award(*, now: dt.datetime | None = None) -> int:
    """Award every badge a member has reached and not yet got: first survey, ten
    surveys, a referral (from the ledger) and a year a member. One INSERT … SELECT per
    badge; the (member, kind) constraint keeps each badge once. Returns how many it
    awarded.
    """
    now = now or timezone.now()
    badge, ledger, member = _table(MemberBadge), _table(LedgerEntry), _table(Member)
    b_org, b_member, b_kind, b_at = (
        _col(MemberBadge, name) for name in ("organisation", "member", "kind", "awarded_at")
    )
    m_id, m_status = _col(Member, "id"), _col(Member, "status")
    head = f"INSERT INTO {badge} ({b_org}, {b_member}, {b_kind}, {b_at})"
    # The unique index alone skips badges already held: a NOT EXISTS on the badge table
    # invites a nested-loop plan whenever its statistics lag behind a big first run.
    tail = f"ON CONFLICT ({b_member}, {b_kind}) DO NOTHING"
    awarded = 0
    for kind, reason, at_least in LEDGER_BADGES:
        e_member = _col(LedgerEntry, "member")
        sql = f"""
            {head}
            SELECT m.{_col(Member, "organisation")}, m.{m_id}, %s, %s
            FROM {member} m
            JOIN (
                SELECT e.{e_member} AS member_id FROM {ledger} e
                WHERE e.{_col(LedgerEntry, "reason")} = %s
                GROUP BY e.{e_member} HAVING COUNT(*) >= %s
            ) x ON x.member_id = m.{m_id}
            WHERE m.{m_status} <> %s
            {tail}
        """
        awarded += _execute(sql, [kind, _stamp(now), reason, at_least, MemberStatus.ERASED])
    statuses = ", ".join(["%s"] * len(MEMBER_CURRENT_STATUSES))
    joined = _col(Member, "joined_at")
    sql = f"""
        {head}
        SELECT m.{_col(Member, "organisation")}, m.{m_id}, %s, %s
        FROM {member} m
        WHERE m.{joined} IS NOT NULL AND m.{joined} <= %s
          AND m.{m_status} IN ({statuses})
        {tail}
    """
    awarded += _execute(
        sql,
        [
            BadgeKind.ONE_YEAR,
            _stamp(now),
            _stamp(now - ONE_YEAR),
            *MEMBER_CURRENT_STATUSES,
        ],
    )
    return awarded
