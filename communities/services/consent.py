"""Consent: the append-only record of each decision, a member's grant or withdrawal, and the
one-click unsubscribe every member and survey email carries.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.links import link_mint, link_read
from communities.models import ConsentRecord, EmailSuppression, Member
from communities.services.common import member_lock
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.emit import webhook_subscribed
from communities.webhooks.members import member_unsubscribed_emit
from config.sql import insert_rows


def consent_record(
    *,
    member: Member,
    purpose: ConsentPurpose,
    granted: bool,
    channel: ConsentChannel,
    policy_version: int | None = None,
) -> ConsentRecord:
    """Append one consent decision; the history is never edited."""
    return ConsentRecord.objects.create(
        organisation_id=member.organisation_id,
        member=member,
        purpose=purpose,
        granted=granted,
        channel=channel,
        policy_version=policy_version or member.community.policy_version,
    )


def consent_append(
    *,
    organisation_id: int,
    member_id: int,
    purpose: str,
    granted: bool,
    channel: str,
    policy_version: int,
    at: datetime,
) -> None:
    """`consent_record` in one plain INSERT, for the answering hot path (config.sql)."""
    insert_rows(
        ConsentRecord,
        [
            {
                "organisation": organisation_id,
                "member": member_id,
                "purpose": purpose,
                "granted": granted,
                "channel": channel,
                "policy_version": policy_version,
                "recorded_at": at,
            }
        ],
    )


@transaction.atomic
def member_consent_change(
    *, member: Member, purpose: str, granted: bool, channel: str = ConsentChannel.WEB
) -> ConsentRecord:
    """A member grants or withdraws one purpose. Withdrawing the community terms is
    leaving the community (status unsubscribed); granting them accepts the current
    policy version."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError(_("Unknown consent purpose."), code="invalid")
    member = member_lock(member_id=member.pk)
    record = consent_record(member=member, purpose=purpose, granted=granted, channel=channel)
    if purpose == ConsentPurpose.COMMUNITY_TERMS and not granted:
        was = member.status
        member.status = MemberStatus.UNSUBSCRIBED
        member.save(update_fields=["status", "updated_at"])
        if was != MemberStatus.UNSUBSCRIBED:
            member_unsubscribed_emit(members=[member], organisation_id=member.organisation_id)
    return record


def unsubscribe_token(*, organisation_id: int, email: str) -> str:
    """The opaque token of an address's unsubscribe link: it names no address."""
    return link_mint("unsubscribe", organisation_id=organisation_id, email=email)


@transaction.atomic
def email_unsubscribe(*, signed: str) -> EmailSuppression:
    """Stop email to an address for one organisation (from a link in an email).

    Raises LinkError for a link we did not make (an opaque token, or an address signed
    the old way in a link sent before tokens).
    """
    organisation_id, email = link_read("unsubscribe", signed)
    suppression, _created = EmailSuppression.objects.get_or_create(
        organisation_id=organisation_id, email=email.lower()
    )
    members = (
        Member.objects.for_organisation(organisation_id)
        .filter(email__iexact=email)
        .exclude(status=MemberStatus.ERASED)
    )
    # Read only when an endpoint wants to hear of it (usually no query: a cached answer).
    leaving = (
        list(members.exclude(status=MemberStatus.UNSUBSCRIBED).only("pk", "community_id"))
        if webhook_subscribed(organisation=organisation_id, event=WebhookEvent.MEMBER_UNSUBSCRIBED)
        else []
    )
    members.update(status=MemberStatus.UNSUBSCRIBED)
    member_unsubscribed_emit(members=leaving, organisation_id=organisation_id)
    return suppression
