"""Redeeming rewards: points held at request, returned on reject or cancel, stock and
voucher codes claimed so that nothing is ever handed out twice.

Locks are always taken in one order — the member's row (communities.services.member_lock),
then the reward's stock or a voucher code — so two requests never wait on each other in
opposite orders. A member's balance is read only under their lock.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.flows import member_email_send
from communities.models import Member, User
from communities.services import MEMBER_CURRENT_STATUSES, member_lock
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.services import webhook_emit
from rewards.choices import (
    REDEMPTION_COUNTED,
    REDEMPTION_OPEN,
    LedgerReason,
    RedemptionStatus,
    RewardKind,
)
from rewards.models import LedgerEntry, MemberStanding, Redemption, Reward, VoucherCode
from rewards.selectors.ledger import member_balance
from rewards.selectors.portal import cost_after_discount

REQUEST_KEY_LENGTH = Redemption._meta.get_field("request_key").max_length

# Members who may redeem: those the community counts as its own today.
REDEEMING_STATUSES = MEMBER_CURRENT_STATUSES


class RedemptionRefused(ValidationError):
    """Why a redemption cannot go ahead; `code` says which rule refused it."""


def _refuse(message: str, code: str) -> RedemptionRefused:
    return RedemptionRefused(message, code=code)


def reward_cost_for(*, reward: Reward, member: Member) -> int:
    """What the reward costs this member: its cost less their tier's discount, never 0."""
    discount = (
        MemberStanding.objects.filter(member_id=member.pk, tier__isnull=False)
        .values_list("tier__discount_percent", flat=True)
        .first()
    ) or 0
    return cost_after_discount(cost=reward.cost, discount_percent=discount)


def reward_availability(*, reward: Reward, member: Member, now: datetime) -> str | None:
    """None when the member may ask for the reward (points aside), else the refusal code."""
    if reward.organisation_id != member.organisation_id or (
        reward.community_id is not None and reward.community_id != member.community_id
    ):
        return "not_found"
    if not reward.active:
        return "inactive"
    if reward.available_from and now < reward.available_from:
        return "not_yet"
    if reward.available_until and now >= reward.available_until:
        return "ended"
    return None


REFUSALS = {
    "not_found": lambda: _("This reward is not offered in your community."),
    "inactive": lambda: _("This reward is no longer offered."),
    "not_yet": lambda: _("This reward is not available yet."),
    "ended": lambda: _("This reward is no longer available."),
    "not_member": lambda: _("Only members of the community can redeem rewards."),
    "limit_reached": lambda: _("You have redeemed this reward as many times as allowed."),
    "insufficient_points": lambda: _("You do not have enough points for this reward."),
    "out_of_stock": lambda: _("Sorry, this reward has just run out."),
    "address_required": lambda: _("Enter the address to ship it to."),
    "address_too_long": lambda: _("Keep the address under 1,000 characters."),
    "address_invalid": lambda: _("Null characters are not allowed."),
    "request_key_taken": lambda: _("This form was already used. Reload the page and try again."),
}


def refusal(code: str) -> RedemptionRefused:
    return _refuse(str(REFUSALS[code]()), code)


def _claim_voucher(*, reward: Reward, redemption: Redemption, now: datetime) -> bool:
    """Give the redemption the reward's first free code; False when none is left."""
    table = VoucherCode._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET redemption_id = %s, assigned_at = %s "
            f"WHERE id = (SELECT id FROM {table} WHERE reward_id = %s AND redemption_id IS NULL "
            f"ORDER BY id LIMIT 1{skip_locked})",
            [redemption.pk, now, reward.pk],
        )
        return cursor.rowcount == 1


def _take_stock(*, reward: Reward) -> bool:
    if reward.stock is None:
        return True
    return bool(Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1))


