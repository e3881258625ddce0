"""Member and staff flows that send email: joining, confirming, invitations, and a
member's data export and erasure (composed from every app's registered part, see
communities.member_data)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.choices import ConsentPurpose, MemberStatus, Role
from communities.links import LINK_KINDS
from communities.member_data import MemberErasure, member_data_erase, member_data_export
from communities.models import (
    Community,
    EmailSuppression,
    Member,
    Organisation,
    StaffInvitation,
    StaffRole,
    User,
)
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_enqueue
from communities.services.attributes import attributes_clean
from communities.services.audit import audit_record
from communities.services.common import email_clean, member_lock
from communities.services.consent import consent_record, unsubscribe_token
from communities.services.joining import (
    member_confirm,
    member_confirm_token,
    member_invitation_link_use,
    member_invitation_token,
)
from communities.services.members import member_create
from communities.services.organisations import staff_invitation_create, staff_invitation_token
from communities.webhooks.members import member_erased_emit
from config.ratelimit import rate_limited

# --- member emails ---------------------------------------------------------------------------

# Re-sends of a confirmation or "already a member" email to one address per hour: enough
# for a lost email, too few to turn the join page into a way to flood someone's inbox.
JOIN_RESEND_PER_HOUR = 3


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _suppressed(*, member: Member) -> bool:
    """The address asked for no more email from this organisation, or left the community."""
    return (
        member.status in (MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED)
        or EmailSuppression.objects.filter(
            organisation_id=member.organisation_id, email=member.email
        ).exists()
    )


def member_email_send(
    *, member: Member, template: str, link: str, key: str, context: dict | None = None
) -> OutboundEmail | None:
    """An email about the member's own account (points, rewards) through the outbox, in
    their language; None, and nothing written, when they unsubscribed, were erased or the
    address is suppressed. `context` adds to the usual names and links (data only: the
    template translates it)."""
    if _suppressed(member=member):
        return None
    return _member_email(member=member, template=template, link=link, key=key, extra=context)


def _member_email(
    *, member: Member, template: str, link: str, key: str, extra: dict | None = None
) -> OutboundEmail:
    """One email to a member through the outbox, with the one-click unsubscribe link and
    the List-Unsubscribe headers every Chorus email carries (RFC 8058)."""
    community = member.community
    organisation = community.organisation
    unsubscribe = _absolute(
        reverse(
            "surveys:unsubscribe",
            args=[unsubscribe_token(organisation_id=organisation.pk, email=member.email)],
        )
    )
    return outbox_enqueue(
        organisation=organisation,
        to_email=member.email,
        template=template,
        language=member.locale or organisation.default_language,
        context={
            "organisation_name": organisation.name,
            "community_name": community.name,
            "name": member.name,
            "link": link,
            "portal_url": _absolute(
                reverse("surveys:community_home", args=[organisation.slug, community.slug])
            ),
            "sign_in_url": _absolute(reverse("account_request_login_code")),
            "unsubscribe_url": unsubscribe,
            **(extra or {}),
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        idempotency_key=key,
    )


def member_confirmation_send(
    *, member: Member, rejoin: bool = False, marketing: bool = False
) -> OutboundEmail:
    """The double opt-in email. It goes even to an address that unsubscribed: the person
    has just asked to join, and this email is how they prove the address is theirs."""
    community = member.community
    link = _absolute(
        reverse(
            "community:confirm",
            args=[
                community.organisation.slug,
                community.slug,
                member_confirm_token(member=member, rejoin=rejoin, marketing=marketing),
            ],
        )
    )
    return _member_email(
        member=member,
        template="join_confirm",
        link=link,
        key=f"member-confirm:{member.pk}:{uuid.uuid4().hex}",
    )


def member_invitation_send(*, member: Member) -> OutboundEmail | None:
    """The invitation-to-join email, unless the address has asked for no more email."""
    if _suppressed(member=member):
        return None
    community = member.community
    link = _absolute(
        reverse(
            "community:invitation",
            args=[
                community.organisation.slug,
                community.slug,
                member_invitation_token(member=member),
            ],
        )
    )
    return _member_email(
        member=member,
        template="member_invitation",
        link=link,
        key=f"member-invitation:{member.pk}:{uuid.uuid4().hex}",
    )


# --- join, confirm, invitations --------------------------------------------------------------


@dataclass(frozen=True)
class JoinOutcome:
    """What a join did; the page shows the same "check your email" whatever it was, so a
    stranger learns nothing about who is a member. `sent` is for tests and logs."""

    member: Member
    sent: str  # "confirmation", "invitation", "already_member" or "" (rate-limited)


@transaction.atomic
def member_join(
    *,
    community: Community,
    email: str,
    name: str = "",
    locale: str = "",
    attributes: dict[str, Any] | None = None,
    terms_accepted: bool,
    marketing: bool = False,
    referral_code: str = "",
) -> JoinOutcome:
    """Someone asks to join an open community from its public page.

    A new address becomes a pending member with its consent recorded (terms at the
    current policy version, marketing only if ticked) and gets the double opt-in email.
    An address we know is never changed by a stranger's form: a pending member gets the
    confirmation again, an invited one their invitation, a current member a "you are
    already a member" email, and one who left a confirmation that records their consent
    only when they click it.
    """
    if not terms_accepted:
        raise ValidationError(
            {"consent": [_("Please accept the community terms and privacy policy to join.")]},
            code="consent_required",
        )
    if community.join_mode != "open":
        raise ValidationError(_("This community is by invitation only."), code="invite_only")
    email = email_clean(email)
    existing = Member.objects.filter(community=community, email=email).first()
    if existing is None:
        referrer = None
        if referral_code:
            referrer = (
                Member.objects.filter(community=community, referral_code=referral_code)
                .exclude(status=MemberStatus.ERASED)
                .first()
            )
        member = member_create(
            community=community,
            email=email,
            name=name,
            locale=locale,
            attributes=attributes or {},
            status=MemberStatus.PENDING,
            consent_channel="web",
            marketing=marketing,
            referred_by=referrer,
        )
        member_confirmation_send(member=member)
        return JoinOutcome(member=member, sent="confirmation")
    if rate_limited(
        scope="join-resend", key=f"{community.pk}:{email}", limit=JOIN_RESEND_PER_HOUR, window=3600
    ):
        return JoinOutcome(member=existing, sent="")
    if existing.status == MemberStatus.PENDING:
        member_confirmation_send(member=existing)
        return JoinOutcome(member=existing, sent="confirmation")
    if existing.status == MemberStatus.UNSUBSCRIBED:
        member_confirmation_send(member=existing, rejoin=True, marketing=marketing)
        return JoinOutcome(member=existing, sent="confirmation")
    if existing.status == MemberStatus.INVITED:
        return JoinOutcome(
            member=existing, sent="invitation" if member_invitation_send(member=existing) else ""
        )
    if _suppressed(member=existing):
        return JoinOutcome(member=existing, sent="")
    _member_email(
        member=existing,
        template="already_member",
        link=_absolute(reverse("account_request_login_code")),
        key=f"member-already:{existing.pk}:{uuid.uuid4().hex}",
    )
    return JoinOutcome(member=existing, sent="already_member")


@transaction.atomic
def member_confirmation_resend(*, member: Member) -> bool:
    """A new double opt-in link for a pending member whose link expired (rate-limited)."""
    if member.status != MemberStatus.PENDING:
        return False
    if rate_limited(
        scope="join-resend",
        key=f"{member.community_id}:{member.email}",
        limit=JOIN_RESEND_PER_HOUR,
        window=3600,
    ):
        return False
    member_confirmation_send(member=member)
    return True


@transaction.atomic
def member_invite(
    *,
    community: Community,
    email: str,
    name: str = "",
    locale: str = "",
    invited_by: User | None = None,
) -> Member:
    """Invite one person to join (invite-only communities, or staff inviting to an open one):
    an invited member and an email with their personal link. Their consent is recorded
    only when they accept on the page the link opens.

    An address that unsubscribed from the organisation's email is refused rather than
    silently never written to.
    """
    email = email_clean(email)
    if EmailSuppression.objects.filter(
        organisation_id=community.organisation_id, email=email
    ).exists():
        raise ValidationError(
            {"email": [_("This address asked us not to email it; it cannot be invited.")]},
            code="suppressed",
        )
    member = member_create(
        community=community,
        email=email,
        name=name,
        locale=locale,
        status=MemberStatus.INVITED,
    )
    member_invitation_send(member=member)
    return member


@transaction.atomic
def member_invitation_accept(
    *,
    member: Member,
    name: str,
    locale: str,
    attributes: dict[str, Any] | None = None,
    terms_accepted: bool,
    marketing: bool = False,
    signed: str = "",
) -> Member:
    """An invited person accepts on their link's page: the link proved the address, so
    they are confirmed at once, with the consent they ticked recorded. `signed`, the
    link's token, is used up: it never signs anyone in again."""
    if not terms_accepted:
        raise ValidationError(
            {"consent": [_("Please accept the community terms and privacy policy to join.")]},
            code="consent_required",
        )
    member = member_lock(member_id=member.pk)
    if member.status != MemberStatus.INVITED:
        raise ValidationError(_("This invitation has already been used."), code="used")
    if signed:
        member_invitation_link_use(member=member, signed=signed)
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    member.name = name or member.name
    member.locale = locale or member.locale
    member.attributes = attributes_clean(
        community=member.community, values=attributes or {}, current=member.attributes
    )
    member.save(update_fields=["name", "locale", "attributes", "updated_at"])
    consent_record(
        member=member, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=True, channel="web"
    )
    if marketing:
        consent_record(member=member, purpose=ConsentPurpose.MARKETING, granted=True, channel="web")
    return member_confirm(member=member)


