import codecs
import csv
import datetime as dt
import hashlib
import io
import logging
import secrets
from collections.abc import Iterator, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Func, JSONField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.choices import (
    LIFECYCLE_STATUSES,
    AttributeKind,
    ConsentChannel,
    ConsentPurpose,
    ImportStatus,
    MemberStatus,
    Role,
)
from communities.models import (
    ApiToken,
    AttributeDefinition,
    Community,
    ConsentRecord,
    EmailSuppression,
    LifecycleSnapshot,
    Location,
    Member,
    MemberImport,
    Organisation,
    Segment,
    StaffInvitation,
    StaffRole,
    User,
)
from communities.selectors import member_filter_q
from config.queue import enqueue_on_commit

ATTRIBUTE_TEXT_LIMIT = 200


def unique_save(obj: Any, *, field: str, message: str) -> Any:
    """Save `obj`; a unique-constraint race becomes a ValidationError on `field`.

    The caller checks duplicates first for a friendly message; this is the last word
    when two requests pass that check at once.
    """
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({field: [message]}, code="duplicate") from None
    return obj


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
    unique_save(
        member, field="email", message=_("This address is already a member of this community.")
    )
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


# --- the member side: double opt-in, profile, consent ---------------------------------

MEMBER_CONFIRM_SALT = "chorus.member-confirm"
MEMBER_CONFIRM_MAX_AGE = timedelta(days=7)
# Statuses of someone who is in the community (confirmed and not gone).
MEMBER_CURRENT_STATUSES = (
    MemberStatus.NEW,
    MemberStatus.ACTIVE,
    MemberStatus.LAPSED,
    MemberStatus.CHURNED,
)


def member_confirm_token(*, member: Member, rejoin: bool = False, marketing: bool = False) -> str:
    """The signed token in a double opt-in link; it names the address it was sent to, so
    it dies with an erasure or an address change.

    A rejoin (someone who had left asks to come back) carries what they ticked, because
    their consent is only recorded once the link proves the address is theirs.
    """
    payload: dict[str, Any] = {"m": member.pk, "e": member.email}
    if rejoin:
        payload.update(r=1, k=int(marketing))
    return signing.dumps(payload, salt=MEMBER_CONFIRM_SALT, compress=True)


def member_from_confirm_link(*, signed: str, community: Community) -> tuple[Member, dict]:
    """(member, payload) a confirmation link names, or MemberLinkError.

    An expired link still names its member (the signature is good, only old), so the
    page can offer a new link; a link for another community is forged.
    """
    try:
        payload = signing.loads(signed, salt=MEMBER_CONFIRM_SALT, max_age=MEMBER_CONFIRM_MAX_AGE)
        expired = False
    except signing.SignatureExpired:
        payload = signing.loads(signed, salt=MEMBER_CONFIRM_SALT)
        expired = True
    except signing.BadSignature:
        raise MemberLinkError("forged") from None
    if not isinstance(payload, dict):
        raise MemberLinkError("forged")
    member = (
        Member.objects.select_related("community", "organisation")
        .filter(pk=payload.get("m"), community=community)
        .exclude(email="")
        .first()
    )
    if member is None or member.email != payload.get("e"):
        raise MemberLinkError("forged")
    if expired:
        raise MemberLinkError("expired", member)
    return member, payload


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

    A rejoin payload records the consent the person gave on the join page.
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
    member_user_link(member=member)
    return member


@transaction.atomic
def member_profile_update(
    *, member: Member, name: str, locale: str, attributes: Mapping[str, Any]
) -> Member:
    """A member's own changes to their profile; the address is not theirs to change here."""
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    member.attributes = attributes_clean(
        community=member.community, values=attributes, current=member.attributes
    )
    member.name = name
    member.locale = locale or member.locale
    member.full_clean(exclude=["user", "location", "referred_by", "community", "organisation"])
    member.save(update_fields=["name", "locale", "attributes", "updated_at"])
    return member


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
        member.status = MemberStatus.UNSUBSCRIBED
        member.save(update_fields=["status", "updated_at"])
    return record


# --- staff edits of one member -------------------------------------------------------------


def _language_clean(value: str, *, default: str) -> str:
    code = (value or "").strip().lower()
    if not code:
        return default
    if code not in {c for c, _name in settings.LANGUAGES}:
        raise ValidationError(
            _("Use one of the languages: %(codes)s.")
            % {"codes": ", ".join(c for c, _name in settings.LANGUAGES)},
            code="invalid_choice",
        )
    return code


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
        locale = _language_clean(locale, default=member.locale)
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


# --- segments --------------------------------------------------------------------------------

SEGMENT_DAYS_MAX = 3650
SEGMENT_SEARCH_MAX = 200


