"""Organisations and their staff: creating one, its settings, roles, staff invitations and
API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import Role
from communities.links import LinkError, link_make, link_read
from communities.models import ApiToken, Organisation, StaffInvitation, StaffRole, User
from communities.models.organisations import API_SCOPES
from communities.services.audit import audit_record
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
    staff_role = StaffRole.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    _audit_staff_role(staff_role, actor=owner, action="staff.role_grant", role=[None, Role.OWNER])
    return organisation


def _audit_staff_role(
    staff_role: StaffRole, *, actor: User | None, action: str, role: list
) -> None:
    """A role granted, changed or removed; the person is named by their staff address."""
    audit_record(
        organisation=staff_role.organisation,
        actor=actor,
        action=action,
        target_type="staff_role",
        target_id=str(staff_role.pk),
        target_label=staff_role.user.email,
        changes={"role": role},
    )


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
    *,
    organisation: Organisation,
    name: str,
    scopes: Iterable[str] | None = None,
    created_by=None,
) -> tuple[ApiToken, str]:
    """A new API key for the organisation with these scopes ("<area>:read" or
    "<area>:write", which brings the read; None: every scope, as keys made before scopes had).
    The key itself is returned once and not kept (nor audited: the entry names the key by
    its name and public prefix, and lists its scopes)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Name the key (at most 100 characters).")]})
    granted = api_token_scopes_clean(scopes=API_SCOPES if scopes is None else scopes)
    prefix = f"chr_{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        organisation=organisation,
        name=name,
        prefix=prefix,
        key_hash=_token_hash(key),
        created_by=created_by,
        scopes=granted,
    )
    audit_record(
        organisation=organisation,
        actor=created_by,
        action="api_token.create",
        target=token,
        target_type="api_token",
        changes={"scopes": [None, ", ".join(granted)]},
    )
    return token, key