# --- my data: export and erasure ------------------------------------------------------------


def member_export(*, member: Member, actor: User | None = None) -> dict[str, Any]:
    """Everything Chorus holds about a member, for them to download (GDPR art. 15/20,
    PDPA s. 30-31), gathered from every app's registered part. The download is audited:
    `actor` is the staff member who took it, None when the member took their own."""
    data = {"exported_at": timezone.now().isoformat(), **member_data_export(member=member)}
    _member_audit(member, actor=actor, action="member.export")
    return data


def _member_audit(member: Member, *, actor: User | None, action: str, changes=None) -> None:
    # "member #12", never the address or name: the log outlives an erasure.
    audit_record(
        organisation=member.organisation,
        actor=actor,
        action=action,
        target_type="member",
        target_id=str(member.pk),
        target_label=f"member #{member.pk}",
        changes=changes,
    )


@transaction.atomic
def member_erase(*, member: Member, actor: User | None = None) -> Member:
    """Erase a member for good (GDPR art. 17, PDPA s. 33), in one transaction.

    Every app's registered part forgets what it holds (see each app's member_part.py for
    what stays and why); then the Member row becomes an erased marker with no personal
    data (a check constraint holds it to that), against which the append-only ledger,
    participations, redemptions and consent records stay; and the user account goes unless
    it is also staff or a member of another community, in which case it is only unlinked.
    An EmailSuppression the person asked for earlier stays: the address alone, so that
    "never email me" still holds after erasure.
    """
    member = member_lock(member_id=member.pk)
    if member.status == MemberStatus.ERASED:
        return member
    email, name = member.email, member.name
    user = member.user
    keeps_account = user is not None and (
        user.is_staff
        or user.is_superuser
        or StaffRole.objects.filter(user=user).exists()
        or Member.objects.filter(user=user).exclude(pk=member.pk).exists()
    )
    member_data_erase(
        erasure=MemberErasure(
            member=member,
            organisation_id=member.organisation_id,
            email=email,
            name=name,
            needles=[n for n in (email, name) if n and len(n) >= 3],
            keeps_account=keeps_account,
        )
    )

    member.email = member.name = member.phone = member.referral_code = ""
    member.attributes = {}
    member.user = None
    member.location = None
    member.referred_by = None
    status, member.status = member.status, MemberStatus.ERASED
    member.erased_at = timezone.now()
    member.save()
    _member_audit(
        member, actor=actor, action="member.erase", changes={"status": [status, member.status]}
    )
    member_erased_emit(member=member)

    if user is not None and not keeps_account:
        user.delete()
    return member


