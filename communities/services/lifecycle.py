"""The member lifecycle (new, active, lapsed, churned), activity, and expiring personal data
collected for something that never happened.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import LIFECYCLE_STATUSES, ImportStatus, MemberStatus
from communities.models import Community, LifecycleSnapshot, LinkToken, Member, MemberImport


def _active_since(cutoff: dt.datetime) -> Q:
    """Members whose last activity (last active, else joined, else created) is at or after
    `cutoff`; written without COALESCE so the (community, last_active_at) index serves."""
    return (
        Q(last_active_at__gte=cutoff)
        | Q(last_active_at__isnull=True, joined_at__gte=cutoff)
        | Q(last_active_at__isnull=True, joined_at__isnull=True, created_at__gte=cutoff)
    )


def members_lifecycle_refresh(*, now: dt.datetime | None = None) -> int:
    """Set each member's lifecycle status (new, active, lapsed, churned) from their last
    activity and the community's thresholds, then write today's snapshot of the counts.

    Only members in a lifecycle status move (pending, invited, unsubscribed and erased
    are never touched). A few UPDATEs per community, each writing only the rows that
    change; running twice in a day changes nothing. Returns how many members moved.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    moved = 0
    for community in Community.objects.order_by("pk").only(
        "pk", "organisation_id", "new_days", "lapsed_days", "churned_days"
    ):
        with transaction.atomic():
            lapsed_cutoff = now - timedelta(days=community.lapsed_days)
            churned_cutoff = now - timedelta(days=community.churned_days)
            new_cutoff = now - timedelta(days=community.new_days)
            members = Member.objects.filter(community=community, status__in=LIFECYCLE_STATUSES)
            recent = _active_since(lapsed_cutoff)
            is_new = Q(joined_at__gte=new_cutoff)
            moved += (
                members.exclude(_active_since(churned_cutoff))
                .exclude(status=MemberStatus.CHURNED)
                .update(status=MemberStatus.CHURNED, updated_at=now)
            )
            moved += (
                members.filter(_active_since(churned_cutoff))
                .exclude(recent)
                .exclude(status=MemberStatus.LAPSED)
                .update(status=MemberStatus.LAPSED, updated_at=now)
            )
            moved += (
                members.filter(recent & is_new)
                .exclude(status=MemberStatus.NEW)
                .update(status=MemberStatus.NEW, updated_at=now)
            )
            moved += (
                members.filter(recent)
                .exclude(is_new)
                .exclude(status=MemberStatus.ACTIVE)
                .update(status=MemberStatus.ACTIVE, updated_at=now)
            )
            counts = dict(
                Member.objects.filter(community=community)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            )
            LifecycleSnapshot.objects.update_or_create(
                community=community,
                day=today,
                defaults={"organisation_id": community.organisation_id, "counts": counts},
            )
    return moved


def member_activity_touch(*, member_id: int, at: dt.datetime) -> None:
    """Note that the member was active at `at` (one UPDATE; it never moves backwards).

    A lapsed or churned member who comes back counts as active again at once, rather
    than waiting for the nightly lifecycle run.
    """
    Member.objects.filter(
        Q(last_active_at__lt=at) | Q(last_active_at__isnull=True), pk=member_id
    ).update(
        last_active_at=at,
        status=Case(
            When(
                status__in=(MemberStatus.LAPSED, MemberStatus.CHURNED),
                then=Value(MemberStatus.ACTIVE),
            ),
            default=F("status"),
        ),
    )


def member_activity_touch_locked(*, member_id: int, at: dt.datetime) -> bool:
    """Note the member's activity at `at`, taking their row lock; False if they are gone.

    The one UPDATE is also the member's lock for the rest of the transaction (it is taken
    whether or not the values change), which serialises one member's submits the way
    `member_lock` does. Like `member_activity_touch` it never moves the time backwards,
    and a lapsed or churned member who answers is active again.
    """
    qn = connection.ops.quote_name
    meta = Member._meta
    last = qn(meta.get_field("last_active_at").column)
    status = qn(meta.get_field("status").column)
    when = f"({last} IS NULL OR {last} < %s)"
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {last} = CASE WHEN {when} THEN %s ELSE {last} END, "
        f"{status} = CASE WHEN {when} AND {status} IN (%s, %s) THEN %s ELSE {status} END "
        f"WHERE {qn(meta.pk.column)} = %s"
    )
    stamp = meta.get_field("last_active_at").get_db_prep_save(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                stamp,
                stamp,
                stamp,
                MemberStatus.LAPSED,
                MemberStatus.CHURNED,
                MemberStatus.ACTIVE,
                member_id,
            ],
        )
        return cursor.rowcount == 1


UNCONFIRMED_JOIN_KEPT = timedelta(days=30)
IMPORT_PREVIEW_KEPT = timedelta(days=7)
LINK_TOKEN_KEPT = timedelta(days=30)


@transaction.atomic
def personal_data_expire(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Forget what was collected for something that never happened.

    A join never confirmed within UNCONFIRMED_JOIN_KEPT is deleted with its consent
    rows (the person never became a member; a resent link lives 7 days, so 30 leaves
    room). A checked import nobody confirmed within IMPORT_PREVIEW_KEPT loses its file
    and error report, which hold other people's addresses. A confirmation or invitation
    link token is deleted LINK_TOKEN_KEPT after it expired (until then a late click is told
    "expired" rather than "not a link of ours"). Safe to run twice.
    """
    now = now or timezone.now()
    _total, per_model = Member.objects.filter(
        status=MemberStatus.PENDING, created_at__lt=now - UNCONFIRMED_JOIN_KEPT
    ).delete()
    imports = (
        MemberImport.objects.filter(
            status=ImportStatus.PREVIEWED, created_at__lt=now - IMPORT_PREVIEW_KEPT
        )
        .exclude(content="", errors=[])
        .update(
            content="",
            errors=[],
            status=ImportStatus.FAILED,
            message=_("Not confirmed within 7 days: the file was deleted. Upload it again."),
            finished_at=now,
        )
    )
    tokens, _per_model = LinkToken.objects.filter(
        expires_at__isnull=False, expires_at__lt=now - LINK_TOKEN_KEPT
    ).delete()
    return {
        "members": per_model.get(Member._meta.label, 0),
        "imports": imports,
        "link_tokens": tokens,
    }
