"""The Django side of `make bench-rewards`: seeding, the in-process figures and the checks.

bench/rewards.py never imports Django: it runs this file as a subprocess under the settings
and the virtualenv being measured (`python bench/rewards_django.py <command> …`, with
DJANGO_SETTINGS_MODULE=bench.baseline.settings and the run's DATABASE_URL), as the other
scripts run bench/baseline's management commands. Each command prints one JSON line.

  seed          the rewards organisation: a member with 10,000 ledger entries and a signed-in
                session, a catalogue, members with points and sessions who redeem, and
                100,000 members (2-4 entries each, most inactive for two years) under an
                expiry policy. Bulk inserts (one INSERT … SELECT for the expiry ledger).
  balance       rewards.selectors.member_balance vs a plain SUM over a cursor, interleaved
                rounds, per-call median.
  expire        one INSERT … SELECT in plain SQL, then rewards.services.points_expire (twice:
                the second must write nothing); timed, their rows compared.
  redeem-check  the redemption figure's rows: redemptions == holds, distinct members and
                keys, no balance below zero, the redeemers' ledger sums.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.baseline.management.commands.bench_seed import sessions_mint  # noqa: E402
from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus  # noqa: E402
from communities.models import (  # noqa: E402
    Community,
    ConsentRecord,
    Member,
    Organisation,
    User,
)
from rewards.choices import LedgerReason, RewardKind  # noqa: E402
from rewards.models import LedgerEntry, Redemption, Reward, RewardsPolicy  # noqa: E402
from rewards.selectors import member_balance  # noqa: E402
from rewards.services import points_expire  # noqa: E402

BATCH = 5000
LEDGER = LedgerEntry._meta.db_table
MEMBERS = Member._meta.db_table
REDEEM_COST = 100
REDEEMER_POINTS = 1000
CATALOGUE_SIZE = 12
EXPIRY_MONTHS = 12
# Share of the expiry members inactive for two years (the rest were active last month).
INACTIVE_EVERY = 5  # one in five stays active: 80 % are past expiry


def db_time(value):
    """A datetime as the ORM would store it (SQLite: naive UTC text), for raw SQL."""
    return connection.ops.adapt_datetimefield_value(value)


def out(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, default=str), flush=True)


def users_create(*, prefix: str, count: int) -> list[User]:
    users: list[User] = []
    for start in range(0, count, BATCH):
        batch = [
            User(
                email=f"{prefix}-{i:06d}@example.com",
                password=make_password(None),
                name=f"{prefix} {i}",
            )
            for i in range(start, min(count, start + BATCH))
        ]
        users.extend(User.objects.bulk_create(batch))
    return users


def members_for(*, org: Organisation, community: Community, users: list[User]) -> list[Member]:
    """Active members who accepted the community's terms (else every portal page is the
    consent interstitial)."""
    now = timezone.now()
    members = Member.objects.bulk_create(
        (
            Member(
                organisation=org,
                community=community,
                user=user,
                email=user.email,
                name=user.name,
                locale="en",
                status=MemberStatus.ACTIVE,
                joined_at=now - timedelta(days=30),
                last_active_at=now,
            )
            for user in users
        ),
        batch_size=BATCH,
    )
    ConsentRecord.objects.bulk_create(
        (
            ConsentRecord(
                organisation=org,
                member=member,
                purpose=ConsentPurpose.COMMUNITY_TERMS,
                policy_version=community.policy_version,
                granted=True,
                channel=ConsentChannel.WEB,
            )
            for member in members
        ),
        batch_size=BATCH,
    )
    return members


def session_lines(users: list[User]) -> str:
    return "".join(f"{settings.SESSION_COOKIE_NAME}={key}\n" for key in sessions_mint(users=users))


def heavy_ledger(*, member: Member, entries: int) -> None:
    """A long history: survey points, now and then a redemption's hold, over three years."""
    now = timezone.now()
    step = timedelta(days=3 * 365) / entries
    rows = []
    for n in range(entries):
        hold = n % 10 == 9
        rows.append(
            LedgerEntry(
                organisation_id=member.organisation_id,
                member=member,
                points=-5 if hold else 10,
                reason=LedgerReason.REDEMPTION_HOLD if hold else LedgerReason.SURVEY_COMPLETED,
                source="bench",
                detail={"title": f"Bench survey {n}"},
                idempotency_key=f"bench-heavy:{member.pk}:{n}",
                created_at=now - step * (entries - n),
            )
        )
    LedgerEntry.objects.bulk_create(rows, batch_size=BATCH)


