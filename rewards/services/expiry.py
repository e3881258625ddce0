"""Points that expire after a time without activity (Smile.io's model), and the warning
and last-chance emails before they do.

A member's last activity is `last_active_at`, or `joined_at` for a member never active
since joining, or `created_at` for one who has neither (an imported row): the same order
the lifecycle task reads (communities.services.lifecycle).
"""

from __future__ import annotations

import calendar
import datetime as dt
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone, translation

from communities.choices import MemberStatus
from communities.flows import member_email_send
from communities.models import EmailSuppression, Member
from config.sql import insert_rows
from rewards.choices import ExpiryNoticeKind, LedgerReason
from rewards.models import ExpiryNotice, LedgerEntry, RewardsPolicy

# Members per transaction: their row locks are held while their balances are summed and
# the expiry entries written, so a batch is short enough not to stall redemptions.
EXPIRY_BATCH = 1000

NOTICE_TEMPLATES = {
    ExpiryNoticeKind.WARNING: "points_expiry_warning",
    ExpiryNoticeKind.LAST_CHANCE: "points_expiry_last_chance",
}


def months_shift(at: dt.datetime, months: int) -> dt.datetime:
    """`at` moved by whole calendar months (negative: back); the 31st becomes the month's
    last day when the target month is shorter."""
    year, month0 = divmod(at.year * 12 + at.month - 1 + months, 12)
    day = min(at.day, calendar.monthrange(year, month0 + 1)[1])
    return at.replace(year=year, month=month0 + 1, day=day)


def _last_activity() -> Coalesce:
    return Coalesce("last_active_at", "joined_at", "created_at")


def _active(lookup: str, at: dt.datetime) -> Q:
    """Members whose last activity compares to `at` by `lookup` ("lt", "gte"); written
    without COALESCE so the (community, last_active_at) index serves."""
    return (
        Q(**{f"last_active_at__{lookup}": at})
        | Q(last_active_at__isnull=True, **{f"joined_at__{lookup}": at})
        | Q(last_active_at__isnull=True, joined_at__isnull=True, **{f"created_at__{lookup}": at})
    )


def _expiry_key(*, member_id: int, last_active: dt.date, entries: int) -> str:
    # Names the cause: this member's inactivity since that day, and their ledger as it
    # stood (how many entries; it only grows). Active again and inactive again is a new
    # day; points that come back while they stay away (a rejected redemption) are a new
    # entry: each a new key. A second run over the same ledger finds the same key.
    return f"expiry:{member_id}:{last_active.isoformat()}:{entries}"


