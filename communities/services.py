import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import AttributeKind, ConsentChannel, ConsentPurpose, MemberStatus
from communities.models import (
    ApiToken,
    AttributeDefinition,
    Community,
    ConsentRecord,
    Location,
    Member,
    Organisation,
    User,
)

ATTRIBUTE_TEXT_LIMIT = 200


def email_normalise(email: str) -> str:
    """The one spelling of an address we store and compare: trimmed and lower-cased.

    Lower-casing the local part is not RFC-correct, but every mail provider our
    members use treats it case-insensitively, and one person must be one member.
    """
    return (email or "").strip().lower()


def email_clean(email: Any) -> str:
    """A normalised, valid address, or ValidationError with a message people understand."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationError(_("Enter an email address."), code="required")
    normalised = email_normalise(email)
    if len(normalised) > 254:
        raise ValidationError(_("That email address is too long."), code="max_length")
    try:
        validate_email(normalised)
    except ValidationError:
        raise ValidationError(_("Enter a valid email address."), code="invalid") from None
    return normalised


def community_attributes(*, community: Community) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(community=community))


def attribute_value_clean(*, definition: AttributeDefinition, value: Any) -> Any:
    """One attribute value in its stored form (str, number, ISO date, option value)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if definition.required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    if definition.kind == AttributeKind.TEXT:
        text = str(value).strip()
        if len(text) > ATTRIBUTE_TEXT_LIMIT:
            raise ValidationError(
                _("Keep this under %(limit)d characters.") % {"limit": ATTRIBUTE_TEXT_LIMIT},
                code="max_length",
            )
        return text
    if definition.kind == AttributeKind.NUMBER:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."), code="invalid")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(_("Enter a number."), code="invalid") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise ValidationError(_("Enter a number."), code="invalid")
        return int(number) if number == number.to_integral_value() else float(number)
    if definition.kind == AttributeKind.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from None
    allowed = [str(option.get("value")) for option in definition.options]
    if str(value).strip() not in allowed:
        raise ValidationError(
            _("Choose one of: %(options)s.") % {"options": ", ".join(allowed)},
            code="invalid_choice",
        )
    return str(value).strip()


def attributes_clean(
    *,
    community: Community,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
    definitions: list[AttributeDefinition] | None = None,
) -> dict[str, Any]:
    """Validate attribute values against the community's definitions.

    `values` may hold some keys (a partial update over `current`); unknown keys are an
    error, not silently dropped. Returns the whole new attributes dict.
    """
    definitions = (
        definitions if definitions is not None else community_attributes(community=community)
    )
    by_key = {d.key: d for d in definitions}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_key:
            errors[key] = [_("This community has no attribute “%(key)s”.") % {"key": key}]
    result = {k: v for k, v in (current or {}).items() if k in by_key}
    for key, definition in by_key.items():
        if key not in values and key in result:
            continue
        try:
            cleaned = attribute_value_clean(definition=definition, value=values.get(key))
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if errors:
        raise ValidationError(errors)
    return result


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
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise ValidationError(
            {"email": [_("This address is already a member of this community.")]},
            code="duplicate",
        ) from None
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


def member_lock(*, member_id: int) -> Member:
    """Take the member's row lock: the one place, so locks are always taken in one order.

    Balance checks and one-answer-per-member checks serialise on this row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("member_lock must run inside a transaction")
    return Member.objects.select_for_update().get(pk=member_id)


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


MEMBER_INVITATION_SALT = "chorus.member-invitation"
MEMBER_INVITATION_MAX_AGE = timedelta(days=30)


class MemberLinkError(Exception):
    """A member link that cannot be used: `reason` is "forged", "expired" or "used"."""

    def __init__(self, reason: str, member: Member | None = None):
        super().__init__(reason)
        self.reason = reason
        self.member = member


def member_invitation_token(*, member: Member) -> str:
    """The signed token in an invitation-to-join link (invite-only communities need one)."""
    return signing.dumps({"m": member.pk}, salt=MEMBER_INVITATION_SALT, compress=True)


def member_from_invitation(*, signed: str, community: Community) -> Member:
    """The invited member a link names, or MemberLinkError; the link must be for `community`."""
    try:
        payload = signing.loads(
            signed, salt=MEMBER_INVITATION_SALT, max_age=MEMBER_INVITATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise MemberLinkError("expired") from None
    except signing.BadSignature:
        raise MemberLinkError("forged") from None
    member = Member.objects.filter(pk=payload.get("m"), community=community).first()
    if member is None:
        raise MemberLinkError("forged")
    if member.status != MemberStatus.INVITED:
        raise MemberLinkError("used", member)
    return member