def _return_stock(*, redemption: Redemption, was: str) -> None:
    if redemption.reward.kind == RewardKind.VOUCHER:
        # A code still waiting for approval was never shown, so it goes back to the pool;
        # one a member may have seen stays with them, so no one else is ever handed it.
        if was == RedemptionStatus.REQUESTED:
            VoucherCode.objects.filter(redemption=redemption).update(
                redemption=None, assigned_at=None
            )
    elif redemption.reward.stock is not None:
        Reward.objects.filter(pk=redemption.reward_id, stock__isnull=False).update(
            stock=F("stock") + 1
        )


def _address_clean(value: str) -> str:
    address = "\n".join(line.strip() for line in (value or "").strip().splitlines())
    if not address:
        raise refusal("address_required")
    if len(address) > 1000:
        raise refusal("address_too_long")
    if "\x00" in address:
        # Neither database stores one in text, and no person types one.
        raise refusal("address_invalid")
    return address


def _hold_key(redemption: Redemption) -> str:
    return f"redemption:{redemption.pk}:hold"


def _return_key(redemption: Redemption) -> str:
    return f"redemption:{redemption.pk}:return"


@transaction.atomic
def redemption_request(
    *,
    member: Member,
    reward: Reward,
    request_key: str | None = None,
    shipping_address: str = "",
    now: datetime | None = None,
) -> Redemption:
    """Ask for a reward: checks, then holds the points and one item (or voucher code).

    A request_key seen before returns that redemption (a double click redeems once).
    Raises RedemptionRefused with the reason the member sees.
    """
    now = now or timezone.now()
    if request_key and len(request_key) > REQUEST_KEY_LENGTH:
        # The same long key always becomes the same short one, so it still redeems once.
        request_key = hashlib.sha256(request_key.encode()).hexdigest()
    locked = member_lock(member_id=member.pk)
    if request_key:
        existing = Redemption.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.member_id != locked.pk:
                raise refusal("request_key_taken")
            return existing
    if locked.status not in REDEEMING_STATUSES or locked.erased_at is not None:
        raise refusal("not_member")
    # The caller's copy may be stale (deactivated, restocked, repriced since the page was
    # read); the rules below use the row as it is now. Its stock is locked only when taken,
    # after the member's lock, so the lock order holds.
    reward = Reward.objects.filter(pk=reward.pk).first()
    if reward is None:
        raise refusal("not_found")
    address = _address_clean(shipping_address) if reward.kind == RewardKind.PHYSICAL else ""
    refused = reward_availability(reward=reward, member=locked, now=now)
    if refused:
        raise refusal(refused)
    if reward.per_member_limit is not None:
        taken = Redemption.objects.filter(
            member=locked, reward=reward, status__in=REDEMPTION_COUNTED
        ).count()
        if taken >= reward.per_member_limit:
            raise refusal("limit_reached")
    points = reward_cost_for(reward=reward, member=locked)
    if member_balance(member=locked) < points:
        raise refusal("insufficient_points")
    if reward.kind != RewardKind.VOUCHER and not _take_stock(reward=reward):
        raise refusal("out_of_stock")
    redemption = Redemption.objects.create(
        organisation_id=locked.organisation_id,
        member=locked,
        reward=reward,
        points=points,
        request_key=request_key or None,
        shipping_address=address,
    )
    if reward.kind == RewardKind.VOUCHER and not _claim_voucher(
        reward=reward, redemption=redemption, now=now
    ):
        # Rolls back the redemption row with the refusal.
        raise refusal("out_of_stock")
    LedgerEntry.objects.create(
        organisation_id=locked.organisation_id,
        member=locked,
        points=-points,
        reason=LedgerReason.REDEMPTION_HOLD,
        source=f"rewards.redemption:{redemption.pk}",
        detail={"title": reward.name, "reward": reward.pk},
        idempotency_key=_hold_key(redemption),
        created_at=now,
    )
    _webhook_emit(redemption, WebhookEvent.REDEMPTION_REQUESTED)
    if reward.auto_approve:
        _approve(redemption=redemption, actor=None, now=now)
    else:
        _notify(redemption, "redemption_requested")
    return redemption


