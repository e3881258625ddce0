"""Rendering a staff email in the recipient's language and the organisation's time zone,
and writing it to the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from communities.models import Organisation, StaffRole, User
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_write


def staff_language(*, user: User, organisation: Organisation) -> str:
    """The language a staff member reads: their own (User.locale, set by the staff
    language switcher), else the organisation's."""
    return user.locale or organisation.default_language


def organisation_zone(organisation: Organisation) -> ZoneInfo:
    """The organisation's time zone. The settings form takes only IANA names; a bad one
    typed into the admin falls back to UTC rather than stop everyone's emails."""
    try:
        return ZoneInfo(organisation.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def manage_url(*, organisation: Organisation) -> str:
    return settings.SITE_URL + reverse("staff:notification_preferences", args=[organisation.slug])


def keys_written(keys: Iterable[str]) -> set[str]:
    """Which of these outbox keys already hold an email: what not to render again."""
    keys = list(keys)
    if not keys:
        return set()
    return set(
        OutboundEmail.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )


def staff_roles(*, organisation: Organisation, user_ids: Iterable[int]) -> dict[int, StaffRole]:
    """The roles these users still hold in the organisation (active accounts only): a
    recipient who left the organisation is emailed nothing about it."""
    roles = StaffRole.objects.for_organisation(organisation).filter(
        user_id__in=list(user_ids), user__is_active=True
    )
    return {role.user_id: role for role in roles.select_related("user")}


@transaction.atomic
def staff_email_write(
    *,
    organisation: Organisation,
    user: User,
    base: str,
    context: dict,
    record: dict,
    key: str,
) -> OutboundEmail | None:
    """Render templates/insights/emails/<base>_{subject.txt,body.txt,body.html} for this
    staff member and write it to the outbox under `key` (sent after commit; once per key;
    nothing for an address on the suppression list). `record` is what the outbox row
    keeps of the context: plain JSON, the ids the email is about."""
    language = staff_language(user=user, organisation=organisation)
    manage = manage_url(organisation=organisation)
    context = {**context, "organisation_name": organisation.name, "manage_url": manage}
    path = f"insights/emails/{base}"
    with translation.override(language), timezone.override(organisation_zone(organisation)):
        subject = render_to_string(f"{path}_subject.txt", context, using="text")
        text = render_to_string(f"{path}_body.txt", context, using="text")
        html = render_to_string(f"{path}_body.html", context)
    return outbox_write(
        idempotency_key=key,
        unless_suppressed=True,
        organisation=organisation,
        to_email=user.email,
        template=f"insights_{base}",
        context=record,
        language=language,
        subject=" ".join(subject.strip().splitlines())[:300],
        body_text=text,
        body_html=html,
        # RFC 2369: mail clients offer "unsubscribe" from it. Not RFC 8058's one-click
        # POST: these are staff emails, so the page behind it asks them to sign in.
        headers={"List-Unsubscribe": f"<{manage}>"},
    )
