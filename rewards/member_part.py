"""rewards' part of a member (see communities.member_data): points, redemptions, tier,
badges and expiry notices.

Export: the ledger (with what each line was for), every redemption with its shipping
address and, once approved, its voucher code (the member's own), their tier and badges.

Erasure: the ledger and redemptions are append-only accounting and stay against the
erased member marker, which holds no personal data; what they held of the person goes —
the shipping address and the tracking note of every redemption. The tier, badges and
expiry notices are about the marker only and stay with it.

Portal: the balance, recent lines explained, tier and badges (a fixed number of queries,
however long the history).
"""

from __future__ import annotations

from typing import Any

from communities.member_data import MemberData, MemberErasure
from communities.member_data import export_time as when
from communities.models import Member, Organisation
from rewards.models import ExpiryNotice, LedgerEntry, MemberBadge, MemberStanding, Redemption
from rewards.selectors import (
    ledger_lines,
    member_balance,
    member_ledger,
    member_loyalty,
    redemption_rows,
)
from rewards.services.redemptions import member_redemptions_withdraw

PORTAL_LEDGER = 8
MEMBER_PAGE_LEDGER = 50


def _export(member: Member) -> dict[str, Any]:
    redemptions = (
        Redemption.objects.filter(member=member)
        .select_related("reward", "voucher")
        .order_by("created_at", "pk")
    )
    language = member.locale or ""
    standing = MemberStanding.objects.filter(member=member).select_related("tier").first()
    tier = standing.tier if standing is not None else None
    return {
        "points": {
            "balance": member_balance(member=member),
            "ledger": [
                {
                    "points": entry.points,
                    "reason": entry.reason,
                    "detail": entry.detail,
                    "source": entry.source,
                    "created_at": when(entry.created_at),
                }
                for entry in LedgerEntry.objects.filter(member=member).order_by("created_at", "pk")
            ],
            "expiry_notices": [
                {
                    "kind": notice.kind,
                    "expires_on": notice.expires_on.isoformat(),
                    "points": notice.points,
                    "sent_at": when(notice.created_at),
                }
                for notice in ExpiryNotice.objects.filter(member=member).order_by("created_at")
            ],
        },
        "redemptions": [
            {
                "reward": row.reward_name,
                "kind": row.redemption.reward.kind,
                "points": row.redemption.points,
                "status": row.redemption.status,
                "shipping_address": row.redemption.shipping_address,
                "voucher_code": row.code,
                "reason": row.redemption.decision_note,
                "tracking_note": row.redemption.tracking_note,
                "requested_at": when(row.redemption.created_at),
                "decided_at": when(row.redemption.decided_at),
                "fulfilled_at": when(row.redemption.fulfilled_at),
            }
            for row in redemption_rows(redemptions, language=language)
        ],
        "tier": {
            "name": tier.name_in(language) if tier is not None else None,
            "points_counted": standing.points_counted if standing is not None else 0,
            "computed_at": when(standing.computed_at) if standing is not None else None,
        },
        "badges": [
            {"badge": badge.kind, "awarded_at": when(badge.awarded_at)}
            for badge in MemberBadge.objects.filter(member=member).order_by("awarded_at", "pk")
        ],
    }


def _erase(erasure: MemberErasure) -> None:
    # Nothing is shipped to someone who is gone: what still waits is cancelled first.
    member_redemptions_withdraw(member_id=erasure.member.pk)
    # Where a parcel went and how it was sent name the person; the redemption itself
    # stays as accounting against the marker.
    Redemption.objects.filter(
        organisation_id=erasure.organisation_id, member=erasure.member
    ).update(shipping_address="", tracking_note="")


def _portal(member: Member, language: str) -> dict[str, Any]:
    loyalty = member_loyalty(member=member, language=language)
    return {
        "balance": member_balance(member=member),
        "ledger": ledger_lines(
            entries=member_ledger(member=member)[:PORTAL_LEDGER], language=language
        ),
        "rewards_tier": loyalty.tier,
        "rewards_badges": [badge["label"] for badge in loyalty.badges],
    }


def _staff_overview(organisation: Organisation, member: Member) -> dict[str, Any]:
    from django.urls import reverse  # only the staff page links anywhere
    from django.utils.translation import get_language

    # In the staff reader's language: tier names and badge labels are data per language.
    loyalty = member_loyalty(member=member, language=(get_language() or "en").split("-")[0])
    return {
        "balance": member_balance(member=member),
        "rewards_tier": loyalty.tier,
        "rewards_points_counted": loyalty.points_counted,
        "rewards_badges": [badge["label"] for badge in loyalty.badges],
        "ledger": list(
            LedgerEntry.objects.for_organisation(organisation).filter(member=member)[
                :MEMBER_PAGE_LEDGER
            ]
        ),
        # The whole ledger, explained, and the staff adjustment form.
        "points_url": reverse("staff:member_points", args=[organisation.slug, member.pk]),
    }


PART = MemberData(
    app_label="rewards",
    models=(
        "rewards.LedgerEntry",
        "rewards.Redemption",
        "rewards.MemberStanding",
        "rewards.MemberBadge",
        "rewards.ExpiryNotice",
    ),
    export=_export,
    erase=_erase,
    portal=_portal,
    staff_overview=_staff_overview,
)