def points_expire(*, now: dt.datetime | None = None, batch: int = EXPIRY_BATCH) -> int:
    """Expire the whole balance of every member inactive for their community's
    `expiry_months`: one EXPIRED entry of -balance per member and inactivity, keyed by
    the day of their last activity, so running it again expires nothing more.

    Set-based: per batch of inactive members, one grouped SUM picks those holding
    points; only they are locked (SELECT … FOR UPDATE, the row lock redemptions take
    too, so no debit races the balance), their balances summed again under the lock,
    and one multi-row INSERT … ON CONFLICT DO NOTHING writes the entries. Members
    expired before hold nothing, so a daily run locks nobody twice. Returns how many
    entries it wrote.
    """
    now = now or timezone.now()
    written = 0
    policies = (
        RewardsPolicy.objects.filter(expiry_months__isnull=False)
        .order_by("community_id")
        .values_list("pk", "community_id", "organisation_id", "expiry_months")
    )
    for policy_id, community_id, organisation_id, months in policies:
        cutoff = months_shift(now, -months)
        after = 0
        while True:
            inactive = list(
                Member.objects.filter(community_id=community_id, pk__gt=after)
                .filter(_active("lt", cutoff))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            holding = _positive_balances(member_ids=inactive)
            if holding:
                with transaction.atomic():
                    written += _expiry_entries_write(
                        member_ids=sorted(holding),
                        cutoff=cutoff,
                        organisation_id=organisation_id,
                        source=f"rewards.rewardspolicy:{policy_id}",
                        months=months,
                        now=now,
                    )
            if len(inactive) < batch:
                break
            after = inactive[-1]
    return written


def _positive_balances(*, member_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{member id: (balance, number of entries)} of those of the members whose balance is
    above zero; one grouped SUM and COUNT read from the (member, points) index alone."""
    if not member_ids:
        return {}
    return {
        member_id: (total, entries)
        for member_id, total, entries in LedgerEntry.objects.filter(member_id__in=member_ids)
        .order_by()
        .values("member_id")
        .annotate(total=Sum("points"), entries=Count("points"))
        .filter(total__gt=0)
        .values_list("member_id", "total", "entries")
    }


def _expiry_entries_write(
    *,
    member_ids: list[int],
    cutoff: dt.datetime,
    organisation_id: int,
    source: str,
    months: int,
    now: dt.datetime,
) -> int:
    # The locks, in id order. PostgreSQL re-checks the WHERE on a row that changed while
    # we waited for it, so a member who answered a survey meanwhile drops out.
    locked = list(
        Member.objects.filter(pk__in=member_ids)
        .filter(_active("lt", cutoff))
        .annotate(last=_last_activity())
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "last")
    )
    # Summed again in a statement of its own, after the locks: it sees every debit
    # committed before we got them, so the entry never takes a balance below zero.
    balances = _positive_balances(member_ids=[pk for pk, _last in locked])
    rows = []
    for member_id, last in locked:
        if member_id not in balances:
            continue
        balance, entries = balances[member_id]
        last_active = timezone.localdate(last)
        rows.append(
            {
                "organisation": organisation_id,
                "member": member_id,
                "points": -balance,
                "reason": LedgerReason.EXPIRED,
                "source": source,
                "detail": {"months": months, "last_active": last_active.isoformat()},
                "idempotency_key": _expiry_key(
                    member_id=member_id, last_active=last_active, entries=entries
                ),
                "created_by": None,
                "created_at": now,
            }
        )
    return len(insert_rows(LedgerEntry, rows, conflict=("idempotency_key",), returning=("id",)))


def points_expiry_notify(*, now: dt.datetime | None = None) -> int:
    """Email members whose points expire soon: a warning within the policy's
    `warning_days`, a last-chance email within `last_chance_days`; each once per expiry
    date (the ExpiryNotice row and the outbox row commit together). Nothing for a member
    with no points, who unsubscribed, or whose address is suppressed. Returns how many
    emails it queued.
    """
    now = now or timezone.now()
    queued = 0
    policies = (
        RewardsPolicy.objects.filter(expiry_months__isnull=False)
        .select_related("community__organisation")
        .order_by("community_id")
    )
    for policy in policies:
        ahead = max(policy.warning_days, policy.last_chance_days)
        if not ahead:
            continue
        # Not expired yet (points_expire takes those), but will be within `ahead` days.
        cutoff = months_shift(now, -policy.expiry_months)
        horizon = months_shift(now + timedelta(days=ahead), -policy.expiry_months)
        after = 0
        while True:
            members = _notice_candidates(policy=policy, cutoff=cutoff, horizon=horizon, after=after)
            queued += _notices_send(policy=policy, members=members, now=now)
            if len(members) < EXPIRY_BATCH:
                break
            after = members[-1].pk
    return queued


def _notice_candidates(
    *, policy: RewardsPolicy, cutoff: dt.datetime, horizon: dt.datetime, after: int
) -> list[Member]:
    balance = (
        LedgerEntry.objects.filter(member=OuterRef("pk"))
        .order_by()
        .values("member")
        .annotate(total=Sum("points"))
        .values("total")
    )
    suppressed = EmailSuppression.objects.filter(
        organisation_id=OuterRef("organisation_id"), email=OuterRef("email")
    )
    return list(
        Member.objects.filter(community_id=policy.community_id, pk__gt=after)
        .exclude(status__in=(MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED))
        .exclude(email="")
        .filter(_active("gte", cutoff), _active("lte", horizon))
        .exclude(Exists(suppressed))
        .annotate(last=_last_activity(), balance=Subquery(balance))
        .filter(balance__gt=0)
        .order_by("pk")[:EXPIRY_BATCH]
    )


def _notices_send(*, policy: RewardsPolicy, members: list[Member], now: dt.datetime) -> int:
    due = []
    for member in members:
        expires_at = months_shift(member.last, policy.expiry_months)
        left = expires_at - now
        if left <= timedelta(days=policy.last_chance_days):
            kind = ExpiryNoticeKind.LAST_CHANCE
        elif left <= timedelta(days=policy.warning_days):
            kind = ExpiryNoticeKind.WARNING
        else:
            continue
        due.append((member, kind, timezone.localdate(expires_at)))
    if not due:
        return 0
    # One query for the notices already sent, instead of one per member.
    sent = set(
        ExpiryNotice.objects.filter(
            member_id__in=[member.pk for member, _kind, _on in due],
            expires_on__in={on for _member, _kind, on in due},
        ).values_list("member_id", "kind", "expires_on")
    )
    community = policy.community
    link = settings.SITE_URL + reverse(
        "community:points_history", args=[community.organisation.slug, community.slug]
    )
    queued = 0
    for member, kind, expires_on in due:
        if (member.pk, kind, expires_on) in sent:
            continue
        member.community = community
        queued += _notice_send(member=member, kind=kind, expires_on=expires_on, link=link, now=now)
    return queued


@transaction.atomic
def _notice_send(
    *, member: Member, kind: str, expires_on: dt.date, link: str, now: dt.datetime
) -> int:
    """Claim the notice and queue its email in one transaction: 1 if queued, else 0."""
    claimed = insert_rows(
        ExpiryNotice,
        [
            {
                "organisation": member.organisation_id,
                "member": member.pk,
                "kind": kind,
                "expires_on": expires_on,
                "points": member.balance,
                "created_at": now,
            }
        ],
        conflict=("member", "kind", "expires_on"),
        returning=("id",),
    )
    if not claimed:
        return 0
    language = member.locale or member.community.organisation.default_language
    with translation.override(language):
        # The outbox keeps its context as JSON, which holds no date: the day goes in as
        # data and as the member's own way of writing it.
        expires_on_text = formats.date_format(expires_on, "DATE_FORMAT")
    email = member_email_send(
        member=member,
        template=NOTICE_TEMPLATES[kind],
        link=link,
        key=f"points-expiry-{kind}:{member.pk}:{expires_on.isoformat()}",
        context={
            "points": member.balance,
            "expires_on": expires_on.isoformat(),
            "expires_on_text": expires_on_text,
        },
    )
    if email is None:
        # Suppressed since the candidates were read: no email, so no notice either.
        transaction.set_rollback(True)
        return 0
    return 1