def _days_clean(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number of days."))
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(_("Enter a whole number of days."))
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Enter a whole number of days.")) from None
    if not 1 <= days <= SEGMENT_DAYS_MAX:
        raise ValidationError(_("Enter between 1 and %(max)d days.") % {"max": SEGMENT_DAYS_MAX})
    return days


def segment_filter_clean(
    *,
    community: Community,
    filter: Any,
    definitions: list[AttributeDefinition] | None = None,
) -> dict[str, Any]:
    """A member filter in its one stored form, checked against the community's attributes.

    Errors are keyed by where they are ("status", "attributes.city", …) so a form can
    put each next to its field. Empty parts are dropped: {} matches every member.
    """
    if not isinstance(filter, Mapping):
        raise ValidationError({"filter": [_("A filter is a set of conditions.")]})
    definitions = (
        definitions if definitions is not None else community_attributes(community=community)
    )
    by_key = {d.key: d for d in definitions}
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    known = {
        "status",
        "attributes",
        "active_within_days",
        "inactive_for_days",
        "joined_within_days",
        "search",
    }
    for key in set(filter) - known:
        errors[key] = [_("Not a condition members can be filtered by.")]

    statuses = filter.get("status") or []
    if isinstance(statuses, str):
        statuses = [statuses]
    if not isinstance(statuses, list | tuple):
        errors["status"] = [_("Choose statuses from the list.")]
    else:
        allowed = set(MemberStatus.values) - {MemberStatus.ERASED}
        bad = [str(s) for s in statuses if s not in allowed]
        if bad:
            errors["status"] = [_("Not a member status: %(values)s.") % {"values": ", ".join(bad)}]
        elif statuses:
            result["status"] = sorted(set(statuses), key=list(MemberStatus.values).index)

    attributes = filter.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        errors["attributes"] = [_("Attribute conditions must name attributes.")]
        attributes = {}
    cleaned_attributes: dict[str, dict[str, Any]] = {}
    for key, condition in attributes.items():
        where = f"attributes.{key}"
        definition = by_key.get(key)
        if definition is None:
            errors[where] = [_("This community has no attribute “%(key)s”.") % {"key": key}]
            continue
        if not isinstance(condition, Mapping):
            errors[where] = [_("Give a condition for this attribute.")]
            continue
        if definition.kind in (AttributeKind.NUMBER, AttributeKind.DATE):
            operators = {"gte", "lte"}
        elif definition.kind == AttributeKind.CHOICE:
            operators = {"in"}
        else:
            operators = {"in", "contains"}
        cleaned_condition: dict[str, Any] = {}
        for operator, value in condition.items():
            if operator not in operators:
                errors[where] = [_("“%(op)s” does not apply to this attribute.") % {"op": operator}]
                break
            try:
                if operator == "in":
                    values = value if isinstance(value, list | tuple) else [value]
                    options = [
                        attribute_value_clean(definition=definition, value=v) for v in values
                    ]
                    options = [v for v in options if v is not None]
                    if options:
                        cleaned_condition["in"] = list(dict.fromkeys(options))
                elif operator == "contains":
                    text = str(value or "").strip()
                    if len(text) > ATTRIBUTE_TEXT_LIMIT:
                        raise ValidationError(_("Keep this under 200 characters."))
                    if text:
                        cleaned_condition["contains"] = text
                else:
                    bound = attribute_value_clean(definition=definition, value=value)
                    if bound is not None:
                        cleaned_condition[operator] = bound
            except ValidationError as exc:
                errors[where] = exc.messages
                break
        low, high = cleaned_condition.get("gte"), cleaned_condition.get("lte")
        if low is not None and high is not None and low > high:
            errors[where] = [_("The lower bound is above the upper bound.")]
        if cleaned_condition and where not in errors:
            cleaned_attributes[key] = cleaned_condition
    if cleaned_attributes:
        result["attributes"] = cleaned_attributes

    for key in ("active_within_days", "inactive_for_days", "joined_within_days"):
        value = filter.get(key)
        if value in (None, ""):
            continue
        try:
            result[key] = _days_clean(value)
        except ValidationError as exc:
            errors[key] = exc.messages
    if (
        "active_within_days" in result
        and "inactive_for_days" in result
        and result["inactive_for_days"] >= result["active_within_days"]
    ):
        errors["inactive_for_days"] = [
            _("No one can be active in the last %(a)d days and inactive for %(i)d.")
            % {"a": result["active_within_days"], "i": result["inactive_for_days"]}
        ]

    search = filter.get("search")
    if search not in (None, ""):
        if not isinstance(search, str) or len(search.strip()) > SEGMENT_SEARCH_MAX:
            errors["search"] = [_("Search for at most 200 characters.")]
        elif search.strip():
            result["search"] = search.strip()
    if errors:
        raise ValidationError(errors)
    # The selector must accept whatever this returns.
    member_filter_q(result)
    return result


def _segment_name_clean(*, community: Community, name: str, exclude_pk: int | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the segment.")]})
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    clash = Segment.objects.filter(community=community, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {"name": [_("This community already has a segment with that name.")]},
            code="duplicate",
        )
    return name


def _segment_clean(
    *, community: Community, name: str, filter: Mapping[str, Any], pk: int | None
) -> tuple[str, dict[str, Any]]:
    """The name and filter, or one ValidationError with every problem of both."""
    errors: dict[str, list[str]] = {}
    cleaned_name, cleaned_filter = "", {}
    try:
        cleaned_name = _segment_name_clean(community=community, name=name, exclude_pk=pk)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        cleaned_filter = segment_filter_clean(community=community, filter=filter)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned_name, cleaned_filter


def _segment_save(segment: Segment) -> Segment:
    return unique_save(
        segment, field="name", message=_("This community already has a segment with that name.")
    )


@transaction.atomic
def segment_create(*, community: Community, name: str, filter: Mapping[str, Any]) -> Segment:
    """Save a named member filter for the community; names are unique per community."""
    name, cleaned = _segment_clean(community=community, name=name, filter=filter, pk=None)
    return _segment_save(
        Segment(
            organisation_id=community.organisation_id,
            community=community,
            name=name,
            filter=cleaned,
        )
    )


@transaction.atomic
def segment_update(*, segment: Segment, name: str, filter: Mapping[str, Any]) -> Segment:
    """Rename a segment or change its filter (validated as on create)."""
    segment.name, segment.filter = _segment_clean(
        community=segment.community, name=name, filter=filter, pk=segment.pk
    )
    return _segment_save(segment)


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a saved segment; its members are untouched."""
    segment.delete()


# --- CSV import of members -------------------------------------------------------------------
#
# Upload (a request: decode, check the header, save the text, enqueue) → check (a task: every
# row through the same rules as member_create, into a per-row report) → confirm (a request:
# one conditional update, enqueue) → commit (a task: every good row, re-checked, in one
# transaction or none).

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_ROWS = 100_000
# The report keeps this many entries; the count says how many there were in all.
IMPORT_ERRORS_KEPT = 20_000
IMPORT_BATCH = 1000
IMPORT_BASE_COLUMNS = ("email", "name", "phone", "language")
IMPORT_PHONE_MAX = 32
IMPORT_COMMIT_ATTEMPTS = 3


def member_import_progress_key(import_id: int) -> str:
    # The commit runs in one transaction, so progress written to its row would stay
    # invisible to the page until the end; the cache is seen at once by every process.
    return f"member-import:{import_id}:written"


def member_import_decode(*, data: bytes) -> str:
    """The uploaded bytes as text: UTF-8 with or without a BOM, anything else refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationError(
            _(
                "This file is saved as UTF-16 (Excel’s “Unicode Text”). Save it as "
                "“CSV UTF-8 (Comma delimited)” and upload it again."
            ),
            code="encoding",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _(
                "This file is not UTF-8 text (the first byte we could not read is number "
                "%(position)d). In Excel choose “CSV UTF-8 (Comma delimited)” when saving; "
                "Google Sheets and Numbers export UTF-8 already."
            )
            % {"position": exc.start + 1},
            code="encoding",
        ) from None
    if "\x00" in text:
        raise ValidationError(
            _("This is not a CSV file. Export the spreadsheet as CSV UTF-8."), code="format"
        )
    return text


def _import_delimiter(text: str) -> str:
    """Comma, or the semicolon or tab some spreadsheets write instead, read off the header."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))


def member_import_header(*, text: str) -> list[str]:
    """The column names (trimmed, lower-cased) or ValidationError: a header naming "email"."""
    reader = csv.reader(io.StringIO(text), delimiter=_import_delimiter(text))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    columns = [cell.strip().lower() for cell in header or []]
    if not any(columns):
        raise ValidationError(
            _("The file is empty. Its first row must name the columns, one of them “email”."),
            code="empty",
        )
    if "email" not in columns:
        raise ValidationError(
            _(
                "The first row must name the columns, and one must be called “email”. "
                "This file’s first row is: %(header)s"
            )
            % {"header": ", ".join(c for c in columns if c)[:300]},
            code="no_email",
        )
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise ValidationError(
                _("The column “%(column)s” appears twice.") % {"column": column},
                code="duplicate_column",
            )
        seen.add(column)
    return columns


def _error(row: int, column: str, value: Any, message: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": str(value)[:200], "message": str(message)}


class _ImportReader:
    """Reads an import's text row by row through the rules member_create applies.

    `header_errors` reports unknown columns (their cells are not imported); `rows()` yields
    (row number as a spreadsheet shows it, the member's fields or None, that row's errors).
    """

    def __init__(self, *, member_import: MemberImport) -> None:
        self.member_import = member_import
        self.community = member_import.community
        self.definitions = community_attributes(community=self.community)
        self.text = member_import.content
        self.columns = member_import_header(text=self.text)
        by_key = {d.key.lower(): d for d in self.definitions}
        self.attribute_columns: dict[int, AttributeDefinition] = {}
        self.header_errors: list[dict[str, Any]] = []
        for index, column in enumerate(self.columns):
            if column in IMPORT_BASE_COLUMNS or not column:
                continue
            if column in by_key:
                self.attribute_columns[index] = by_key[column]
            else:
                self.header_errors.append(
                    _error(
                        1,
                        column,
                        column,
                        _(
                            "This community has no attribute “%(column)s”, so this column "
                            "is not imported. Add the attribute to the community first, or "
                            "remove the column."
                        )
                        % {"column": column},
                    )
                )
        self.index = {c: i for i, c in enumerate(self.columns) if c in IMPORT_BASE_COLUMNS}
        self.default_language = self.community.organisation.default_language

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text), delimiter=_import_delimiter(self.text))
        next(reader)
        row = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                yield row, exc
                continue
            row += 1
            if not any(cell.strip() for cell in record):
                continue
            yield row, record

    def _cell(self, record: list[str], column: str) -> str:
        index = self.index.get(column)
        return record[index].strip() if index is not None and index < len(record) else ""

    def _check(self, row: int, record: list[str]) -> tuple[dict | None, list[dict]]:
        errors = []
        if len(record) > len(self.columns) and any(c.strip() for c in record[len(self.columns) :]):
            errors.append(
                _error(row, "", "", _("This row has more cells than the first row has columns."))
            )
        raw_email = self._cell(record, "email")
        email = ""
        if not raw_email:
            errors.append(_error(row, "email", "", _("The email address is missing.")))
        else:
            try:
                email = email_clean(raw_email)
            except ValidationError as exc:
                errors.append(_error(row, "email", raw_email, exc.messages[0]))
        name = self._cell(record, "name")
        if len(name) > 200:
            errors.append(_error(row, "name", name, _("Keep the name under 200 characters.")))
        phone = self._cell(record, "phone")
        if len(phone) > IMPORT_PHONE_MAX:
            errors.append(
                _error(row, "phone", phone, _("Keep the phone number under 32 characters."))
            )
        language = self._cell(record, "language")
        try:
            language = _language_clean(language, default=self.default_language)
        except ValidationError as exc:
            errors.append(_error(row, "language", language, exc.messages[0]))
        values = {
            definition.key: (record[index] if index < len(record) else "")
            for index, definition in self.attribute_columns.items()
        }
        attributes = {}
        try:
            attributes = attributes_clean(
                community=self.community, values=values, definitions=self.definitions
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.append(_error(row, key, values.get(key, ""), messages[0]))
        if errors:
            return None, errors
        return {
            "email": email,
            "name": name,
            "phone": phone,
            "locale": language,
            "attributes": attributes,
        }, []

    def chunks(self) -> Iterator[list[tuple[int, dict | None, list[dict]]]]:
        """Rows in chunks of IMPORT_BATCH, each also checked against the file's earlier rows
        and against the community's members (one query per chunk)."""
        first_row: dict[str, int] = {}
        chunk: list[tuple[int, dict | None, list[dict]]] = []
        for row, record in self._records():
            if isinstance(record, csv.Error):
                chunk.append(
                    (row, None, [_error(row, "", "", _("This row is not valid CSV: %s") % record)])
                )
            else:
                fields, errors = self._check(row, record)
                if fields is not None:
                    earlier = first_row.setdefault(fields["email"], row)
                    if earlier != row:
                        fields, errors = (
                            None,
                            [
                                _error(
                                    row,
                                    "email",
                                    fields["email"],
                                    _(
                                        "This address is also on row %(row)d; only that "
                                        "row is imported."
                                    )
                                    % {"row": earlier},
                                )
                            ],
                        )
                chunk.append((row, fields, errors))
            if len(chunk) >= IMPORT_BATCH:
                yield self._against_members(chunk)
                chunk = []
        if chunk:
            yield self._against_members(chunk)

    def _against_members(self, chunk):
        emails = [fields["email"] for _row, fields, _errors in chunk if fields is not None]
        existing = set(
            Member.objects.filter(community=self.community, email__in=emails).values_list(
                "email", flat=True
            )
        )
        checked = []
        for row, fields, errors in chunk:
            if fields is not None and fields["email"] in existing:
                fields, errors = (
                    None,
                    [
                        _error(
                            row,
                            "email",
                            fields["email"],
                            _("This address is already a member of this community."),
                        )
                    ],
                )
            checked.append((row, fields, errors))
        return checked


@transaction.atomic
def member_import_create(
    *,
    community: Community,
    filename: str,
    data: bytes,
    consent_confirmed: bool,
    created_by: User | None = None,
) -> MemberImport:
    """Save an uploaded CSV and queue its check; the request does no row work.

    Refuses a file over IMPORT_MAX_BYTES, not UTF-8, or without a header naming "email",
    and an upload whose importer did not confirm these people agreed to join.
    """
    errors: dict[str, list[str]] = {}
    if not consent_confirmed:
        errors["consent_confirmed"] = [
            _("Confirm that these people agreed to join and to the community terms.")
        ]
    text = ""
    if len(data) > IMPORT_MAX_BYTES:
        errors["file"] = [
            _("The file is larger than %(mb)d MB. Split it and upload the parts.")
            % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)}
        ]
    else:
        try:
            text = member_import_decode(data=data)
            member_import_header(text=text)
        except ValidationError as exc:
            errors["file"] = exc.messages
    if errors:
        raise ValidationError(errors)
    member_import = MemberImport.objects.create(
        organisation_id=community.organisation_id,
        community=community,
        created_by=created_by,
        filename=(filename or "")[:255],
        content=text,
        consent_confirmed=True,
        status=ImportStatus.CHECKING,
        # An estimate for the progress bar (a quoted cell may span lines); the check
        # replaces it with the true count.
        total_rows=max(text.rstrip("\r\n").count("\n"), 0),
    )
    from communities.tasks import member_import_check_task

    enqueue_on_commit(member_import_check_task, import_id=member_import.pk)
    return member_import