def _members_copy(*, org, community, count: int, long_ago, recently) -> None:
    """`count` members in one INSERT … SELECT: copies of one member made through the ORM
    (so every column has its model default), each with its own email and activity."""
    template = Member.objects.create(
        organisation=org,
        community=community,
        email="expiry-000000@example.com",
        locale="en",
        status=MemberStatus.ACTIVE,
        joined_at=long_ago - timedelta(days=30),
        last_active_at=recently,
    )
    columns = [f.column for f in Member._meta.concrete_fields if f.column != "id"]
    pad = (
        "LPAD(CAST(k.n AS TEXT), 6, '0')"
        if connection.vendor == "postgresql"
        else ("SUBSTR('000000' || k.n, -6, 6)")
    )
    picks = {
        "email": f"'expiry-' || {pad} || '@example.com'",
        "last_active_at": f"CASE WHEN k.n %% {INACTIVE_EVERY} = 0 THEN %s ELSE %s END",
    }
    quote = connection.ops.quote_name
    select = ", ".join(picks.get(c, f"t.{quote(c)}") for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < %s) "
            f"INSERT INTO {MEMBERS} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {select} FROM {MEMBERS} t CROSS JOIN k WHERE t.id = %s",
            [count - 1, db_time(recently), db_time(long_ago), template.pk],
        )


def expiry_seed(*, org: Organisation, count: int) -> dict[str, Any]:
    """`count` members under a 12-month expiry policy, 2-4 entries each, in bulk."""
    community = Community.objects.create(organisation=org, name="Expiry", slug="expiry")
    RewardsPolicy.objects.create(organisation=org, community=community, expiry_months=EXPIRY_MONTHS)
    now = timezone.now()
    long_ago, recently = now - timedelta(days=730), now - timedelta(days=30)
    if count:
        _members_copy(
            org=org, community=community, count=count, long_ago=long_ago, recently=recently
        )
    # One INSERT … SELECT: 2, 3 or 4 survey awards per member, all before they went quiet.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "WITH k(n) AS (VALUES (1), (2), (3), (4)) "
            f"INSERT INTO {LEDGER} (organisation_id, member_id, points, reason, source, detail, "
            "idempotency_key, created_by_id, created_at) "
            "SELECT m.organisation_id, m.id, 10 * k.n, %s, 'bench', '{}', "
            "'bench-expiry:' || m.id || ':' || k.n, NULL, %s "
            f"FROM {MEMBERS} m CROSS JOIN k WHERE m.community_id = %s AND k.n <= 2 + (m.id %% 3)",
            [LedgerReason.SURVEY_COMPLETED, db_time(long_ago - timedelta(days=10)), community.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"community_id": community.pk, "members": count}