def _locked_open(redemption: Redemption, *statuses: str) -> Redemption:
    """The redemption re-read under its member's lock; refused unless in `statuses`."""
    member_lock(member_id=redemption.member_id)
    # of=("self",): lock the redemption alone, not the reward, member, community and
    # organisation rows the join reads (that would serialise a whole organisation's work).
    current = (
        Redemption.objects.select_for_update(of=("self",))
        .select_related("reward", "member__community__organisation")
        .get(pk=redemption.pk)
    )
    if current.status not in statuses:
        raise RedemptionRefused(
            _("This redemption is already %(status)s.")
            % {"status": current.get_status_display().lower()},
            code="already_decided",
        )
    return current


def _approve(*, redemption: Redemption, actor: User | None, now: datetime) -> None:
    redemption.status = RedemptionStatus.APPROVED
    redemption.decided_by = actor
    redemption.decided_at = now
    if redemption.reward.kind == RewardKind.VOUCHER:
        # The code is delivered the moment it is shown: nothing is left to fulfil.
        redemption.status = RedemptionStatus.FULFILLED
        redemption.fulfilled_at = now
    redemption.save(
        update_fields=["status", "decided_by", "decided_at", "fulfilled_at", "updated_at"]
    )
    _webhook_emit(redemption, WebhookEvent.REDEMPTION_DECIDED, decision="approved")
    _notify(redemption, "redemption_approved")


@transaction.atomic
def redemption_approve(
    *, redemption: Redemption, actor: User, now: datetime | None = None
) -> Redemption:
    current = _locked_open(redemption, RedemptionStatus.REQUESTED)
    _approve(redemption=current, actor=actor, now=now or timezone.now())
    return current


def _give_back(*, redemption: Redemption, status: str, actor, note: str, now) -> Redemption:
    was = redemption.status
    redemption.status = status
    redemption.decided_by = actor
    redemption.decided_at = now
    redemption.decision_note = note
    redemption.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
    )
    _return_stock(redemption=redemption, was=was)
    LedgerEntry.objects.get_or_create(
        idempotency_key=_return_key(redemption),
        defaults={
            "organisation_id": redemption.organisation_id,
            "member_id": redemption.member_id,
            "points": redemption.points,
            "reason": LedgerReason.REDEMPTION_RETURN,
            "source": f"rewards.redemption:{redemption.pk}",
            "detail": {"title": redemption.reward.name, "reward": redemption.reward_id},
            "created_by": actor,
            "created_at": now,
        },
    )
    return redemption


def member_redemptions_withdraw(*, member_id: int, now: datetime | None = None) -> int:
    """Cancel a member's open redemptions as they are erased (the caller holds their lock):
    nothing can be shipped to, or shown to, someone who is gone. The points return to the
    ledger kept against the erased marker, the items to stock; no email goes."""
    now = now or timezone.now()
    open_ones = (
        Redemption.objects.select_for_update(of=("self",))
        .select_related("reward")
        .filter(member_id=member_id, status__in=REDEMPTION_OPEN)
    )
    withdrawn = 0
    for redemption in open_ones:
        _give_back(
            redemption=redemption, status=RedemptionStatus.CANCELLED, actor=None, note="", now=now
        )
        withdrawn += 1
    return withdrawn


def _note_clean(note: str, *, required: bool, field: str = "reason") -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({field: _("Give a reason: the member sees it.")})
    if len(note) > 1000:
        raise ValidationError({field: _("Keep the reason under 1,000 characters.")})
    if "\x00" in note:
        raise ValidationError({field: _("Null characters are not allowed.")})
    return note


@transaction.atomic
def redemption_reject(
    *, redemption: Redemption, actor: User, reason: str, now: datetime | None = None
) -> Redemption:
    """Refuse a request (or withdraw an approval not yet fulfilled): the points go back."""
    note = _note_clean(reason, required=True)
    current = _locked_open(redemption, *REDEMPTION_OPEN)
    _give_back(
        redemption=current,
        status=RedemptionStatus.REJECTED,
        actor=actor,
        note=note,
        now=now or timezone.now(),
    )
    _webhook_emit(current, WebhookEvent.REDEMPTION_DECIDED, decision="rejected")
    _notify(current, "redemption_rejected")
    return current