def member_import_check(*, import_id: int) -> str:
    """Check every row of an import into its report and counts; safe to run twice.

    Progress goes to the row in short separate writes (no surrounding transaction), so the
    import page sees it while the check runs.
    """
    member_import = (
        MemberImport.objects.select_related("community__organisation").filter(pk=import_id).first()
    )
    if member_import is None or member_import.status != ImportStatus.CHECKING:
        return "skipped"
    try:
        reader = _ImportReader(member_import=member_import)
    except ValidationError as exc:
        MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
            status=ImportStatus.FAILED, message=" ".join(exc.messages), finished_at=timezone.now()
        )
        return ImportStatus.FAILED
    errors = list(reader.header_errors)
    error_count, total, valid = len(errors), 0, 0
    for chunk in reader.chunks():
        for _row, fields, row_errors in chunk:
            total += 1
            valid += fields is not None
            error_count += len(row_errors)
            errors.extend(row_errors[: max(0, IMPORT_ERRORS_KEPT - len(errors))])
        if total > IMPORT_MAX_ROWS:
            MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
                status=ImportStatus.FAILED,
                message=_("The file has more than %(max)d rows. Split it and upload the parts.")
                % {"max": IMPORT_MAX_ROWS},
                processed_rows=total,
                finished_at=timezone.now(),
            )
            return ImportStatus.FAILED
        MemberImport.objects.filter(pk=import_id).update(processed_rows=total)
    MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
        status=ImportStatus.PREVIEWED,
        total_rows=total,
        valid_rows=valid,
        processed_rows=total,
        errors=errors,
        error_count=error_count,
    )
    return ImportStatus.PREVIEWED