def seed(args: argparse.Namespace) -> None:
    started = time.monotonic()
    with transaction.atomic():
        org = Organisation.objects.create(name="Bench Rewards", slug="bench-rewards")
        portal = Community.objects.create(organisation=org, name="Portal", slug="portal")
        [heavy_user] = users_create(prefix="rwd-heavy", count=1)
        [heavy] = members_for(org=org, community=portal, users=[heavy_user])
        heavy_ledger(member=heavy, entries=args.heavy_entries)
        for n in range(1, CATALOGUE_SIZE + 1):
            Reward.objects.create(
                organisation=org,
                community=portal,
                kind=RewardKind.PERK,
                name=f"Bench reward {n}",
                description="A reward of the bench catalogue.",
                translations={"th": {"name": f"รางวัล {n}"}, "he": {"name": f"פרס {n}"}},
                cost=50 * n,
                stock=None if n % 2 else 1000,
            )
        redeem = {
            label: Reward.objects.create(
                organisation=org,
                community=portal,
                kind=RewardKind.PERK,
                name=f"Bench redeem ({label})",
                cost=REDEEM_COST,
                stock=None,
                auto_approve=False,
            ).pk
            for label in ("warm", "run")
        }
        users = users_create(prefix="rwd", count=args.redeemers)
        redeemers = members_for(org=org, community=portal, users=users)
        LedgerEntry.objects.bulk_create(
            (
                LedgerEntry(
                    organisation_id=org.pk,
                    member=m,
                    points=REDEEMER_POINTS,
                    reason=LedgerReason.JOINED,
                    source="bench",
                    idempotency_key=f"bench-redeemer:{m.pk}",
                )
                for m in redeemers
            ),
            batch_size=BATCH,
        )
    Path(args.heavy_session_out).write_text(session_lines([heavy_user]))
    Path(args.sessions_out).write_text(session_lines(users))
    with transaction.atomic():
        expiry = expiry_seed(org=org, count=args.expiry_members)
    out(
        {
            "org": org.slug,
            "community": portal.slug,
            "heavy_member": heavy.pk,
            "heavy_entries": LedgerEntry.objects.filter(member=heavy).count(),
            "heavy_balance": member_balance(member=heavy),
            "redeem_rewards": redeem,
            "redeem_cost": REDEEM_COST,
            "redeemer_points": REDEEMER_POINTS,
            "redeemers": len(redeemers),
            "expiry": expiry,
            "expiry_entries": LedgerEntry.objects.filter(
                member__community_id=expiry["community_id"]
            ).count(),
            "seconds": round(time.monotonic() - started, 1),
        }
    )


def balance(args: argparse.Namespace) -> None:
    """Per-call times of the selector and of the plain SUM, in interleaved rounds so that
    the machine's noise falls on both alike."""
    member = Member.objects.get(pk=args.member)
    sql = f"SELECT SUM(points) FROM {LEDGER} WHERE member_id = %s"

    def plain() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, [member.pk])
            return cursor.fetchone()[0] or 0

    def chorus() -> int:
        return member_balance(member=member)

    values = {"chorus": chorus(), "plain": plain()}
    times: dict[str, list[float]] = {"chorus": [], "plain": []}
    rounds = max(1, args.iterations // 100)
    for _ in range(rounds):
        for name, call in (("chorus", chorus), ("plain", plain)):
            for _ in range(100):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    out(
        {
            "member": member.pk,
            "entries": LedgerEntry.objects.filter(member=member).count(),
            "values": values,
            "iterations": len(times["chorus"]),
            **{
                name: {
                    "median_us": round(statistics.median(t) * 1e6, 1),
                    "p95_us": round(sorted(t)[int(len(t) * 0.95)] * 1e6, 1),
                }
                for name, t in times.items()
            },
        }
    )


EXPIRY_SQL = (
    f"INSERT INTO {LEDGER} (organisation_id, member_id, points, reason, source, detail, "
    "idempotency_key, created_by_id, created_at) "
    "SELECT m.organisation_id, m.id, -SUM(e.points), %s, 'bench-sql', '{}', "
    "'bench-sql-expiry:' || m.id, NULL, %s "
    f"FROM {MEMBERS} m JOIN {LEDGER} e ON e.member_id = m.id "
    "WHERE m.community_id = %s AND COALESCE(m.last_active_at, m.joined_at, m.created_at) < %s "
    "GROUP BY m.id, m.organisation_id HAVING SUM(e.points) > 0 "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)


def _expired(community_id: int) -> dict[str, int]:
    row = LedgerEntry.objects.filter(
        member__community_id=community_id, reason=LedgerReason.EXPIRED
    ).aggregate(rows=Count("id"), members=Count("member_id", distinct=True), points=Sum("points"))
    return {k: v or 0 for k, v in row.items()}


def _held_by_inactive(community_id: int, cutoff) -> dict[str, int]:
    """Members past expiry who still hold points (must be none after an expiry run)."""
    held = (
        LedgerEntry.objects.filter(
            member__community_id=community_id, member__last_active_at__lt=cutoff
        )
        .values("member_id")
        .annotate(total=Sum("points"))
        .filter(total__gt=0)
        .count()
    )
    return {"inactive_members_holding_points": held}


def expire(args: argparse.Namespace) -> None:
    from rewards.services.expiry import months_shift

    community_id = args.community
    now = timezone.now()
    cutoff = months_shift(now, -EXPIRY_MONTHS)
    inactive = Member.objects.filter(community_id=community_id, last_active_at__lt=cutoff).count()
    with connection.cursor() as cursor:
        # Both runs start with the tables read once (the first would otherwise pay for it).
        cursor.execute(f"SELECT COUNT(*), SUM(points) FROM {LEDGER}")
        cursor.execute(f"SELECT COUNT(*) FROM {MEMBERS} WHERE community_id = %s", [community_id])

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            EXPIRY_SQL, [LedgerReason.EXPIRED, db_time(now), community_id, db_time(cutoff)]
        )
        sql_rows = cursor.rowcount
    sql_seconds = time.perf_counter() - start
    sql = {**_expired(community_id), "rowcount": sql_rows, "seconds": round(sql_seconds, 3)}
    sql.update(_held_by_inactive(community_id, cutoff))

    # The baseline's rows go, so Chorus expires the same balances from the same state.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEDGER} WHERE source = 'bench-sql'")
    with connection.cursor() as cursor:
        cursor.execute(
            f"VACUUM ANALYZE {LEDGER}" if connection.vendor == "postgresql" else "ANALYZE"
        )

    start = time.perf_counter()
    written = points_expire(now=now)
    chorus_seconds = time.perf_counter() - start
    chorus = {**_expired(community_id), "written": written, "seconds": round(chorus_seconds, 3)}
    chorus.update(_held_by_inactive(community_id, cutoff))
    start = time.perf_counter()
    again = points_expire(now=now)
    again_seconds = time.perf_counter() - start
    out(
        {
            "members": Member.objects.filter(community_id=community_id).count(),
            "entries_before": LedgerEntry.objects.filter(member__community_id=community_id)
            .exclude(reason=LedgerReason.EXPIRED)
            .count(),
            "inactive_members": inactive,
            "sql": sql,
            "chorus": chorus,
            "again": {"written": again, "seconds": round(again_seconds, 3)},
            "expired_after_again": _expired(community_id),
        }
    )


