"""Joining by link: the double opt-in and invitation links, and confirming a member.

Both links are single-use and carry only an opaque token (communities.links): opening one
shows a page and changes nothing (mail scanners open every link), and the POST from that
page uses it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.links import LinkError, link_mint, link_read, link_use
from communities.models import Community, EmailSuppression, Member, User
from communities.services.attributes import member_profile_complete
from communities.services.common import member_lock
from communities.services.consent import consent_record
from communities.signals import member_confirmed, member_profile_completed
from communities.webhooks.members import member_joined_emit


def member_invitation_token(*, member: Member) -> str:
    """The token in an invitation-to-join link (invite-only communities need one)."""
    return link_mint("member_invitation", organisation_id=member.organisation_id, member=member)


def _link_member(*, payload: Any, community: Community) -> Member | None:
    """The member a link's payload names in `community`, if the link was sent to the
    address the member still has (links sent before tokens were stored name no address
    for an invitation)."""
    if not isinstance(payload, dict):
        return None
    member = (
        Member.objects.select_related("community", "organisation")
        .filter(pk=payload.get("m"), community=community)
        .exclude(email="")
        .first()
    )
    if member is None or ("e" in payload and member.email != payload["e"]):
        return None
    return member


def member_from_invitation(*, signed: str, community: Community) -> Member:
    """The invited member a link names, or LinkError; the link must be for `community`."""
    try:
        payload = link_read("member_invitation", signed)
    except LinkError as exc:
        if exc.reason == LinkError.FORGED:
            raise
        member = _link_member(payload=exc.payload, community=community)
        raise LinkError(exc.reason, member) from None
    member = _link_member(payload=payload, community=community)
    if member is None:
        raise LinkError(LinkError.FORGED)
    if member.status != MemberStatus.INVITED:
        raise LinkError(LinkError.USED, member)
    return member


def member_invitation_link_use(*, member: Member, signed: str) -> None:
    """Use up an invitation link as its invitation is accepted (in that transaction)."""
    if not link_use(
        "member_invitation", signed, organisation_id=member.organisation_id, member=member
    ):
        raise ValidationError(_("This invitation has already been used."), code="used")


def member_confirm_token(*, member: Member, rejoin: bool = False, marketing: bool = False) -> str:
    """The token in a double opt-in link. Its row names the member and the address it was
    sent to, so the link dies with an erasure or an address change.

    A rejoin (someone who had left asks to come back) carries what they ticked, because
    their consent is only recorded once the link proves the address is theirs.
    """
    data: dict[str, Any] = {"r": 1, "k": int(marketing)} if rejoin else {}
    return link_mint(
        "member_confirm", organisation_id=member.organisation_id, member=member, data=data
    )


def _confirmable(member: Member, payload: Mapping[str, Any]) -> bool:
    return member.status == MemberStatus.PENDING or (
        bool(payload.get("r")) and member.status == MemberStatus.UNSUBSCRIBED
    )


def member_from_confirm_link(*, signed: str, community: Community) -> tuple[Member, dict]:
    """(member, payload) a confirmation link names, or LinkError.

    An expired link still names its member (the link is genuine, only old), so the page
    can offer a new link; a used one names them too, so the page speaks their language.
    A link for another community is forged. A link whose member is already confirmed
    counts as used: it can never sign anyone in again.
    """
    try:
        payload = link_read("member_confirm", signed)
    except LinkError as exc:
        if exc.reason == LinkError.FORGED:
            raise
        member = _link_member(payload=exc.payload, community=community)
        if member is None:
            raise LinkError(LinkError.FORGED) from None
        raise LinkError(exc.reason, member) from None
    member = _link_member(payload=payload, community=community)
    if member is None or "e" not in payload:
        raise LinkError(LinkError.FORGED)
    if not _confirmable(member, payload):
        raise LinkError(LinkError.USED, member)
    return member, payload


@transaction.atomic
def member_confirm_by_link(*, signed: str, community: Community) -> Member:
    """Confirm the member a double opt-in link names, using the link up: a second use,
    even at the same moment, is LinkError(used). A refusal (ValidationError) leaves the
    link unused."""
    member, payload = member_from_confirm_link(signed=signed, community=community)
    member = member_lock(member_id=member.pk)
    if not _confirmable(member, payload) or not link_use(
        "member_confirm", signed, organisation_id=member.organisation_id, member=member
    ):
        raise LinkError(LinkError.USED, member)
    return member_confirm(member=member, payload=payload)


def member_user_link(*, member: Member) -> User:
    """The account for the member's address, made if there is none, its address verified
    (the member just proved it) and linked to the member."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=member.email).first()
    if user is None:
        user = User(email=member.email, name=member.name, locale=member.locale)
        # Members sign in by an emailed code; a password is theirs to set if they want one.
        user.set_unusable_password()
        user.save()
    address = EmailAddress.objects.filter(user=user, email__iexact=member.email).first()
    if address is None:
        EmailAddress.objects.create(
            user=user,
            email=member.email,
            verified=True,
            primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
        )
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    if member.user_id != user.pk:
        if (
            Member.objects.filter(community_id=member.community_id, user=user)
            .exclude(pk=member.pk)
            .exists()
        ):
            raise ValidationError(
                _("This account already belongs to another member of this community."),
                code="duplicate",
            )
        member.user = user
        member.save(update_fields=["user", "updated_at"])
    return user


@transaction.atomic
def member_confirm(*, member: Member, payload: Mapping[str, Any] | None = None) -> Member:
    """Confirm a member's address (double opt-in or an accepted invitation): status new,
    joined now, account linked. Idempotent: a confirmed member is left as it is.

    A rejoin payload records the consent the person gave on the join page. The change is
    announced in this transaction (signals.member_confirmed, and member_profile_completed
    when the profile they joined with is complete), so what upper layers award for it
    commits with it.
    """
    member = member_lock(member_id=member.pk)
    now = timezone.now()
    rejoin = bool(payload and payload.get("r"))
    if member.status in (MemberStatus.PENDING, MemberStatus.INVITED) or (
        rejoin and member.status == MemberStatus.UNSUBSCRIBED
    ):
        if rejoin:
            consent_record(
                member=member,
                purpose=ConsentPurpose.COMMUNITY_TERMS,
                granted=True,
                channel=ConsentChannel.WEB,
            )
            if payload.get("k"):
                consent_record(
                    member=member,
                    purpose=ConsentPurpose.MARKETING,
                    granted=True,
                    channel=ConsentChannel.WEB,
                )
            # Coming back is an explicit opt-in: lift the organisation's stop on email.
            EmailSuppression.objects.filter(
                organisation_id=member.organisation_id, email=member.email
            ).delete()
        member.status = MemberStatus.NEW
        member.confirmed_at = now
        member.joined_at = now
        member.last_active_at = now
        member.save(
            update_fields=["status", "confirmed_at", "joined_at", "last_active_at", "updated_at"]
        )
        member_confirmed.send(sender=Member, member=member)
        member_joined_emit(members=[member], organisation_id=member.organisation_id)
        if member_profile_complete(member=member):
            member_profile_completed.send(sender=Member, member=member)
    member_user_link(member=member)
    return member
