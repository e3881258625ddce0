"""communities' part of a member (see communities.member_data): the member row, consents,
suppressions, import files, the outbox and the account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from communities.choices import MemberStatus
from communities.member_data import ERASED_PLACEHOLDER, MemberData, MemberErasure
from communities.member_data import export_time as when
from communities.models import (
    AttributeDefinition,
    EmailSuppression,
    LinkToken,
    Member,
    MemberImport,
    Organisation,
)
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail


def _export(member: Member) -> dict[str, Any]:
    community = member.community
    organisation = member.organisation
    language = member.locale
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(community=community)}
    emails = (
        OutboundEmail.objects.filter(to_email__iexact=member.email)
        .filter(Q(organisation=organisation) | Q(organisation__isnull=True))
        .order_by("created_at")
    )
    return {
        "organisation": organisation.name,
        "community": community.name,
        "member": {
            "email": member.email,
            "name": member.name,
            "phone": member.phone,
            "language": member.locale,
            "location": member.location.name if member.location_id else None,
            "status": member.status,
            "joined_at": when(member.joined_at),
            "confirmed_at": when(member.confirmed_at),
            "invited_at": when(member.invited_at),
            "last_active_at": when(member.last_active_at),
            "referral_code": member.referral_code,
            "referred_by_a_member": member.referred_by_id is not None,
            "created_at": when(member.created_at),
        },
        "attributes": {
            key: {
                "label": definitions[key].label.get(language) or definitions[key].label_text
                if key in definitions
                else key,
                "value": value,
            }
            for key, value in member.attributes.items()
        },
        "consents": [
            {
                "purpose": record.purpose,
                "granted": record.granted,
                "policy_version": record.policy_version,
                "channel": record.channel,
                "recorded_at": when(record.recorded_at),
            }
            for record in member.consents.order_by("recorded_at", "pk")
        ],
        "emails": [
            {
                "subject": email.subject,
                "kind": email.template,
                "status": email.status,
                "created_at": when(email.created_at),
                "sent_at": when(email.sent_at),
            }
            for email in emails
        ],
    }


def _erase(erasure: MemberErasure) -> None:
    # The Member row itself, consents (kept against the marker) and the account are
    # handled by member_erase once every part has run.
    _erase_links(erasure)
    email = erasure.email
    if not email:
        return
    uploads = MemberImport.objects.annotate(listed=Cast("errors", TextField())).filter(
        Q(content__icontains=email) | Q(listed__icontains=email),
        community_id=erasure.member.community_id,
    )
    for upload in uploads:
        upload.content = "\n".join(
            line for line in upload.content.splitlines() if email not in line.lower()
        )
        upload.errors = [error for error in upload.errors if email not in str(error).lower()]
        upload.save(update_fields=["content", "errors"])

    # Account emails (no organisation) go with the account, not with one membership.
    sent_to = Q(organisation_id=erasure.organisation_id)
    if not erasure.keeps_account:
        sent_to |= Q(organisation__isnull=True)
    outbox = OutboundEmail.objects.filter(sent_to, to_email__iexact=email)
    outbox.exclude(status=EmailStatus.SENT).update(
        status=EmailStatus.FAILED, last_error="Cancelled: the recipient erased their data."
    )
    outbox.update(
        to_email="",
        subject=ERASED_PLACEHOLDER,
        body_text="",
        body_html="",
        context={},
        headers={},
    )


def _erase_links(erasure: MemberErasure) -> None:
    """The member's emailed links die with them (they are credentials, not data to hand
    over, so the export leaves them out); so do the address's unsubscribe links, unless
    another membership in the organisation still has that address."""
    LinkToken.objects.filter(member=erasure.member).delete()
    if not erasure.email:
        return
    shared = (
        Member.objects.for_organisation(erasure.organisation_id)
        .filter(email__iexact=erasure.email)
        .exclude(pk=erasure.member.pk)
        .exclude(status=MemberStatus.ERASED)
        .exists()
    )
    if not shared:
        LinkToken.objects.for_organisation(erasure.organisation_id).filter(
            email__iexact=erasure.email
        ).delete()


def _portal(member: Member, language: str) -> dict[str, Any]:
    community = member.community
    referral = ""
    if member.referral_code and community.join_mode == "open":
        referral = settings.SITE_URL + (
            reverse("community:join", args=[community.organisation.slug, community.slug])
            + f"?ref={member.referral_code}"
        )
    return {"referral_url": referral}


def _staff_overview(organisation: Organisation, member: Member) -> dict[str, Any]:
    return {
        "consents": list(member.consents.all()),
        # Unsubscribes, hard bounces and spam complaints for the member's address.
        "suppressions": list(
            EmailSuppression.objects.for_organisation(organisation)
            .filter(email=(member.email or "").lower())
            .order_by("-created_at")
        ),
    }


PART = MemberData(
    app_label="communities",
    models=(
        "communities.Member",
        "communities.ConsentRecord",
        "communities.EmailSuppression",
        "communities.MemberImport",
        "communities.LinkToken",
        "communities.OutboundEmail",
        "communities.User",
        "account.EmailAddress",
    ),
    export=_export,
    erase=_erase,
    portal=_portal,
    staff_overview=_staff_overview,
    unrelated={
        "communities.StaffInvitation": "invitations to the staff name colleagues, not members",
        "communities.Organisation": "its reply-to address is the organisation's, not a member's",
    },
)