def redeem_check(args: argparse.Namespace) -> None:
    reward = Reward.objects.get(pk=args.reward)
    redemptions = Redemption.objects.filter(reward=reward)
    hold_keys = [f"redemption:{pk}:hold" for pk in redemptions.values_list("pk", flat=True)]
    holds = LedgerEntry.objects.filter(
        reason=LedgerReason.REDEMPTION_HOLD, idempotency_key__in=hold_keys
    ).aggregate(n=Count("id"), total=Sum("points"))
    everyone = Redemption.objects.filter(reward__community=reward.community)
    redeemers = everyone.values("member_id")
    ledger = LedgerEntry.objects.filter(member__community=reward.community)
    out(
        {
            "responses": redemptions.count(),
            "distinct_keys": redemptions.values("request_key").distinct().count(),
            "members_with_several_responses": redemptions.values("member_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count(),
            "holds": holds["n"] or 0,
            "hold_points": -(holds["total"] or 0),
            "cost": reward.cost,
            "negative_balances": ledger.values("member_id")
            .annotate(total=Sum("points"))
            .filter(total__lt=0)
            .count(),
            "redeemers_all_rewards": redeemers.distinct().count(),
            "redemptions_all_rewards": everyone.count(),
            "redeemers_ledger_sum": ledger.filter(member_id__in=redeemers).aggregate(
                total=Sum("points")
            )["total"]
            or 0,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed")
    p.add_argument("--heavy-entries", type=int, default=10_000)
    p.add_argument("--redeemers", type=int, default=6000)
    p.add_argument("--expiry-members", type=int, default=100_000)
    p.add_argument("--sessions-out", required=True)
    p.add_argument("--heavy-session-out", required=True)
    p = sub.add_parser("balance")
    p.add_argument("--member", type=int, required=True)
    p.add_argument("--iterations", type=int, default=2000)
    p = sub.add_parser("expire")
    p.add_argument("--community", type=int, required=True)
    p = sub.add_parser("redeem-check")
    p.add_argument("--reward", type=int, required=True)
    args = parser.parse_args()
    {"seed": seed, "balance": balance, "expire": expire, "redeem-check": redeem_check}[
        args.command
    ](args)


if __name__ == "__main__":
    main()
