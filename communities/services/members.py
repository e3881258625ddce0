"""A community's members: adding one, a member's own profile changes and staff edits."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import Community, Location, Member, User
from communities.services.attributes import (
    attributes_clean,
    community_attributes,
    member_profile_complete,
)
from communities.services.common import email_clean, language_clean, unique_save
from communities.services.consent import consent_record
from communities.signals import member_profile_completed
from communities.webhooks.members import member_joined_emit

# Statuses of someone who is in the community (confirmed and not gone).
MEMBER_CURRENT_STATUSES = (
    MemberStatus.NEW,
    MemberStatus.ACTIVE,
    MemberStatus.LAPSED,
    MemberStatus.CHURNED,
)


def referral_code_new() -> str:
    return secrets.token_urlsafe(9)[:12]


@transaction.atomic
def member_create(
    *,
    community: Community,
    email: str,
    name: str = "",
    locale: str = "",
    attributes: Mapping[str, Any] | None = None,
    status: str = MemberStatus.NEW,
    consent_channel: str | None = None,
    marketing: bool = False,
    user: User | None = None,
    location: Location | None = None,
    referred_by: Member | None = None,
) -> Member:
    """Add one member to a community, validated; record terms consent when given.

    A second member with the same address in the community is a ValidationError on the
    email field (the database constraint stays the last word under a race).
    """
    email = email_clean(email)
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    cleaned = attributes_clean(community=community, values=attributes or {})
    if Member.objects.filter(community=community, email=email).exists():
        raise ValidationError(
            {"email": [_("This address is already a member of this community.")]},
            code="duplicate",
        )
    now = timezone.now()
    member = Member(
        organisation_id=community.organisation_id,
        community=community,
        email=email,
        name=name,
        locale=locale or community.organisation.default_language,
        attributes=cleaned,
        status=status,
        user=user,
        location=location,
        referred_by=referred_by,
        referral_code=referral_code_new(),
        joined_at=None if status in (MemberStatus.PENDING, MemberStatus.INVITED) else now,
        invited_at=now if status == MemberStatus.INVITED else None,
    )
    unique_save(
        member, field="email", message=_("This address is already a member of this community.")
    )
    if member.joined_at is not None:
        member_joined_emit(members=[member], organisation_id=member.organisation_id)
    if consent_channel is not None:
        consent_record(
            member=member,
            purpose=ConsentPurpose.COMMUNITY_TERMS,
            granted=True,
            channel=consent_channel,
        )
        if marketing:
            consent_record(
                member=member,
                purpose=ConsentPurpose.MARKETING,
                granted=True,
                channel=consent_channel,
            )
    return member


@transaction.atomic
def member_profile_update(
    *, member: Member, name: str, locale: str, attributes: Mapping[str, Any]
) -> Member:
    """A member's own changes to their profile; the address is not theirs to change here.
    A profile saved complete is announced (signals.member_profile_completed) in this
    transaction."""
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    definitions = community_attributes(community=member.community)
    member.attributes = attributes_clean(
        community=member.community,
        values=attributes,
        current=member.attributes,
        definitions=definitions,
    )
    member.name = name
    member.locale = locale or member.locale
    member.full_clean(exclude=["user", "location", "referred_by", "community", "organisation"])
    member.save(update_fields=["name", "locale", "attributes", "updated_at"])
    if member_profile_complete(member=member, definitions=definitions):
        member_profile_completed.send(sender=Member, member=member)
    return member


@transaction.atomic
def member_update(
    *, member: Member, name: str, locale: str, attributes: Mapping[str, Any]
) -> Member:
    """Staff correct a member's name, language and attributes (validated; email unchanged)."""
    if member.is_erased:
        raise ValidationError(_("This member erased their data; there is nothing to edit."))
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if len(name) > 200:
        errors["name"] = [_("Keep the name under 200 characters.")]
    try:
        locale = language_clean(locale, default=member.locale)
    except ValidationError as exc:
        errors["locale"] = exc.messages
    try:
        cleaned = attributes_clean(
            community=member.community, values=attributes, current=member.attributes
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    member.name, member.locale, member.attributes = name, locale, cleaned
    member.save(update_fields=["name", "locale", "attributes", "updated_at"])
    return member
