"""The member events (member.joined, member.unsubscribed, member.erased), as the
communities services emit them inside their own transactions.

A member is named by id only: no address, name, phone or attributes travel. A receiver
that holds consent to more asks the members API with its key. Each event id carries the
moment of the change, so a member who leaves and comes back is announced each time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from communities.choices import MemberStatus
from communities.models import Member
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.emit import webhook_emit, webhook_emit_many, webhook_subscribed

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _stamp(at: datetime) -> str:
    # Unix seconds in base 36: an event id stays well inside its 40 characters.
    value, out = int(at.timestamp()), ""
    while True:
        value, digit = divmod(value, 36)
        out = _DIGITS[digit] + out
        if not value:
            return out


def _data(member: Member, at: datetime, status: str = "") -> dict:
    return {
        "member": member.pk,
        "community": member.community_id,
        "status": status or member.status,
        "at": at,
    }


def member_joined_emit(*, members: Iterable[Member], organisation_id: int) -> int:
    """member.joined for members who just joined (confirmed, or added as members)."""
    if not webhook_subscribed(organisation=organisation_id, event=WebhookEvent.MEMBER_JOINED):
        return 0
    events = []
    for member in members:
        at = member.joined_at or timezone.now()
        events.append((f"member.joined:{member.pk}:{_stamp(at)}", _data(member, at)))
    return webhook_emit_many(
        organisation=organisation_id, event=WebhookEvent.MEMBER_JOINED, events=events
    )


def member_unsubscribed_emit(*, members: Iterable[Member], organisation_id: int) -> int:
    """member.unsubscribed for members who just left or stopped all email (their rows
    may still hold the status they had)."""
    if not webhook_subscribed(organisation=organisation_id, event=WebhookEvent.MEMBER_UNSUBSCRIBED):
        return 0
    at = timezone.now()
    return webhook_emit_many(
        organisation=organisation_id,
        event=WebhookEvent.MEMBER_UNSUBSCRIBED,
        events=[
            (
                f"member.unsubscribed:{member.pk}:{_stamp(at)}",
                _data(member, at, MemberStatus.UNSUBSCRIBED),
            )
            for member in members
        ],
    )


def member_erased_emit(*, member: Member) -> int:
    """member.erased: the member's id and nothing else (their data is gone)."""
    return webhook_emit(
        organisation=member.organisation_id,
        event=WebhookEvent.MEMBER_ERASED,
        event_id=f"member.erased:{member.pk}",
        data={"member": member.pk},
    )
