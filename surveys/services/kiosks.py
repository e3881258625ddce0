"""Kiosks: a store's tablet registered to a survey, and its walk-in answers."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.models import Location
from config.ratelimit import rate_limited, rate_refund
from surveys.choices import ChannelKind
from surveys.compiled import compiled_questions
from surveys.lookups import KioskCurrent
from surveys.models import Channel, Survey
from surveys.services.responses import SubmitResult, response_submit


class KioskRateLimited(Exception):
    pass


@transaction.atomic
def kiosk_register(*, survey: Survey, location: Location, idle_reset_seconds: int = 30) -> Channel:
    """A kiosk device for a store (not an archived one); its URL carries an unguessable,
    revocable token."""
    if location.organisation_id != survey.organisation_id:
        raise ValidationError({"location": [_("Choose one of your locations.")]})
    # Locked, so a store archived at the same moment does not get its kiosk anyway.
    location = Location.objects.select_for_update().get(pk=location.pk)
    if location.archived_at is not None:
        raise ValidationError(
            {"location": [_("This store is archived; bring it back before adding a kiosk.")]},
            code="archived",
        )
    if not 5 <= idle_reset_seconds <= 600:
        raise ValidationError(
            {"idle_reset_seconds": [_("Reset after 5 to 600 seconds of no use.")]}
        )
    return Channel.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        kind=ChannelKind.KIOSK,
        location=location,
        idle_reset_seconds=idle_reset_seconds,
        device_token=secrets.token_urlsafe(32),
    )


@transaction.atomic
def kiosk_revoke(*, channel: Channel) -> Channel:
    channel.active = False
    channel.save(update_fields=["active", "updated_at"])
    return channel


def kiosk_submit(
    *,
    channel: Channel,
    raw_answers: Mapping[str, Any],
    idempotency_key: str,
    language: str,
    current: KioskCurrent | None = None,
) -> SubmitResult:
    """Store a walk-in customer's answers: anonymous, tagged with the store and channel.

    A replay of a queued answer (same key) returns the stored one and is not counted
    against the device's rate: the rate is taken once the answer is known to be new,
    inside the transaction, so a refused one leaves nothing behind; or, where the answer is
    one statement of its own, before it and given back when nothing was stored.

    `current`: `channel` is the process's copy (surveys.lookups.kiosk_kept); see
    response_submit, which raises StaleCopy for any outcome the copy cannot vouch for.
    """
    scope = {"scope": "kiosk", "key": str(channel.pk)}

    def admit() -> None:
        if rate_limited(**scope, limit=settings.CHORUS["KIOSK_RATE_PER_MINUTE"]):
            raise KioskRateLimited

    return response_submit(
        survey=channel.survey,
        raw_answers=raw_answers,
        idempotency_key=idempotency_key,
        language=language,
        channel=channel,
        location=channel.location,
        questions=compiled_questions(survey=channel.survey),
        admit=admit,
        refund=lambda: rate_refund(**scope),
        current=current,
    )
