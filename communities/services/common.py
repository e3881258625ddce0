"""What every area's services share: a save that turns a unique-constraint race into a
ValidationError, the one spelling of an address and of a language, and the member row lock.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from communities.models import Member


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


def member_lock(*, member_id: int) -> Member:
    """Take the member's row lock: the one place, so locks are always taken in one order.

    Balance checks and one-answer-per-member checks serialise on this row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("member_lock must run inside a transaction")
    return Member.objects.select_for_update().get(pk=member_id)


def language_clean(value: str, *, default: str) -> str:
    """One of settings.LANGUAGES, lower-cased; `default` when empty."""
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
