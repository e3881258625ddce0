from django.db.models import Sum

from communities.models import Member
from rewards.models import LedgerEntry


def member_balance(*, member: Member) -> int:
    """The member's points: the sum of their ledger, nothing cached."""
    return LedgerEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0