def member_import_preview(*, member_import: MemberImport, limit: int = 20) -> list[dict]:
    """The first `limit` rows that passed the check, as they would be imported."""
    bad_rows = {error["row"] for error in member_import.errors}
    preview = []
    reader = _ImportReader(member_import=member_import)
    for row, record in reader._records():
        if row in bad_rows or isinstance(record, csv.Error):
            continue
        fields, errors = reader._check(row, record)
        if fields is not None:
            preview.append({"row": row, **fields})
        if len(preview) >= limit:
            break
    return preview


@transaction.atomic
def member_import_confirm(*, member_import: MemberImport) -> bool:
    """Queue the commit of a checked import; a second confirm (a double click) does nothing.

    Returns whether this call queued it. A failed import may be confirmed again.
    """
    claimed = (
        MemberImport.objects.filter(
            pk=member_import.pk,
            status__in=[ImportStatus.PREVIEWED, ImportStatus.FAILED],
            valid_rows__gt=0,
        )
        .exclude(content="")
        .update(status=ImportStatus.QUEUED, message="")
    )
    if claimed:
        from communities.tasks import member_import_commit_task

        enqueue_on_commit(member_import_commit_task, import_id=member_import.pk)
    member_import.refresh_from_db()
    return bool(claimed)


def _import_write(member_import: MemberImport) -> tuple[int, list[dict]]:
    """Insert every row that still passes the check; returns (created, newly failed rows)."""
    community = member_import.community
    policy_version = community.policy_version
    earlier_bad = {error["row"] for error in member_import.errors}
    reader = _ImportReader(member_import=member_import)
    created, newly_failed = 0, []
    now = timezone.now()
    progress_key = member_import_progress_key(member_import.pk)
    for chunk in reader.chunks():
        members = []
        for row, fields, errors in chunk:
            if fields is None:
                if row not in earlier_bad:
                    newly_failed.extend(errors)
                continue
            members.append(
                Member(
                    organisation_id=community.organisation_id,
                    community=community,
                    email=fields["email"],
                    name=fields["name"],
                    phone=fields["phone"],
                    locale=fields["locale"],
                    attributes=fields["attributes"],
                    status=MemberStatus.NEW,
                    joined_at=now,
                    referral_code=referral_code_new(),
                    created_at=now,
                    updated_at=now,
                )
            )
        Member.objects.bulk_create(members)
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                organisation_id=community.organisation_id,
                member_id=member.pk,
                purpose=ConsentPurpose.COMMUNITY_TERMS,
                policy_version=policy_version,
                granted=True,
                recorded_at=now,
                channel=ConsentChannel.IMPORT,
            )
            for member in members
        )
        created += len(members)
        cache.set(progress_key, created, timeout=6 * 3600)
    return created, newly_failed


