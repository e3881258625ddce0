"""Organisations and their staff: creating one, roles, staff invitations and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import Role
from communities.links import LinkError, link_make, link_read
from communities.models import ApiToken, Organisation, StaffInvitation, StaffRole, User
from communities.services.common import email_clean, unique_save

# Staff routes live under /staff/<slug>/; these words would read as something else.
ORGANISATION_RESERVED_SLUGS = frozenset({"new", "admin", "api", "accounts", "static", "media"})


@transaction.atomic
def organisation_create(
    *, name: str, slug: str, owner: User, default_language: str = "en"
) -> Organisation:
    """A new organisation with `owner` as its first owner."""
    organisation = Organisation(
        name=(name or "").strip(),
        slug=(slug or "").strip().lower(),
        default_language=default_language or "en",
    )
    if organisation.slug in ORGANISATION_RESERVED_SLUGS:
        raise ValidationError({"slug": [_("This address is reserved; choose another.")]})
    if Organisation.objects.filter(slug=organisation.slug).exists():
        raise ValidationError(
            {"slug": [_("Another organisation already uses this address.")]}, code="duplicate"
        )
    organisation.full_clean()
    unique_save(
        organisation, field="slug", message=_("Another organisation already uses this address.")
    )
    StaffRole.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    return organisation


def _role_grant_check(*, actor_role: str, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose a role.")]}, code="invalid")
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError(
            {"role": [_("Only an owner can make someone an owner.")]}, code="owner_only"
        )


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, organisation: Organisation, name: str, created_by=None
) -> tuple[ApiToken, str]:
    """A new API key for the organisation; the key itself is returned once and not kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Name the key (at most 100 characters).")]})
    prefix = f"chr_{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        organisation=organisation,
        name=name,
        prefix=prefix,
        key_hash=_token_hash(key),
        created_by=created_by,
    )
    return token, key


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The live token a key belongs to, or None; notes when it was last used."""
    token = (
        ApiToken.objects.select_related("organisation")
        .filter(key_hash=_token_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # At most one write a minute per key, not one per call.
        if token.last_used_at is None or token.last_used_at < now - timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    token.revoked_at = token.revoked_at or timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def staff_invitation_create(
    *, organisation: Organisation, email: str, role: str, invited_by: User, actor_role: str
) -> StaffInvitation:
    """Record an invitation to the organisation's staff (the email is sent by the flow).

    One open invitation per address; someone already on the staff is not invited.
    """
    try:
        email = email_clean(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}, code=exc.code) from None
    _role_grant_check(actor_role=actor_role, role=role)
    if StaffRole.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError(
            {"email": [_("This person is already on the team.")]}, code="already_staff"
        )
    duplicate = ValidationError(
        {"email": [_("An invitation to this address is already waiting; revoke it first.")]},
        code="duplicate",
    )
    open_invitations = StaffInvitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True
    )
    if open_invitations.filter(email__iexact=email).exists():
        raise duplicate
    try:
        with transaction.atomic():
            return StaffInvitation.objects.create(
                organisation=organisation, email=email, role=role, invited_by=invited_by
            )
    except IntegrityError:
        raise duplicate from None


def staff_invitation_token(*, invitation: StaffInvitation) -> str:
    """The signed token in a staff invitation's accept link."""
    return link_make("staff_invitation", {"i": invitation.pk})


def staff_invitation_from_token(*, signed: str) -> StaffInvitation:
    """The open invitation a link names, or LinkError saying why not."""
    payload = link_read("staff_invitation", signed)
    pk = payload.get("i") if isinstance(payload, dict) else None
    invitation = (
        StaffInvitation.objects.select_related("organisation", "invited_by")
        .filter(pk=pk if isinstance(pk, int) else None)
        .first()
    )
    if invitation is None:
        raise LinkError(LinkError.FORGED)
    if invitation.revoked_at is not None:
        raise LinkError(LinkError.REVOKED, invitation)
    if invitation.accepted_at is not None:
        raise LinkError(LinkError.USED, invitation)
    return invitation


def user_has_verified_email(*, user: User, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


@transaction.atomic
def staff_invitation_accept(*, invitation: StaffInvitation, user: User) -> StaffRole:
    """Give `user` the invited role; they must hold the invited address, verified.

    Someone already on the staff keeps the role they have (an invitation never demotes).
    """
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.revoked_at is not None:
        raise LinkError(LinkError.REVOKED, invitation)
    if invitation.accepted_at is not None:
        raise LinkError(LinkError.USED, invitation)
    if not user_has_verified_email(user=user, email=invitation.email):
        raise ValidationError(
            _("This invitation was sent to %(email)s; sign in with that address to accept it.")
            % {"email": invitation.email},
            code="wrong_user",
        )
    staff_role, _created = StaffRole.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return staff_role


@transaction.atomic
def staff_invitation_revoke(*, invitation: StaffInvitation) -> StaffInvitation:
    """Withdraw an open invitation; its link stops working. An accepted one is left alone."""
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already accepted."), code="used")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def _owners_locked(*, organisation: Organisation) -> list[int]:
    """Lock the organisation's owner rows (always in pk order) and return their ids, so
    two owners demoting each other at once cannot leave the organisation with none."""
    return list(
        StaffRole.objects.select_for_update()
        .filter(organisation=organisation, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _staff_change_check(*, staff_role: StaffRole, actor: User, actor_role: str) -> None:
    if staff_role.user_id == actor.pk:
        raise ValidationError(_("You cannot change your own role."), code="self")
    if staff_role.role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError(_("Only an owner can change another owner."), code="owner_only")


@transaction.atomic
def staff_role_change(
    *, staff_role: StaffRole, role: str, actor: User, actor_role: str
) -> StaffRole:
    """Change a colleague's role. Only owners grant or remove `owner`; nobody changes
    their own role; the last owner stays an owner."""
    _role_grant_check(actor_role=actor_role, role=role)
    owners = _owners_locked(organisation=staff_role.organisation)
    staff_role = StaffRole.objects.select_for_update().get(pk=staff_role.pk)
    _staff_change_check(staff_role=staff_role, actor=actor, actor_role=actor_role)
    if staff_role.role == Role.OWNER and role != Role.OWNER and owners == [staff_role.pk]:
        raise ValidationError(
            _("The organisation's last owner cannot be demoted; make someone else owner first."),
            code="last_owner",
        )
    if staff_role.role != role:
        staff_role.role = role
        staff_role.save(update_fields=["role", "updated_at"])
    return staff_role


@transaction.atomic
def staff_role_remove(*, staff_role: StaffRole, actor: User, actor_role: str) -> None:
    """Take a colleague off the staff (their account stays). Same rules as a change."""
    owners = _owners_locked(organisation=staff_role.organisation)
    staff_role = StaffRole.objects.select_for_update().get(pk=staff_role.pk)
    _staff_change_check(staff_role=staff_role, actor=actor, actor_role=actor_role)
    if staff_role.role == Role.OWNER and owners == [staff_role.pk]:
        raise ValidationError(
            _("The organisation's last owner cannot be removed."), code="last_owner"
        )
    staff_role.delete()
