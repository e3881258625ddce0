from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Member, User
from communities.services import member_lock
from config.sql import insert_rows
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance


class InsufficientPoints(ValidationError):
    pass


def _entry_create(
    *,
    member: Member,
    points: int,
    reason: str,
    source: str,
    idempotency_key: str,
    created_by: User | None,
    at: datetime | None = None,
    detail: dict | None = None,
) -> tuple[LedgerEntry, bool]:
    # get_or_create retries the read when a concurrent insert of the same key wins.
    return LedgerEntry.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "organisation_id": member.organisation_id,
            "member": member,
            "points": points,
            "reason": reason,
            "source": source,
            "created_by": created_by,
            "created_at": at or timezone.now(),
            "detail": detail or {},
        },
    )


@transaction.atomic
def points_award(
    *,
    member: Member,
    points: int,
    reason: str,
    source: str,
    idempotency_key: str,
    created_by=None,
    at: datetime | None = None,
    detail: dict | None = None,
) -> tuple[LedgerEntry, bool]:
    """Credit points once per idempotency key; returns (entry, created).

    `at` is the time the entry records (an anonymous survey's points carry only the day).
    """
    if points <= 0:
        raise ValidationError(_("An award must be a positive number of points."))
    return _entry_create(
        member=member,
        points=points,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
        created_by=created_by,
        at=at,
        detail=detail,
    )


def points_award_once(
    *,
    organisation_id: int,
    member_id: int,
    points: int,
    reason: str,
    source: str,
    idempotency_key: str,
    at: datetime,
    detail: dict | None = None,
) -> bool:
    """`points_award` in one plain INSERT for the answering hot path; False when the key
    was awarded already (the caller holds the member's lock)."""
    row = points_award_row(
        organisation_id=organisation_id,
        member_id=member_id,
        points=points,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
        at=at,
        detail=detail,
    )
    rows = insert_rows(LedgerEntry, [row], conflict=("idempotency_key",), returning=("id",))
    return bool(rows)


def points_award_row(
    *,
    organisation_id: int,
    member_id: int,
    points: int,
    reason: str,
    source: str,
    idempotency_key: str,
    at: datetime,
    detail: dict | None = None,
) -> dict:
    """The ledger row `points_award_once` writes (field name: value), for a caller that
    writes it inside a statement of its own (surveys' submit); unique on its
    idempotency_key, so it is written once."""
    return {
        "organisation": organisation_id,
        "member": member_id,
        "points": points,
        "reason": reason,
        "source": source,
        "idempotency_key": idempotency_key,
        "created_by": None,
        "created_at": at,
        "detail": detail or {},
    }


@transaction.atomic
def points_debit(
    *,
    member: Member,
    points: int,
    reason: str,
    source: str,
    idempotency_key: str,
    created_by=None,
    detail: dict | None = None,
) -> tuple[LedgerEntry, bool]:
    """Debit points once per key, under the member's row lock; never below zero."""
    if points <= 0:
        raise ValidationError(_("A debit must be a positive number of points."))
    member_lock(member_id=member.pk)
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if member_balance(member=member) < points:
        raise InsufficientPoints(_("Not enough points."), code="insufficient_points")
    return _entry_create(
        member=member,
        points=-points,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
        created_by=created_by,
        detail=detail,
    )


@transaction.atomic
def points_adjust(
    *, member: Member, points: int, note: str, actor: User, idempotency_key: str
) -> tuple[LedgerEntry, bool]:
    """A staff credit (points > 0) or debit (points < 0) with the reason the member's
    history shows and who made it; a debit never takes the balance below zero."""
    note = " ".join((note or "").split())
    if not note:
        raise ValidationError({"note": _("Say why: the member sees this reason.")})
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the reason under 500 characters.")})
    if "\x00" in note:
        # Neither database stores one in text, and no person types one.
        raise ValidationError({"note": _("Null characters are not allowed.")})
    if not points:
        raise ValidationError({"points": _("An adjustment must add or take away points.")})
    if abs(points) > 10_000_000:
        raise ValidationError({"points": _("That is more points than any adjustment may move.")})
    detail = {"note": note}
    if points > 0:
        member_lock(member_id=member.pk)
        return _entry_create(
            member=member,
            points=points,
            reason=LedgerReason.ADJUSTMENT,
            source=f"staff:{actor.pk}",
            idempotency_key=idempotency_key,
            created_by=actor,
            detail=detail,
        )
    return points_debit(
        member=member,
        points=-points,
        reason=LedgerReason.ADJUSTMENT,
        source=f"staff:{actor.pk}",
        idempotency_key=idempotency_key,
        created_by=actor,
        detail=detail,
    )
