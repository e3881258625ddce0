import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose
from communities.models import ApiToken, ConsentRecord, Member, Organisation


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