def member_import_commit(*, import_id: int) -> str:
    """Import every good row of a confirmed import in one transaction, or none.

    Rows are re-checked as they are written, so an address that joined since the check is
    skipped and reported, not imported twice. A second run finds the import done.
    """
    member_import = MemberImport.objects.filter(pk=import_id).first()
    if member_import is None:
        return "missing"
    if member_import.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return member_import.status
    # Seen by the page at once; the import itself commits with status done in one go.
    MemberImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    cache.set(member_import_progress_key(import_id), 0, timeout=6 * 3600)
    status = ImportStatus.FAILED
    for _attempt in range(IMPORT_COMMIT_ATTEMPTS):
        try:
            with transaction.atomic():
                locked = (
                    MemberImport.objects.select_for_update()
                    .select_related("community__organisation")
                    .get(pk=import_id)
                )
                if locked.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
                    return locked.status
                created, newly_failed = _import_write(locked)
                locked.status = status = ImportStatus.DONE
                locked.created_count = created
                locked.processed_rows = locked.total_rows
                locked.finished_at = timezone.now()
                if newly_failed:
                    locked.errors = (locked.errors + newly_failed)[:IMPORT_ERRORS_KEPT]
                    locked.error_count += len(newly_failed)
                    locked.message = _(
                        "%(n)d rows no longer passed the check when they were imported (an "
                        "address may have joined meanwhile) and were skipped; they are in the "
                        "report."
                    ) % {"n": len({e["row"] for e in newly_failed})}
                # The file held personal data; once imported it is not kept.
                locked.content = ""
                locked.save()
            break
        except IntegrityError:
            # Someone joined with an address from the file between our re-check and the
            # insert: nothing was written; the next attempt's re-check skips that row.
            logger.info("member import %s hit a concurrent join; retrying", import_id)
            continue
    else:
        MemberImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            message=_(
                "Nothing was imported: members kept joining with addresses from this file "
                "while it was importing. Confirm again to retry."
            ),
            finished_at=timezone.now(),
        )
    cache.delete(member_import_progress_key(import_id))
    return status


