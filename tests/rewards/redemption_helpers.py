"""Plain helpers the redemption workflow tests share (the fixtures stay in each file:
pytest finds fixtures by name, and importing one would shadow it)."""

from communities.outbox.models import OutboundEmail
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.services import points_award


def funded(member, points=500):
    """The member with `points` earned (one award)."""
    points_award(
        member=member,
        points=points,
        reason=LedgerReason.JOINED,
        source="test",
        idempotency_key=f"test-fund:{member.pk}:{points}",
    )
    return member


def emails(template=None):
    emails = OutboundEmail.objects.order_by("pk")
    return list(emails.filter(template=template) if template else emails)


def returns(redemption):
    return LedgerEntry.objects.filter(
        source=f"rewards.redemption:{redemption.pk}", reason=LedgerReason.REDEMPTION_RETURN
    )
