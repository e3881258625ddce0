"""rewards' part of a member (see communities.member_data): points and redemptions.

The ledger and redemptions are append-only accounting: erasure leaves them against the
erased member marker, which holds no personal data, so this part has nothing to erase.
"""

from __future__ import annotations

from typing import Any

from communities.member_data import MemberData
from communities.member_data import export_time as when
from communities.models import Member, Organisation
from rewards.models import LedgerEntry, Redemption
from rewards.selectors import member_balance

PORTAL_LEDGER = 8
MEMBER_PAGE_LEDGER = 50


def _export(member: Member) -> dict[str, Any]:
    return {
        "points": {
            "balance": member_balance(member=member),
            "ledger": [
                {
                    "points": entry.points,
                    "reason": entry.reason,
                    "source": entry.source,
                    "created_at": when(entry.created_at),
                }
                for entry in LedgerEntry.objects.filter(member=member).order_by("created_at")
            ],
        },
        "redemptions": [
            {
                "reward": redemption.reward.name,
                "points": redemption.points,
                "status": redemption.status,
                "requested_at": when(redemption.created_at),
                "decided_at": when(redemption.decided_at),
            }
            for redemption in Redemption.objects.filter(member=member)
            .select_related("reward")
            .order_by("created_at")
        ],
    }


def _portal(member: Member, language: str) -> dict[str, Any]:
    ledger = LedgerEntry.objects.filter(member=member).order_by("-created_at", "-pk")
    return {
        "balance": member_balance(member=member),
        "ledger": [
            {
                "points": abs(entry.points),
                "earned": entry.points > 0,
                "reason": entry.get_reason_display(),
                "created_at": entry.created_at,
            }
            for entry in ledger[:PORTAL_LEDGER]
        ],
    }


def _staff_overview(organisation: Organisation, member: Member) -> dict[str, Any]:
    return {
        "balance": member_balance(member=member),
        "ledger": list(
            LedgerEntry.objects.for_organisation(organisation).filter(member=member)[
                :MEMBER_PAGE_LEDGER
            ]
        ),
    }


PART = MemberData(
    app_label="rewards",
    models=("rewards.LedgerEntry", "rewards.Redemption"),
    export=_export,
    portal=_portal,
    staff_overview=_staff_overview,
)