@transaction.atomic
def redemption_cancel(
    *,
    redemption: Redemption,
    actor: User | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Redemption:
    """The member withdraws a request still waiting (actor None), or staff cancel an open
    one; the points and the item go back."""
    note = _note_clean(reason, required=False)
    statuses = (RedemptionStatus.REQUESTED,) if actor is None else REDEMPTION_OPEN
    current = _locked_open(redemption, *statuses)
    _give_back(
        redemption=current,
        status=RedemptionStatus.CANCELLED,
        actor=actor,
        note=note,
        now=now or timezone.now(),
    )
    if actor is not None:
        _notify(current, "redemption_cancelled")
    return current


@transaction.atomic
def redemption_fulfil(
    *, redemption: Redemption, actor: User, tracking_note: str = "", now: datetime | None = None
) -> Redemption:
    """Mark an approved redemption as sent or done, with how (a parcel's tracking)."""
    note = (tracking_note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"tracking_note": _("Keep the note under 1,000 characters.")})
    if "\x00" in note:
        raise ValidationError({"tracking_note": _("Null characters are not allowed.")})
    current = _locked_open(redemption, RedemptionStatus.APPROVED)
    current.status = RedemptionStatus.FULFILLED
    current.fulfilled_at = now or timezone.now()
    current.tracking_note = note
    current.save(update_fields=["status", "fulfilled_at", "tracking_note", "updated_at"])
    _notify(current, "redemption_fulfilled")
    return current


def redemptions_decide(
    *, redemptions: list[Redemption], action: str, actor: User, reason: str = ""
) -> tuple[list[Redemption], list[tuple[Redemption, str]]]:
    """Approve or reject many, each in its own transaction: one refusal (already decided
    by a colleague) does not undo the others. Returns (done, [(refused, why)])."""
    if action not in ("approve", "reject"):
        raise ValueError(f"unknown action {action!r}")
    if action == "reject":
        _note_clean(reason, required=True)
    done: list[Redemption] = []
    refused: list[tuple[Redemption, str]] = []
    for redemption in redemptions:
        try:
            if action == "approve":
                done.append(redemption_approve(redemption=redemption, actor=actor))
            else:
                done.append(redemption_reject(redemption=redemption, actor=actor, reason=reason))
        except ValidationError as error:
            refused.append((redemption, " ".join(error.messages)))
    return done, refused


def _notify(redemption: Redemption, template: str) -> None:
    """The member's email for this step, through the outbox after commit (never when
    they unsubscribed or were erased). The voucher code is not in it: only the portal,
    behind the member's sign-in, shows it."""
    member = redemption.member
    community = member.community
    organisation = community.organisation
    link = reverse("community:redemptions", args=[organisation.slug, community.slug])
    member_email_send(
        member=member,
        template=template,
        link=settings.SITE_URL + link,
        key=f"{template}:{redemption.pk}",
        context={
            "reward_name": redemption.reward.name_in(member.locale or ""),
            "points": redemption.points,
            "reason": redemption.decision_note,
            "tracking_note": redemption.tracking_note,
            "kind": redemption.reward.kind,
        },
    )


def _webhook_emit(redemption: Redemption, event: WebhookEvent, decision: str = "") -> int:
    """Tell the organisation's webhook endpoints, in the step's transaction. The member is
    named by id only (a redeeming member is one of the community's own); no address,
    shipping address or voucher code travels."""
    data = {
        "redemption": redemption.pk,
        "member": redemption.member_id,
        "reward": redemption.reward_id,
        "points": redemption.points,
        "status": redemption.status,
        "requested_at": redemption.created_at,
    }
    event_id = f"{event}:{redemption.pk}"
    if decision:
        data |= {"decision": decision, "decided_at": redemption.decided_at}
        # An approval withdrawn later is a second decision, with its own event.
        event_id = f"{event_id}:{decision}"
    return webhook_emit(
        organisation=redemption.organisation_id, event=event, data=data, event_id=event_id
    )