# --- staff invitations -------------------------------------------------------------------------

# Invitations one organisation may send an hour: a team grows by a few people at a time,
# and an account taken over should not become a way to mail thousands.
STAFF_INVITES_PER_HOUR = 30


def staff_invitation_send(
    *, organisation: Organisation, email: str, role: str, invited_by: User, actor_role: str
) -> StaffInvitation:
    """Invite someone to the organisation's staff and email them the signed accept link.

    Rate-limited per organisation (a ValidationError once over); the email leaves through
    the outbox after the invitation commits.
    """
    if rate_limited(
        scope="staff-invite", key=str(organisation.pk), limit=STAFF_INVITES_PER_HOUR, window=3600
    ):
        raise ValidationError(
            _("Too many invitations from this organisation in the last hour; try again later."),
            code="rate_limited",
        )
    with transaction.atomic():
        invitation = staff_invitation_create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=invited_by,
            actor_role=actor_role,
        )
        link = _absolute(
            reverse("staff_invitation_accept", args=[staff_invitation_token(invitation=invitation)])
        )
        language = invited_by.locale or organisation.default_language
        with translation.override(language):
            role_label = str(Role(role).label)
        outbox_enqueue(
            organisation=organisation,
            to_email=invitation.email,
            template="staff_invitation",
            language=language,
            context={
                "organisation_name": organisation.name,
                "inviter": invited_by.name or invited_by.email,
                "role": role_label,
                "link": link,
                "days": LINK_KINDS["staff_invitation"].max_age.days,
            },
            idempotency_key=f"staff-invitation:{invitation.pk}",
        )
    return invitation