def api_token_scopes_clean(*, scopes: Iterable[str]) -> list[str]:
    """Known scopes, each write with its read, sorted; at least one."""
    scopes = set(scopes)
    unknown = sorted(scopes - set(API_SCOPES))
    if unknown:
        raise ValidationError(
            {"scopes": [_("Not a scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}]},
            code="invalid",
        )
    if not scopes:
        raise ValidationError({"scopes": [_("Choose at least one scope.")]}, code="required")
    reads = {scope.replace(":write", ":read") for scope in scopes if scope.endswith(":write")}
    return sorted(scopes | reads)


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
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Stop a key working; audited once (revoking a revoked key changes nothing)."""
    token = (
        ApiToken.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=token.pk)
    )
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            organisation=token.organisation,
            actor=actor,
            action="api_token.revoke",
            target=token,
            target_type="api_token",
        )
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
            invitation = StaffInvitation.objects.create(
                organisation=organisation, email=email, role=role, invited_by=invited_by
            )
    except IntegrityError:
        raise duplicate from None
    _audit_invitation(invitation, actor=invited_by, action="staff_invitation.send")
    return invitation


def _audit_invitation(invitation: StaffInvitation, *, actor: User | None, action: str) -> None:
    audit_record(
        organisation=invitation.organisation,
        actor=actor,
        action=action,
        target=invitation,
        target_type="staff_invitation",
        target_label=invitation.email,
        changes={"role": [None, invitation.role]} if action.endswith(".send") else None,
    )


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
    staff_role, created = StaffRole.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    if created:
        _audit_staff_role(
            staff_role, actor=user, action="staff.role_grant", role=[None, staff_role.role]
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return staff_role


@transaction.atomic
def staff_invitation_revoke(
    *, invitation: StaffInvitation, actor: User | None = None
) -> StaffInvitation:
    """Withdraw an open invitation; its link stops working. An accepted one is left alone."""
    invitation = (
        StaffInvitation.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=invitation.pk)
    )
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already accepted."), code="used")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        _audit_invitation(invitation, actor=actor, action="staff_invitation.revoke")
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
    staff_role = (
        StaffRole.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=staff_role.pk)
    )
    _staff_change_check(staff_role=staff_role, actor=actor, actor_role=actor_role)
    if staff_role.role == Role.OWNER and role != Role.OWNER and owners == [staff_role.pk]:
        raise ValidationError(
            _("The organisation's last owner cannot be demoted; make someone else owner first."),
            code="last_owner",
        )
    if staff_role.role != role:
        before, staff_role.role = staff_role.role, role
        staff_role.save(update_fields=["role", "updated_at"])
        _audit_staff_role(staff_role, actor=actor, action="staff.role_change", role=[before, role])
    return staff_role


@transaction.atomic
def staff_role_remove(*, staff_role: StaffRole, actor: User, actor_role: str) -> None:
    """Take a colleague off the staff (their account stays). Same rules as a change."""
    owners = _owners_locked(organisation=staff_role.organisation)
    staff_role = (
        StaffRole.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=staff_role.pk)
    )
    _staff_change_check(staff_role=staff_role, actor=actor, actor_role=actor_role)
    if staff_role.role == Role.OWNER and owners == [staff_role.pk]:
        raise ValidationError(
            _("The organisation's last owner cannot be removed."), code="last_owner"
        )
    _audit_staff_role(
        staff_role, actor=actor, action="staff.role_remove", role=[staff_role.role, None]
    )
    staff_role.delete()


# --- the organisation's settings -------------------------------------------------------------

# Bounds a person can mean: a report needing groups of more than 100 people would show
# almost nothing; a year is the longest contact limit or anonymous-pool wait we accept.
MIN_GROUP_SIZE_RANGE = (2, 100)
CONTACT_LIMIT_DAYS_RANGE = (0, 365)
POOL_MAX_DAYS_RANGE = (1, 365)
# The audit log is kept at least a month (a typo cannot wipe it) and at most ten years.
AUDIT_RETENTION_DAYS_RANGE = (30, 3650)
SETTINGS_FIELDS = (
    "name",
    "default_language",
    "time_zone",
    "min_group_size",
    "contact_limit_days",
    "contact_limit_followups",
    "anonymous_pool_max_days",
    "audit_retention_days",
    "sender_name",
    "reply_to_email",
    "brand_colour",
    "logo",
)
_HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
# Names zoneinfo knows that are not places: the host's own setting and a placeholder.
_NOT_TIME_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name an organisation may choose, sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_TIME_ZONES))


def _whole_number(value: Any, bounds: tuple[int, int], message: str) -> int:
    if isinstance(value, bool):
        raise ValueError
    number = int(value)
    if not bounds[0] <= number <= bounds[1]:
        raise ValidationError(message % {"low": bounds[0], "high": bounds[1]})
    return number


def _settings_clean(values: dict[str, Any]) -> dict[str, Any]:
    """The settings as stored, or one ValidationError naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def check(field: str, convert) -> None:
        try:
            clean[field] = convert(values[field])
        except ValidationError as exc:
            errors[field] = exc.messages
        except (TypeError, ValueError):
            errors[field] = [_("Enter a whole number.")]

    def text(limit: int, *, required: bool = False, message: str = ""):
        def convert(value: Any) -> str:
            value = (value or "").strip() if isinstance(value, str | None) else None
            if value is None:
                raise ValidationError(_("Enter text."))
            if required and not value:
                raise ValidationError(message)
            if len(value) > limit:
                raise ValidationError(_("Use at most %(limit)d characters.") % {"limit": limit})
            return value

        return convert

    def language(value: Any) -> str:
        if value not in dict(settings.LANGUAGES):
            raise ValidationError(_("Choose one of the languages offered."))
        return value

    def time_zone(value: Any) -> str:
        value = (value or "").strip() if isinstance(value, str | None) else ""
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            value = ""
        if value not in time_zone_names():
            raise ValidationError(
                _("Choose a time zone from the list, like Asia/Bangkok or Europe/London.")
            )
        return value

    def pool_days(value: Any) -> int | None:
        if value in (None, ""):
            return None
        return _whole_number(
            value, POOL_MAX_DAYS_RANGE, _("Enter a number of days from %(low)d to %(high)d.")
        )

    def yes_or_no(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(_("Choose yes or no."))
        return value

    def reply_to(value: Any) -> str:
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            return ""
        return email_clean(value)

    def colour(value: Any) -> str:
        value = (value or "").strip().lower() if isinstance(value, str | None) else ""
        if not _HEX_COLOUR.match(value):
            raise ValidationError(_("Enter a colour as # and six hex digits, like #0d6efd."))
        return value

    def logo(value: Any) -> str:
        value = (value or "").strip() if isinstance(value, str | None) else None
        if value is None:
            raise ValidationError(_("Enter text."))
        if not value:
            return ""
        if len(value) > 200:
            raise ValidationError(_("Use at most %(limit)d characters.") % {"limit": 200})
        try:
            URLValidator(schemes=["https"])(value)
        except ValidationError:
            raise ValidationError(
                _("Enter a full https:// address, like https://example.com/logo.png.")
            ) from None
        return value

    check("name", text(200, required=True, message=_("Give the organisation a name.")))
    check("default_language", language)
    check("time_zone", time_zone)
    check(
        "min_group_size",
        lambda v: _whole_number(
            v,
            MIN_GROUP_SIZE_RANGE,
            _("Enter a group size from %(low)d to %(high)d people."),
        ),
    )
    check(
        "contact_limit_days",
        lambda v: _whole_number(
            v, CONTACT_LIMIT_DAYS_RANGE, _("Enter a number of days from %(low)d to %(high)d.")
        ),
    )
    check("contact_limit_followups", yes_or_no)
    check("anonymous_pool_max_days", pool_days)
    check(
        "audit_retention_days",
        lambda v: _whole_number(
            v, AUDIT_RETENTION_DAYS_RANGE, _("Enter a number of days from %(low)d to %(high)d.")
        ),
    )
    check("sender_name", text(100))
    check("reply_to_email", reply_to)
    check("brand_colour", colour)
    check("logo", logo)
    if errors:
        raise ValidationError(errors, code="invalid")
    return clean


@transaction.atomic
def organisation_settings_update(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str,
    default_language: str,
    time_zone: str,
    min_group_size: int,
    contact_limit_days: int,
    contact_limit_followups: bool,
    anonymous_pool_max_days: int | None,
    sender_name: str,
    reply_to_email: str,
    brand_colour: str,
    logo: str,
    audit_retention_days: int | None = None,
) -> dict[str, list[Any]]:
    """Change the organisation's settings and audit the change; returns {field: [before,
    after]} for the fields that changed (empty, and nothing written, when none did).

    Every field is checked before anything is written; the errors come back together.
    `audit_retention_days` None keeps the current retention.
    """
    if audit_retention_days is None:
        audit_retention_days = organisation.audit_retention_days
    clean = _settings_clean(
        {
            "name": name,
            "default_language": default_language,
            "time_zone": time_zone,
            "min_group_size": min_group_size,
            "contact_limit_days": contact_limit_days,
            "contact_limit_followups": contact_limit_followups,
            "anonymous_pool_max_days": anonymous_pool_max_days,
            "audit_retention_days": audit_retention_days,
            "sender_name": sender_name,
            "reply_to_email": reply_to_email,
            "brand_colour": brand_colour,
            "logo": logo,
        }
    )
    # Before-values come from the locked row, so two saves at once log what each replaced.
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    changes = {
        field: [getattr(locked, field), value]
        for field, value in clean.items()
        if getattr(locked, field) != value
    }
    if not changes:
        return {}
    for field, (_before, after) in changes.items():
        setattr(locked, field, after)
        setattr(organisation, field, after)
    locked.full_clean(exclude=[f.name for f in Organisation._meta.fields if f.name not in changes])
    locked.save(update_fields=[*changes, "updated_at"])
    audit_record(
        organisation=locked,
        actor=actor,
        action="organisation.settings",
        target=locked,
        changes=changes,
    )
    return changes