# --- organisations and staff -------------------------------------------------------------

STAFF_INVITATION_SALT = "chorus.staff-invitation"
STAFF_INVITATION_MAX_AGE = timedelta(days=7)
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


class StaffInvitationError(Exception):
    """A staff invitation link that cannot be used: `reason` is "forged", "expired",
    "revoked" or "used"."""

    def __init__(self, reason: str, invitation: StaffInvitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def _role_grant_check(*, actor_role: str, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose a role.")]}, code="invalid")
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError(
            {"role": [_("Only an owner can make someone an owner.")]}, code="owner_only"
        )


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
    return signing.dumps({"i": invitation.pk}, salt=STAFF_INVITATION_SALT, compress=True)


def staff_invitation_from_token(*, signed: str) -> StaffInvitation:
    """The open invitation a link names, or StaffInvitationError saying why not."""
    try:
        payload = signing.loads(
            signed, salt=STAFF_INVITATION_SALT, max_age=STAFF_INVITATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise StaffInvitationError("expired") from None
    except signing.BadSignature:
        raise StaffInvitationError("forged") from None
    pk = payload.get("i") if isinstance(payload, dict) else None
    invitation = (
        StaffInvitation.objects.select_related("organisation", "invited_by")
        .filter(pk=pk if isinstance(pk, int) else None)
        .first()
    )
    if invitation is None:
        raise StaffInvitationError("forged")
    if invitation.revoked_at is not None:
        raise StaffInvitationError("revoked", invitation)
    if invitation.accepted_at is not None:
        raise StaffInvitationError("used", invitation)
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
        raise StaffInvitationError("revoked", invitation)
    if invitation.accepted_at is not None:
        raise StaffInvitationError("used", invitation)
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


# --- communities ----------------------------------------------------------------------

COMMUNITY_FIELDS = (
    "name",
    "slug",
    "description",
    "join_mode",
    "consent_text",
    "privacy_policy_text",
    "logo",
    "brand_colour",
    "welcome_text",
    "new_days",
    "lapsed_days",
    "churned_days",
)
# The texts members consent to: changing either publishes a new policy version.
POLICY_FIELDS = ("consent_text", "privacy_policy_text")


def _community_validate(community: Community) -> None:
    errors: dict[str, list[str]] = {}
    if community.brand_colour:
        community.brand_colour = community.brand_colour.strip().lower()
    if community.lapsed_days and community.churned_days <= community.lapsed_days:
        errors["churned_days"] = [
            _("A member must count as lapsed before churned: make this more than %(days)d.")
            % {"days": community.lapsed_days}
        ]
    try:
        community.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            # The slug constraint's own text names the model's fields; say it plainly.
            if field == "__all__" and any("slug" in m.lower() for m in messages):
                errors.setdefault("slug", []).append(
                    _("Another community of this organisation already uses this address.")
                )
                continue
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def community_create(*, organisation: Organisation, **fields: Any) -> Community:
    """A new community of the organisation, validated; its policy starts at version 1."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community(organisation=organisation, **fields)
    community.policy_published_at = timezone.now()
    _community_validate(community)
    return _community_save(community)


def _community_save(community: Community) -> Community:
    return unique_save(
        community,
        field="slug",
        message=_("Another community of this organisation already uses this address."),
    )


@transaction.atomic
def community_update(*, community: Community, **fields: Any) -> Community:
    """Save changes to a community. Changing the consent or privacy text publishes a new
    policy version, which members are asked to accept at their next visit."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community.objects.select_for_update().get(pk=community.pk)
    policy_changed = any(
        field in fields and (fields[field] or "") != getattr(community, field)
        for field in POLICY_FIELDS
    )
    for field, value in fields.items():
        setattr(community, field, value)
    if policy_changed:
        community.policy_version += 1
        community.policy_published_at = timezone.now()
    _community_validate(community)
    return _community_save(community)


# --- custom attributes ------------------------------------------------------------------

ATTRIBUTE_LANGUAGES = ("en", "th", "he", "ja")
ATTRIBUTE_LABEL_LIMIT = 100
ATTRIBUTE_OPTION_LIMIT = 100


def _attribute_label_clean(label: Mapping[str, Any]) -> dict[str, str]:
    clean = {}
    for language in ATTRIBUTE_LANGUAGES:
        text = str(label.get(language) or "").strip()
        if len(text) > ATTRIBUTE_LABEL_LIMIT:
            raise ValidationError(
                {
                    "label": [
                        _("Keep labels under %(limit)d characters.")
                        % {"limit": ATTRIBUTE_LABEL_LIMIT}
                    ]
                }
            )
        if text:
            clean[language] = text
    if "en" not in clean:
        raise ValidationError({"label": [_("Give the attribute an English label.")]})
    return clean


def _attribute_options_clean(*, kind: str, options: Any) -> list[dict[str, Any]]:
    if kind != AttributeKind.CHOICE:
        return []
    if not isinstance(options, list):
        raise ValidationError({"options": [_("List the options.")]})
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, Mapping):
            raise ValidationError({"options": [_("List the options.")]})
        value = str(option.get("value") or "").strip()
        if not value or len(value) > ATTRIBUTE_LABEL_LIMIT:
            raise ValidationError(
                {
                    "options": [
                        _("Each option needs a value of at most %(limit)d characters.")
                        % {"limit": ATTRIBUTE_LABEL_LIMIT}
                    ]
                }
            )
        if value in seen:
            raise ValidationError(
                {"options": [_("The option “%(value)s” is listed twice.") % {"value": value}]}
            )
        seen.add(value)
        try:
            label = _attribute_label_clean(option.get("label") or {"en": value})
        except ValidationError as exc:
            raise ValidationError({"options": exc.message_dict["label"]}) from None
        clean.append({"value": value, "label": label})
    if len(clean) < 2:
        raise ValidationError({"options": [_("A single choice needs at least two options.")]})
    if len(clean) > ATTRIBUTE_OPTION_LIMIT:
        raise ValidationError(
            {"options": [_("At most %(limit)d options.") % {"limit": ATTRIBUTE_OPTION_LIMIT}]}
        )
    return clean


def attribute_value_counts(*, definition: AttributeDefinition) -> dict[str, int]:
    """How many members hold each stored value of the attribute (one GROUP BY)."""
    rows = (
        Member.objects.filter(community_id=definition.community_id)
        .filter(attributes__has_key=definition.key)
        .annotate(value=KeyTextTransform(definition.key, "attributes"))
        .values_list("value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {str(value): n for value, n in rows}


def attribute_member_count(*, definition: AttributeDefinition) -> int:
    """How many members hold a value for the attribute."""
    return Member.objects.filter(
        community_id=definition.community_id, attributes__has_key=definition.key
    ).count()


@transaction.atomic
def attribute_create(
    *,
    community: Community,
    key: str,
    label: Mapping[str, Any],
    kind: str,
    options: list[dict[str, Any]] | None = None,
    required: bool = False,
    ask_on_join: bool = False,
    position: int = 0,
) -> AttributeDefinition:
    """A new custom attribute of the community, validated."""
    definition = AttributeDefinition(
        organisation_id=community.organisation_id,
        community=community,
        key=(key or "").strip().lower(),
        kind=kind,
        required=required,
        ask_on_join=ask_on_join,
        position=position,
    )
    definition.label = _attribute_label_clean(label)
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": [_("Choose a kind.")]})
    definition.options = _attribute_options_clean(kind=kind, options=options or [])
    duplicate = ValidationError(
        {"key": [_("This community already has an attribute with this key.")]},
        code="duplicate",
    )
    if AttributeDefinition.objects.filter(community=community, key=definition.key).exists():
        raise duplicate
    definition.full_clean(exclude=["community", "organisation"])
    try:
        with transaction.atomic():
            definition.save()
    except IntegrityError:
        raise duplicate from None
    return definition


@transaction.atomic
def attribute_update(
    *,
    definition: AttributeDefinition,
    label: Mapping[str, Any],
    kind: str | None = None,
    options: list[dict[str, Any]] | None = None,
    required: bool = False,
    ask_on_join: bool = False,
    position: int = 0,
) -> AttributeDefinition:
    """Change an attribute. Its key stays; its kind changes only while no member holds a
    value; an option still chosen by members cannot be removed (the count is given)."""
    definition = AttributeDefinition.objects.select_for_update().get(pk=definition.pk)
    kind = kind or definition.kind
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": [_("Choose a kind.")]})
    if kind != definition.kind:
        held = attribute_member_count(definition=definition)
        if held:
            raise ValidationError(
                {
                    "kind": [
                        ngettext(
                            "%(count)d member has a value for this attribute; "
                            "its kind cannot change.",
                            "%(count)d members have a value for this attribute; "
                            "its kind cannot change.",
                            held,
                        )
                        % {"count": held}
                    ]
                },
                code="in_use",
            )
    label = _attribute_label_clean(label)
    options = _attribute_options_clean(kind=kind, options=options or [])
    if kind == AttributeKind.CHOICE and definition.kind == AttributeKind.CHOICE:
        kept = {option["value"] for option in options}
        counts = attribute_value_counts(definition=definition)
        orphaned = {value: n for value, n in counts.items() if value not in kept}
        if orphaned:
            raise ValidationError(
                {
                    "options": [
                        ngettext(
                            "%(count)d member chose “%(value)s”; keep that option or "
                            "change their answer first.",
                            "%(count)d members chose “%(value)s”; keep that option or "
                            "change their answers first.",
                            n,
                        )
                        % {"count": n, "value": value}
                        for value, n in sorted(orphaned.items())
                    ]
                },
                code="in_use",
            )
    definition.label = label
    definition.kind = kind
    definition.options = options
    definition.required = required
    definition.ask_on_join = ask_on_join
    definition.position = position
    definition.full_clean(exclude=["community", "organisation"])
    definition.save()
    return definition


class JSONRemoveKey(Func):
    """`attributes` without one top-level key, in one SQL expression (no row loop)."""

    output_field = JSONField()

    def __init__(self, expression: Any, key: str):
        super().__init__(expression)
        self.key = key

    def as_sql(self, compiler, connection, **extra_context):
        # SQLite, MySQL and MariaDB share JSON_REMOVE with a JSON path.
        sql, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key.replace('"', "") + '"'
        return f"json_remove({sql}, %s)", (*params, path)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - %s)", (*params, self.key)


@transaction.atomic
def attribute_delete(*, definition: AttributeDefinition) -> int:
    """Delete an attribute and its values from every member (one UPDATE), and drop it from
    segment filters that named it. Returns how many members held a value."""
    key = definition.key
    cleared = Member.objects.filter(
        community_id=definition.community_id, attributes__has_key=key
    ).update(attributes=JSONRemoveKey("attributes", key), updated_at=timezone.now())
    for segment in Segment.objects.filter(community_id=definition.community_id):
        conditions = (segment.filter or {}).get("attributes")
        if isinstance(conditions, dict) and key in conditions:
            del conditions[key]
            segment.save(update_fields=["filter", "updated_at"])
    definition.delete()
    return cleared


# --- lifecycle --------------------------------------------------------------------------


def _active_since(cutoff: dt.datetime) -> Q:
    """Members whose last activity (last active, else joined, else created) is at or after
    `cutoff`; written without COALESCE so the (community, last_active_at) index serves."""
    return (
        Q(last_active_at__gte=cutoff)
        | Q(last_active_at__isnull=True, joined_at__gte=cutoff)
        | Q(last_active_at__isnull=True, joined_at__isnull=True, created_at__gte=cutoff)
    )


def members_lifecycle_refresh(*, now: dt.datetime | None = None) -> int:
    """Set each member's lifecycle status (new, active, lapsed, churned) from their last
    activity and the community's thresholds, then write today's snapshot of the counts.

    Only members in a lifecycle status move (pending, invited, unsubscribed and erased
    are never touched). A few UPDATEs per community, each writing only the rows that
    change; running twice in a day changes nothing. Returns how many members moved.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    moved = 0
    for community in Community.objects.order_by("pk").only(
        "pk", "organisation_id", "new_days", "lapsed_days", "churned_days"
    ):
        with transaction.atomic():
            lapsed_cutoff = now - timedelta(days=community.lapsed_days)
            churned_cutoff = now - timedelta(days=community.churned_days)
            new_cutoff = now - timedelta(days=community.new_days)
            members = Member.objects.filter(community=community, status__in=LIFECYCLE_STATUSES)
            recent = _active_since(lapsed_cutoff)
            is_new = Q(joined_at__gte=new_cutoff)
            moved += (
                members.exclude(_active_since(churned_cutoff))
                .exclude(status=MemberStatus.CHURNED)
                .update(status=MemberStatus.CHURNED, updated_at=now)
            )
            moved += (
                members.filter(_active_since(churned_cutoff))
                .exclude(recent)
                .exclude(status=MemberStatus.LAPSED)
                .update(status=MemberStatus.LAPSED, updated_at=now)
            )
            moved += (
                members.filter(recent & is_new)
                .exclude(status=MemberStatus.NEW)
                .update(status=MemberStatus.NEW, updated_at=now)
            )
            moved += (
                members.filter(recent)
                .exclude(is_new)
                .exclude(status=MemberStatus.ACTIVE)
                .update(status=MemberStatus.ACTIVE, updated_at=now)
            )
            counts = dict(
                Member.objects.filter(community=community)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            )
            LifecycleSnapshot.objects.update_or_create(
                community=community,
                day=today,
                defaults={"organisation_id": community.organisation_id, "counts": counts},
            )
    return moved


def member_activity_touch(*, member_id: int, at: dt.datetime) -> None:
    """Note that the member was active at `at` (one UPDATE; it never moves backwards).

    A lapsed or churned member who comes back counts as active again at once, rather
    than waiting for the nightly lifecycle run.
    """
    Member.objects.filter(
        Q(last_active_at__lt=at) | Q(last_active_at__isnull=True), pk=member_id
    ).update(
        last_active_at=at,
        status=Case(
            When(
                status__in=(MemberStatus.LAPSED, MemberStatus.CHURNED),
                then=Value(MemberStatus.ACTIVE),
            ),
            default=F("status"),
        ),
    )


UNCONFIRMED_JOIN_KEPT = timedelta(days=30)
IMPORT_PREVIEW_KEPT = timedelta(days=7)


@transaction.atomic
def personal_data_expire(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Forget what was collected for something that never happened.

    A join never confirmed within UNCONFIRMED_JOIN_KEPT is deleted with its consent
    rows (the person never became a member; a resent link lives 7 days, so 30 leaves
    room). A checked import nobody confirmed within IMPORT_PREVIEW_KEPT loses its file
    and error report, which hold other people's addresses. Safe to run twice.
    """
    now = now or timezone.now()
    _total, per_model = Member.objects.filter(
        status=MemberStatus.PENDING, created_at__lt=now - UNCONFIRMED_JOIN_KEPT
    ).delete()
    imports = (
        MemberImport.objects.filter(
            status=ImportStatus.PREVIEWED, created_at__lt=now - IMPORT_PREVIEW_KEPT
        )
        .exclude(content="", errors=[])
        .update(
            content="",
            errors=[],
            status=ImportStatus.FAILED,
            message=_("Not confirmed within 7 days: the file was deleted. Upload it again."),
            finished_at=now,
        )
    )
    return {"members": per_model.get(Member._meta.label, 0), "imports": imports}
